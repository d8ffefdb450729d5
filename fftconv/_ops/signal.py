"""scipy.signal's entry points on fftconv's engine: :func:`convolve` and :func:`correlate`.

They take what :func:`scipy.signal.convolve`, :func:`~scipy.signal.correlate`,
:func:`~scipy.signal.fftconvolve` and :func:`~scipy.signal.oaconvolve` take and
return what they return, and run on the engine of :func:`fftconv.conv1d`,
``conv2d`` and ``conv3d``: the axes that are convolved become its spatial
axes, the broadcast axes its batch and channels, so its planner sees the real
problem (:mod:`fftconv._shapes.signal_layout` has the arithmetic). Where scipy's
functions disagree among themselves, :doc:`/scipy` says which one is followed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os

import numpy as np

from fftconv._engine import planner
from fftconv import _checks
from fftconv._engine import complex as _complex
from fftconv._engine import constants as _constants
from fftconv._engine import guards as _guards
from fftconv._ops import nan as _nan
from fftconv._runtime.arrays import owned
from fftconv._shapes.signal_layout import layout as _layout
from fftconv.backends import available_backends

__all__ = ["convolve", "correlate"]

_NAMES = ("in1", "in2")
_FORMATS = {1: "NWC", 2: "NHWC", 3: "NDHWC"}


def convolve(in1, in2, mode="full", method="auto", axes=None, nan_treatment="propagate", *, fill_value=0.0,
             padding_mode="constant", workers=None, backend="auto", measure=False):
    """Convolve two N-D arrays: :func:`scipy.signal.convolve` and :func:`~scipy.signal.fftconvolve`, planned.

    Parameters
    ----------
    in1 : array_like
        The first input (the data, for ``nan_treatment`` and ``padding_mode``).
    in2 : array_like
        The second input, with as many dimensions as ``in1``.
    mode : {"full", "same", "valid"}
        scipy's modes: the full convolution; the ``in1.shape`` outputs at its centre
        (for an even kernel the extra output is on the left, scipy's centring, not
        TensorFlow's SAME); or only the outputs where one input covers the other
        (which then must be at least as large as the other along every axis).
    method : {"auto", "direct", "fft"}
        fftconv's methods (see :doc:`/auto`); ``"auto"`` plans the problem with its
        batch and channels, not as scipy's :func:`~scipy.signal.choose_conv_method`.
    axes : int or sequence of int, optional
        The axes to convolve (at most 3 with more than one sample in both inputs),
        as :func:`scipy.signal.fftconvolve`'s: along the others the inputs must have
        equal sizes or size 1, and are broadcast. ``None`` (default): every axis.
    nan_treatment : {"propagate", "fill", "interpolate"}
        What NaN and Inf in ``in1`` do: stay local (an output is NaN only if its
        window holds one), count as ``fill_value``, or be interpolated over by
        normalised convolution (:mod:`fftconv._ops.nan`).
    fill_value : number
        The value of NaN and Inf for ``nan_treatment="fill"``.
    padding_mode : str
        What fills ``in1``'s pads in ``"full"`` and ``"same"`` (``"valid"`` has
        none): zeros, as scipy, or a mode of :func:`numpy.pad` (see :doc:`/boundaries`).
    workers, backend, measure
        As for :func:`fftconv.conv2d`.

    Returns
    -------
    ndarray
        Of ``numpy.result_type(in1, in2)``, as scipy's: integers and bools give exact
        integers (computed in float64, wrapped like scipy's direct method where they
        overflow the type; sums that could pass ``2**53`` run as limbs of the integers,
        exact for every integer type), float16 stays float16 (computed in float32). Two 0-d
        inputs give their product, as in scipy; an empty input gives an empty 1-D
        array whatever the other sizes, as :func:`~scipy.signal.fftconvolve` (``mode`` and
        ``axes`` are still checked).

    Raises
    ------
    ValueError
        Bad shapes or values, where scipy raises it too (the messages are fftconv's).
    TypeError
        Object, string or other non-numeric arrays; an ``axes`` that is not ints.

    See Also
    --------
    correlate, fftconv.conv2d

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> fftconv.convolve([1.0, 2.0, 3.0], [0.0, 1.0, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> fftconv.convolve([1.0, 2.0, 3.0], [0.0, 1.0, 0.5], mode="same")
    array([1. , 2.5, 4. ])
    >>> fftconv.convolve([1, 2, 3], [1, 1])                  # integers stay integers, as in scipy
    array([1, 3, 5, 3])

    A batch of images, each blurred by its own kernel (axis 0 is broadcast):

    >>> images, kernels = np.ones((3, 64, 64)), np.ones((3, 5, 5)) / 25
    >>> fftconv.convolve(images, kernels, mode="same", axes=(1, 2))[:, 32, 32]
    array([1., 1., 1.])

    NaN interpolated over by normalised convolution:

    >>> fftconv.convolve([1.0, np.nan, 3.0], [1.0, 1.0, 1.0], mode="same", nan_treatment="interpolate")
    array([1.5, 6. , 4.5])
    """
    return _signal_call(in1, in2, mode, method, axes, nan_treatment, fill_value, padding_mode, workers,
                        backend, measure, correlate=False)


def correlate(in1, in2, mode="full", method="auto", axes=None, nan_treatment="propagate", *, fill_value=0.0,
              padding_mode="constant", workers=None, backend="auto", measure=False):
    """Cross-correlate two N-D arrays: :func:`scipy.signal.correlate`, planned, with ``axes``.

    ``z[k] = sum_n in1[n + k - (len(in2) - 1)] * conj(in2[n])`` along each axis of
    ``axes`` in ``"full"`` mode: :func:`convolve` of ``in1`` with ``in2`` reversed
    along ``axes`` and conjugated. Axes not in ``axes`` are broadcast, never reversed.

    Parameters
    ----------
    in1, in2, mode, method, axes, nan_treatment, fill_value, padding_mode, workers, backend, measure
        As for :func:`convolve`. ``nan_treatment="interpolate"`` normalises by
        ``sum(conj(in2))``.

    Returns
    -------
    ndarray
        As for :func:`convolve`; :func:`scipy.signal.correlation_lags` gives the lag of each output.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> fftconv.correlate([0.0, 1.0, 2.0, 3.0], [1.0, 1.0])
    array([0., 1., 3., 5., 3.])
    >>> rng = np.random.default_rng(0)
    >>> template = rng.standard_normal(50)
    >>> signal = np.concatenate([rng.standard_normal(300), template, rng.standard_normal(300)])
    >>> int(np.argmax(fftconv.correlate(signal, template, mode="valid")))     # where it starts
    300
    """
    return _signal_call(in1, in2, mode, method, axes, nan_treatment, fill_value, padding_mode, workers,
                        backend, measure, correlate=True)


def _signal_call(in1, in2, mode, method, axes, nan_treatment, fill_value, padding_mode, workers, backend,
                 measure, correlate):
    """Check everything, then map onto the engine and run."""
    a = _checks.as_array(_NAMES[0], in1)
    b = _checks.as_array(_NAMES[1], in2)
    mode = _checks.check_signal_mode(mode)
    method = planner.check_method(method)
    # the defaults are recognised without the full checks: small calls are most of their cost
    if _is(nan_treatment, str, "propagate") and _is(fill_value, float, 0.0):
        treatment = "propagate"
    else:
        treatment, fill_value = _checks.check_nan_treatment(nan_treatment, fill_value)
    if not _is(padding_mode, str, "constant"):
        padding_mode = _checks.check_padding_mode(padding_mode)
    if workers is not None:
        _checks.check_workers(workers)
    if not _is(backend, str, "auto"):
        backend = _checks.check_backend(backend, available_backends())
    if measure is not False:
        measure = _checks.check_flag("measure", measure)
    if treatment == "fill":
        _checks.check_fill_fits(fill_value, a.dtype, _NAMES[0])
    if a.ndim == 0 and b.ndim == 0:
        return _scalar_product(a, b, correlate, treatment, fill_value)
    _checks.check_same_ndim(a.shape, b.shape, _NAMES)
    explicit = axes is not None
    axes = _checks.check_axes(axes, a.ndim)
    out_dtype = np.result_type(a.dtype, b.dtype)
    if a.size == 0 or b.size == 0:  # as scipy.signal.fftconvolve, whatever the other sizes
        return np.empty((0,), out_dtype)
    _checks.check_signal_shapes(a.shape, b.shape, axes, explicit, mode, _NAMES)
    spread = _repeated_axes(a.shape, b.shape, axes, mode, padding_mode)
    if spread:  # in1's one sample fills its own pads there: every output sums the whole kernel
        lengths = {axis: b.shape[axis] for axis in spread}
        y = _signal_call(a, _summed(b, spread, out_dtype), mode, method, axes, treatment, fill_value,
                         padding_mode, workers, backend, measure, correlate)
        y = _cast(y, out_dtype)
        return _spread(y, lengths) if mode == "full" else y
    if out_dtype.kind in "iu" and not _fits_float64(a, b, axes):
        if treatment == "interpolate":  # integers hold no NaN: only the kernel's sum is checked
            lay = _layout(a.shape, b.shape, axes, mode, padding_mode == "constant")
            _nan.check_normalisable(*_kernel_sums(b, lay, axes, correlate), _NAMES[1])
        return _in_limbs(a, b, axes, out_dtype, (mode, method, padding_mode, workers, backend, measure),
                         correlate)
    lay = _layout(a.shape, b.shape, axes, mode, padding_mode == "constant")
    if correlate:  # convolve with in2 reversed along `axes` (and conjugated, below)
        b = b[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(b.ndim))]
    sums = None
    if treatment == "interpolate":  # the kernel must be normalisable: checked before any work
        sums = _kernel_sums(b, lay, axes, correlate)
        _nan.check_normalisable(*sums, _NAMES[1])
    bad = _nan.nonfinite(a) if treatment != "propagate" else None
    if bad is not None and treatment == "fill":
        a, bad = np.where(bad, np.asarray(fill_value, a.dtype), a), None
    numpy_seconds = _numpy_loop_seconds(lay, a, b, mode, padding_mode) if bad is None and method == "auto" \
        else None
    if numpy_seconds is not None and numpy_seconds <= _engine_floor(os.environ.get(_constants.ENV_VAR)):
        return _numpy_loop(a, b, lay, mode, correlate, out_dtype)
    run = _Run(lay, (method, workers, measure, backend, padding_mode), correlate, b.dtype.kind == "c")
    if bad is None:
        return _plain(run, a, b, numpy_seconds, mode, correlate, out_dtype)
    centred = mode == "same" and all(b.shape[i] % 2 == 1 for i in axes)  # astropy's kernel centre: in1 itself
    y = _interpolated(run, a, b, bad, sums, math.prod(b.shape[i] for i in axes), (lambda: a) if centred else None)
    return _cast(y, out_dtype)


def _repeated_axes(shape1, shape2, axes, mode, padding_mode) -> tuple[int, ...]:
    """Axes of ``axes`` where ``in1`` has one sample, ``in2`` more, and pads that are not zeros.

    numpy.pad fills the pads of a one-sample axis with that sample in every mode but
    "constant", so along such an axis each output of "full" and "same" reads it under every
    tap: the result is ``in1`` times the kernel's sum there ("valid" has no pads; zero pads
    make the axis a broadcast, the layout's ``"in2"`` kind).

    Examples
    --------
    >>> _repeated_axes((1, 5), (3, 3), (0, 1), "same", "symmetric"), _repeated_axes((1, 5), (3, 3), (0, 1), "same", "constant")
    ((0,), ())
    """
    if padding_mode == "constant" or mode == "valid":
        return ()
    return tuple(axis for axis in axes if shape1[axis] == 1 and shape2[axis] > 1)


def _summed(b, axes, out_dtype):
    """``in2`` summed over ``axes`` (kept as length-1 axes): integers exactly, in 64 bits of the
    result's kind (wrapping as scipy's sums wrap in their own width), float16 in float32."""
    if b.dtype.kind in "iub":
        return b.sum(axis=axes, keepdims=True, dtype=np.uint64 if out_dtype.kind == "u" else np.int64)
    return b.sum(axis=axes, keepdims=True, dtype=np.float32 if b.dtype == np.float16 else b.dtype)


def _spread(y, lengths):
    """``y``, of length 1 along the axes of ``lengths``, repeated to those lengths (a new array)."""
    shape = list(y.shape)
    for axis, length in lengths.items():
        shape[axis] = length
    return np.array(np.broadcast_to(y, shape))


def _fits_float64(a, b, axes) -> bool:
    """Whether every exact sum of integer ``a`` and ``b`` stays below ``2**53`` (float64 holds it,
    so the engine's integer results are exact): ``max|a| * max|b| * terms < 2**53``."""
    terms = math.prod(min(a.shape[i], b.shape[i]) for i in axes)
    return _guards.magnitude(a) * _guards.magnitude(b) * terms < 2**53


def _in_limbs(a, b, axes, out_dtype, options, correlate):
    """Integer ``a`` and ``b`` whose sums may pass ``2**53``: the exact result modulo ``2**bits`` of
    ``out_dtype``, as scipy's integer sums give it, from convolutions of ``L``-bit limbs.

    With ``a = sum_i a_i 2**(L i)`` and ``b = sum_j b_j 2**(L j)`` (the two's-complement bits,
    limbs in ``[0, 2**L)``), ``conv(a, b) = sum_ij 2**(L (i + j)) conv(a_i, b_j)`` modulo
    ``2**bits``; ``L`` keeps each ``conv(a_i, b_j)`` below ``2**53`` with room for the FFT's
    rounding to be undone, and every pair runs in one call of the engine (the limbs of ``a``
    as a batch, those of ``b`` as more kernels).
    """
    mode, method, padding_mode, workers, backend, measure = options
    bits = out_dtype.itemsize * 8
    terms = math.prod(min(a.shape[i], b.shape[i]) for i in axes)
    points = math.prod(a.shape[i] + b.shape[i] for i in axes)
    limb = max(1, min((52 - terms.bit_length()) // 2, (44 - points.bit_length()) // 2, bits))
    count = -(-bits // limb)

    def limbs(v, first):
        u = v.astype(np.uint64)  # two's complement: v modulo 2**64, then each limb's bits
        parts = np.stack([(u >> np.uint64(limb * i)) & np.uint64(2**limb - 1) for i in range(count)])
        return parts.astype(np.int64).reshape((count, 1) + v.shape if first else (1, count) + v.shape)

    a_limbs = limbs(a, True)
    if mode == "same":  # "same" keeps in1's length along broadcast axes: pair the limbs as channels
        a_limbs = np.broadcast_to(a_limbs, (count, count) + a.shape)
    pairs = _signal_call(a_limbs, limbs(b, False), mode, method, tuple(i + 2 for i in axes),
                         "propagate", 0.0, padding_mode, workers, backend, measure, correlate)
    total = np.zeros(pairs.shape[2:], np.uint64)
    for i in range(count):
        for j in range(count - i):
            if limb * (i + j) < bits:
                total += pairs[i, j].astype(np.uint64) << np.uint64(limb * (i + j))
    return total.astype(out_dtype)


def _plain(run, a, b, numpy_seconds, mode, correlate, out_dtype):
    """One run of the engine (or numpy's loop, where the plan's estimate is slower)."""
    lay = run.lay
    x = run.input(b if lay.swapped else a)
    w = run.filters(a if lay.swapped else b)
    plan = run.plan(x, w)
    if numpy_seconds is not None and numpy_seconds < min(plan.estimates.values()):
        return _numpy_loop(a, b, lay, mode, correlate, out_dtype)  # the planner's third candidate
    y, _ = run.engine(x, w, plan)
    y = run.output(y)
    return _cast(y if y.flags.owndata else owned(y, y.dtype), out_dtype)


def _interpolated(run, a, b, bad, sums, taps, centre):
    """``nan_treatment="interpolate"`` (:mod:`fftconv._ops.nan`): ``conv(x0, k)`` and ``conv(1 - m, k)``
    with one plan, then normalised."""
    lay = run.lay
    x = run.input(b if lay.swapped else a)
    if lay.swapped:  # in1 is the filters: x0, then the mask, on the same input
        conv_x0, plan = run.engine(x, run.filters(np.where(bad, 0, a)))
        bad_w = run.filters(bad, conj=False)
        conv_bad, _ = run.engine(x, bad_w.astype(_complex.real_dtype(plan.dtype)))
        touched = np.broadcast_to(_nan.kernel_reach(bad_w, plan.geometry), conv_x0.shape)
    else:  # in1 is the input: x0 and the mask stacked along the batch, one run
        w = run.filters(b)
        bad_x = run.input(bad)
        n = x.shape[0]
        stack = np.empty((2 * n, *x.shape[1:]), _stacked_dtype(x.dtype, w.dtype))
        np.copyto(stack[:n], x, casting="unsafe")
        stack[:n][bad_x] = 0
        stack[n:] = bad_x
        both, plan = run.engine(stack, w)
        conv_x0, conv_bad = both[:n], both[n:]
        touched = _guards.window_any(bad_x, dataclasses.replace(plan.geometry, batch=n))  # never dilated
    return _nan.normalise(run.output(conv_x0), run.output(conv_bad), run.output(touched), *sums, taps,
                          _nan.is_signed(b), centre=centre)


def _is(value, kind, default) -> bool:
    """``value`` is exactly the default (a ``kind``, equal to it): nothing to check."""
    return type(value) is kind and value == default


class _Run:
    """Arrays in and out of the engine's layout for one :class:`~fftconv._shapes.signal_layout.SignalLayout`,
    and the engine's runs."""

    def __init__(self, lay, options, correlate, complex_in2):
        self.lay = lay
        self.nd = max(len(lay.conv_axes), 1)  # no convolution axis: one of length 1
        self.options = options  # method, workers, measure, backend, padding_mode
        self.names = _NAMES[::-1] if lay.swapped else _NAMES
        # correlate convolves with conj(in2) (reversed): in2 as the filters, they are conjugated;
        # in2 as the input, conj(full(conj x, conj w)) = full(x, w) conjugates in1 and the result
        self.conj_filters = correlate and (not lay.swapped or complex_in2)
        self.post_conj = correlate and lay.swapped and complex_in2

    def _index(self, shape, role):
        """Index of an operand: its crops along the convolution axes, its window along the other
        axes where it has more than one sample, 0 where it has one (the axis is dropped)."""
        lay, index = self.lay, []
        crops = iter(lay.x_crop if role == "x" else lay.w_crop)
        for axis, kind in enumerate(lay.kinds):
            if kind == "conv":
                index.append(slice(*next(crops)))
            elif shape[axis] == 1:
                index.append(0)
            else:
                start, length = lay.windows[axis]
                index.append(slice(start, start + length))
        return tuple(index)

    def _kept(self, order, shape):
        """Positions, after :meth:`_index`, of the axes in ``order``."""
        kept = [axis for axis, kind in enumerate(self.lay.kinds) if kind == "conv" or shape[axis] > 1]
        return [kept.index(axis) for axis in order]

    def input(self, x):
        """``(N, *spatial, C)``: batch axes, convolution axes, channel axes (a view where possible)."""
        lay = self.lay
        v = x[self._index(x.shape, "x")]
        v = v.transpose(self._kept(lay.batch_axes() + lay.conv_axes + lay.channel_axes(), x.shape))
        nb, nc = len(lay.batch_axes()), len(lay.conv_axes)
        spatial = v.shape[nb:nb + nc] or (1,)
        return v.reshape(math.prod(v.shape[:nb]), *spatial, math.prod(v.shape[nb + nc:]))

    def filters(self, w, conj=True):
        """``(*kernel, 1, C * M)``, input channel ``c`` feeding outputs ``c * M`` to ``c * M + M - 1``;
        conjugated where :func:`correlate` needs it (a copy; the engine copies its filters anyway)."""
        lay = self.lay
        v = w[self._index(w.shape, "w")]
        v = v.transpose(self._kept(lay.conv_axes + lay.channel_axes() + lay.multiplier_axes(), w.shape))
        v = v.reshape(*(v.shape[:len(lay.conv_axes)] or (1,)), 1, -1)
        return np.conj(v) if conj and self.conj_filters and v.dtype.kind == "c" else v

    def output(self, y):
        """The engine's ``(N, *out, C * M)`` in the caller's axis order: ``y`` itself (reshaped in
        place) when the axes need not move, else a view."""
        lay = self.lay
        order = lay.batch_axes() + lay.conv_axes + lay.channel_axes() + lay.multiplier_axes()
        moved = [axis for axis in order if lay.out_shape[axis] > 1]
        if moved == sorted(moved):
            return _reshaped(y, lay.out_shape)
        rest = [axis for axis in range(len(lay.kinds)) if axis not in order]
        v = y.reshape(*(lay.out_shape[axis] for axis in order), *([1] * len(rest)))
        return v.transpose(np.argsort((*order, *rest)))

    def plan(self, x, w):
        """The engine's plan for input ``x`` and filters ``w`` (in its layout)."""
        method, workers, measure, backend, padding_mode = self.options
        compute, _ = _checks.result_dtypes(x.dtype, w.dtype, self.names)
        return planner.check_and_plan(self.nd, x.shape, w.shape, compute=compute, strides=1,
                                      padding=self.lay.pads or ((0, 0),), data_format=_FORMATS[self.nd],
                                      dilations=1, groups=x.shape[-1], flip=True, method=method,
                                      workers=workers, measure=measure, backend=backend, names=self.names,
                                      padding_mode=padding_mode, embedding=_complex.embedding(x.dtype, w.dtype))

    def engine(self, x, w, plan=None):
        """Run the engine; NaN where non-finite filter taps meet the input; ``(y, plan)``."""
        plan = plan or self.plan(x, w)
        bad_w = _nan.nonfinite(w)
        if bad_w is not None:  # they reach only the outputs they meet (as input values do)
            w = np.where(bad_w, 0, w)
        y = plan._run_checked(x, w, self.names)
        if bad_w is not None:
            y[:, _nan.kernel_reach(bad_w, plan.geometry)] = np.nan
        if self.post_conj:
            np.conjugate(y, out=y)
        return y, plan


#: Seconds per output of numpy's own 1-D convolution loop, ``(fixed, per tap)``: for real kernels
#: of at most :data:`NUMPY_SHORT` taps, longer real ones, and complex ones. Fitted high on
#: ``numpy.convolve`` over 1e4-1e5 samples and 3-1001 taps, float32/float64/complex128 (the
#: development machine, numpy 2.4, 2026-11-30: 0.5 + 0.45 k, 25 + 0.15 k and 25 + 0.3 k ns).
NUMPY_LOOP_COST = {"short": (0.6e-9, 0.5e-9), "long": (30e-9, 0.2e-9), "complex": (30e-9, 0.4e-9)}
#: Kernels up to this length take numpy's short-kernel loop.
NUMPY_SHORT = 16


def _numpy_loop_seconds(lay, a, b, mode, padding_mode):
    """Predicted seconds of :func:`numpy.convolve` (scipy's own direct method for 1-D arrays) for
    this call, or None where it does not apply: more than one axis longer than 1, pads that are
    not zeros, float16 (numpy would sum in float16), or numpy's differently centred "same"."""
    if len(lay.conv_axes) != 1 or a.size * b.size != a.shape[lay.conv_axes[0]] * b.shape[lay.conv_axes[0]]:
        return None
    if (padding_mode != "constant" and mode != "valid") or np.dtype(np.float16) in (a.dtype, b.dtype):
        return None
    if mode == "same" and a.size < b.size:  # numpy's "same" is centred on the longer array
        return None
    taps = min(a.size, b.size)
    kind = "complex" if "c" in (a.dtype.kind, b.dtype.kind) else ("short" if taps <= NUMPY_SHORT else "long")
    fixed, per_tap = NUMPY_LOOP_COST[kind]
    return lay.out_shape[lay.conv_axes[0]] * (fixed + per_tap * taps)


@functools.lru_cache(maxsize=4)
def _engine_floor(calibration) -> float:
    """The engine's fixed seconds per call (the planner's ``call_overhead``), per calibration file
    setting: reading the constants costs more than a small call. Below it, numpy's loop runs
    without asking the planner."""
    return _constants.load_constants()["call_overhead"]


def _numpy_loop(a, b, lay, mode, correlate, out_dtype):
    """The whole call by :func:`numpy.convolve` or :func:`numpy.correlate` (``b`` is already
    reversed for :func:`correlate`: numpy's correlate takes it as given, and conjugates)."""
    a1, b1 = a.reshape(-1), b.reshape(-1)
    y = np.correlate(a1, b1[::-1], mode) if correlate else np.convolve(a1, b1, mode)
    return _cast(_reshaped(y, lay.out_shape), out_dtype)


def _stacked_dtype(x_dtype, w_dtype) -> np.dtype:
    """The x0-and-mask stack's dtype: the compute precision, complex only if ``x`` is."""
    compute = _checks.result_dtypes(x_dtype, w_dtype)[0]
    return compute if np.dtype(x_dtype).kind == "c" else _complex.real_dtype(compute)


def _kernel_sums(b, lay, axes, correlate):
    """``(sum(k), sum(|k|))`` over ``axes`` of the kernel each output uses (``in2``, conjugated for
    :func:`correlate`), with length-1 axes for ``axes``: they broadcast against the result."""
    index = tuple(slice(lay.windows[i][0], sum(lay.windows[i])) if i not in axes and lay.kinds[i] == "in2"
                  else slice(None) for i in range(b.ndim))
    k = b[index]
    bad = _nan.nonfinite(k)
    sums, abs_sums = _nan.kernel_sums(k if bad is None else np.where(bad, 0, k), axes)
    return (np.conj(sums) if correlate else sums), abs_sums


def _reshaped(y, shape):
    """``y`` with ``shape``, still owning its memory when it did (numpy reshapes a contiguous
    array in place); a view otherwise."""
    if y.shape == tuple(shape):
        return y
    if y.flags.c_contiguous and y.flags.owndata:
        try:
            y.shape = shape
            return y
        except (AttributeError, ValueError):  # a numpy that no longer allows it: a view
            pass
    return y.reshape(shape)


def _cast(y, dtype):
    """The result in scipy's dtype: integers wrap as the sums of scipy's direct method do, bools
    are ``!= 0``."""
    if y.dtype == dtype:
        return y
    if dtype.kind == "b":
        return y != 0
    if dtype.kind in "iu" and dtype.itemsize < 8:
        return y.astype(np.int64).astype(dtype)
    return y.astype(dtype)


def _scalar_product(a, b, correlate, treatment, fill_value):
    """Two 0-d inputs: their product, as scipy returns it (a numpy scalar)."""
    k = np.conj(b) if correlate and b.dtype.kind == "c" else b
    if treatment != "propagate" and a.dtype.kind in "fc" and not np.isfinite(a):
        if treatment == "interpolate":
            return (a * k)[()] * np.nan
        a = np.asarray(fill_value).astype(a.dtype)
    return a * k
