"""The public functions: check the arguments, plan, run.

Parameters shared by every function here
----------------------------------------
strides : int or sequence of int
    An int, or 1, ``nd`` or ``nd + 2`` ints (the last form in ``data_format``
    order, with 1 for batch and channels), as in TensorFlow.
padding : {"VALID", "SAME"}, int or sequence
    ``"VALID"``, ``"SAME"`` (TensorFlow's split: the odd pixel goes to the
    end), one int for every side, ``nd`` ``(before, after)`` pairs, ``nd`` ints
    (each for both sides of its axis), or TensorFlow's ``nd + 2`` pairs in
    ``data_format`` order. ``padding_mode`` says what fills the pads.
data_format : str
    ``"NHWC"`` or ``"NCHW"`` (2-D), ``"NWC"``/``"NCW"`` (1-D),
    ``"NDHWC"``/``"NCDHW"`` (3-D).
dilations : int or sequence of int
    Same forms as ``strides``; the kernel covers ``(k - 1) * d + 1`` samples.
groups : int, optional
    Channel groups; ``None`` infers ``C_in // filters.shape[-2]`` as TF does.
flip : bool
    ``False`` (default) computes cross-correlation, like TensorFlow; ``True``
    reverses the kernel for true convolution, like :func:`scipy.signal.convolve`.
    Complex filters are never conjugated (as in torch).
padding_mode : str
    How the pads that ``padding`` defines are filled: exactly as
    ``numpy.pad(input, pads, mode=padding_mode)`` fills them along the spatial
    axes, for any pad size. ``"constant"`` (default: zeros, as TensorFlow),
    ``"reflect"``, ``"symmetric"``, ``"wrap"``, ``"edge"``, or torch's names
    ``"zeros"``, ``"circular"`` (wrap) and ``"replicate"`` (edge). With
    ``padding="VALID"`` there are no pads and the mode changes nothing. See
    :doc:`boundaries` for pictures and other libraries' names.
method : {"auto", "direct", "fft"}
    ``"auto"`` runs whichever the planner predicts is faster.
workers : int, optional
    Threads for the transforms and for fftconv's own loops, the direct method's
    GEMM chunks included (BLAS runs on one thread inside a call): ``None`` is
    the :func:`set_workers` default
    (all CPUs), negative counts back from the CPU count.
measure : bool
    With ``method="auto"``, time both methods once for these shapes instead
    of trusting the cost model, and remember the winner for the rest of the
    process (like ``torch.backends.cudnn.benchmark``). A method predicted
    more than :data:`MEASURE_CUTOFF` times slower than the other is not timed.
    With ``backend="auto"`` the FFT method is timed on every available backend.
backend : {"auto", "scipy", "pyfftw", "ducc0"}
    FFT backend (those installed: :func:`fftconv.backends.available_backends`).
    ``"auto"`` uses :data:`fftconv.backends.DEFAULT_BACKEND` (ducc0 where
    installed, else scipy.fft: neither has a planning delay), unless
    ``fftconv calibrate`` found another backend, pyFFTW's included, at least
    10% faster on this machine (see
    :func:`fftconv.calibration.preferred_backend`); with ``measure=True``,
    whichever ran fastest for these shapes.
nan_treatment : {"propagate", "fill", "interpolate"}
    What NaN and Inf in ``input`` do: stay local (the default), count as
    ``fill_value``, or be interpolated over by normalised convolution,
    ``conv(x0, k) / conv(m, k) * sum(k)`` per output channel over the input
    channels of its group (:mod:`fftconv._ops.nan`).
fill_value : number
    The value of NaN and Inf with ``nan_treatment="fill"`` (default 0).
"""

from __future__ import annotations

import dataclasses

from collections import OrderedDict

import numpy as np

from fftconv import _checks
from fftconv._engine import complex as _complex
from fftconv._engine import planner
from fftconv._engine.plan import ConvPlan
from fftconv._ops import nan as _nan
from fftconv._runtime.threads import get_workers
from fftconv.backends import available_backends

__all__ = ["conv1d", "conv2d", "conv3d", "depthwise_conv2d", "plan_conv1d", "plan_conv2d",
           "plan_conv3d", "plan_depthwise_conv2d", "FilterBank"]

#: The argument names used in messages by the functions that take arrays, and by the planners.
_ARRAY_NAMES = ("input", "filters")
_SHAPE_NAMES = ("input_shape", "filters_shape")


# -- planning ----------------------------------------------------------------------

def plan_from_shapes(ndim, input_shape, filters_shape, strides, padding, data_format, dilations,
                 groups, flip, dtype, method, workers, measure, backend, names=_SHAPE_NAMES,
                 padding_mode="constant"):
    """The ``plan_*`` functions: shapes and a dtype, each named as the caller passed it.

    A complex ``dtype`` plans for complex inputs and filters (a real input or
    real filters, with the other complex, run through it too).
    """
    compute = _checks.plan_dtypes(dtype)[0]
    embedding = "both" if compute.kind == "c" else None
    return planner.check_and_plan(ndim, input_shape, filters_shape, compute=compute, strides=strides,
                                  padding=padding, data_format=data_format, dilations=dilations,
                                  groups=groups, flip=flip, method=method, workers=workers, measure=measure,
                                  backend=backend, names=names, padding_mode=padding_mode,
                                  embedding=embedding, input_dtype=dtype)


def plan_conv2d(input_shape, filters_shape, strides=1, padding="VALID", data_format="NHWC",
                dilations=1, *, groups=None, flip=False, padding_mode="constant", dtype="float32",
                method="auto", workers=None, measure=False, backend="auto") -> ConvPlan:
    """Plan a 2-D convolution from shapes alone.

    Parameters
    ----------
    input_shape : tuple of int
        ``(N, H, W, C_in)`` (or ``(N, C_in, H, W)`` for NCHW).
    filters_shape : tuple of int
        ``(kh, kw, C_in / groups, C_out)``.
    dtype : dtype
        Precision of the arrays the plan will run on; float16 and float32 plan
        a float32 computation, integers and float64 a float64 one, complex64
        and complex128 a complex one for complex inputs and filters (a real
        input or real filters, with the other complex, run through it too, as
        complex with a zero imaginary part; :func:`conv2d` picks a cheaper
        embedding when only one of them is complex).
    strides, padding, data_format, dilations, groups, flip, padding_mode, method, workers, measure, backend
        As for :func:`conv2d`.

    Returns
    -------
    ConvPlan
        Frozen and callable: ``plan(input, filters)``. ``plan.method`` says what
        will run, ``plan.estimates`` the predicted seconds of each method, and
        its repr explains the decision.

    Examples
    --------
    >>> import fftconv
    >>> plan = fftconv.plan_conv2d((4, 256, 256, 3), (31, 31, 3, 16))
    >>> plan.method
    'fft'
    >>> plan.output_shape
    (4, 226, 226, 16)
    """
    return plan_from_shapes(2, input_shape, filters_shape, strides, padding, data_format, dilations,
                        groups, flip, dtype, method, workers, measure, backend, padding_mode=padding_mode)


def plan_conv1d(input_shape, filters_shape, strides=1, padding="VALID", data_format="NWC",
                dilations=1, *, groups=None, flip=False, padding_mode="constant", dtype="float32",
                method="auto", workers=None, measure=False, backend="auto") -> ConvPlan:
    """Plan a 1-D convolution: input ``(N, W, C_in)``, filters ``(kw, C_in / groups, C_out)``.

    See :func:`plan_conv2d`.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.plan_conv1d((1, 100000, 1), (2001, 1, 1)).method
    'fft'
    """
    return plan_from_shapes(1, input_shape, filters_shape, strides, padding, data_format, dilations,
                        groups, flip, dtype, method, workers, measure, backend, padding_mode=padding_mode)


def plan_conv3d(input_shape, filters_shape, strides=1, padding="VALID", data_format="NDHWC",
                dilations=1, *, groups=None, flip=False, padding_mode="constant", dtype="float32",
                method="auto", workers=None, measure=False, backend="auto") -> ConvPlan:
    """Plan a 3-D convolution: input ``(N, D, H, W, C_in)``, filters ``(kd, kh, kw, C_in / groups, C_out)``.

    See :func:`plan_conv2d`.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.plan_conv3d((1, 16, 16, 16, 2), (3, 3, 3, 2, 4), padding="SAME").output_shape
    (1, 16, 16, 16, 4)
    """
    return plan_from_shapes(3, input_shape, filters_shape, strides, padding, data_format, dilations,
                        groups, flip, dtype, method, workers, measure, backend, padding_mode=padding_mode)


def plan_depthwise_conv2d(input_shape, filter_shape, strides=1, padding="VALID",
                          data_format="NHWC", dilations=1, *, flip=False, padding_mode="constant",
                          dtype="float32", method="auto", workers=None, measure=False,
                          backend="auto") -> ConvPlan:
    """Plan a depthwise convolution with TF's ``(kh, kw, C, M)`` filter.

    The plan's ``filters_shape`` is the equivalent grouped one,
    ``(kh, kw, 1, C * M)``; the plan, and :meth:`~fftconv.ConvPlan.bind`, take
    filters of either shape (``depthwise_shape`` is the first).

    Examples
    --------
    >>> import fftconv
    >>> plan = fftconv.plan_depthwise_conv2d((1, 64, 64, 8), (31, 31, 8, 2))
    >>> plan.filters_shape, plan.depthwise_shape
    ((31, 31, 1, 16), (31, 31, 8, 2))
    >>> w = np.ones((31, 31, 8, 2), np.float32)
    >>> plan.bind(w)(np.ones((1, 64, 64, 8), np.float32)).shape
    (1, 34, 34, 16)
    """
    names = ("input_shape", "filter_shape")
    hwio = _checks.check_depthwise_filter(filter_shape, name=names[1])
    channels = _checks.input_channels(input_shape, data_format, 2, name=names[0])
    _checks.check_depthwise_channels(channels, filter_shape, names)
    plan = plan_from_shapes(2, input_shape, hwio, strides, padding, data_format, dilations, channels,
                            flip, dtype, method, workers, measure, backend, names=names,
                            padding_mode=padding_mode)
    return dataclasses.replace(plan, depthwise_shape=tuple(int(v) for v in filter_shape))


# -- running -----------------------------------------------------------------------

#: Plans of recent calls, keyed on their raw arguments and the arrays' shapes and dtypes, so
#: that a repeated call finds its plan before any check runs (they all passed the first time).
_recent_calls: OrderedDict = OrderedDict()
_RECENT_CALLS = 256
_NO_KEY = object()


def _freeze(value):
    """A hashable stand-in for an argument, its type included (``1`` is not ``True`` here);
    ``_NO_KEY`` for what has none (the call then takes the checked path)."""
    kind = type(value)
    if kind in (int, str, bool, float) or value is None:
        return kind, value
    if kind in (tuple, list):
        parts = tuple(_freeze(v) for v in value)
        return _NO_KEY if _NO_KEY in parts else (tuple, parts)
    if isinstance(value, np.integer):
        return int, int(value)
    return _NO_KEY


_SCALARS = frozenset((int, str, bool, float, type(None)))


def _call_key(ndim, x, w, workers, options):
    types = tuple(map(type, options))
    if _SCALARS.issuperset(types):  # the usual call: plain scalars, keyed with their types
        frozen = (options, types)
    else:
        frozen = _freeze(options)
        if frozen is _NO_KEY:
            return None
    if workers is None:
        workers = get_workers()
    elif type(workers) is not int:
        return None
    return ndim, x.shape, x.dtype, w.shape, w.dtype, workers, frozen


def clear_recent_calls() -> None:
    """Forget the plans of recent calls (after the calibration changed)."""
    _recent_calls.clear()


def _convolve(ndim, input, filters, strides, padding, data_format, dilations, groups, flip,
              method, workers, measure, backend="auto", *, names=_ARRAY_NAMES, padding_mode="constant",
              nan_treatment="propagate", fill_value=0.0):
    x = input if type(input) is np.ndarray else _checks.as_array(names[0], input)
    w = filters if type(filters) is np.ndarray else _checks.as_array(names[1], filters)
    key = None if measure is not False else _call_key(
        ndim, x, w, workers, (strides, padding, data_format, dilations, groups, flip, method, backend,
                              padding_mode, nan_treatment, fill_value, *names))
    hit = _recent_calls.get(key) if key is not None else None
    if hit is not None:
        plan, out_dtype = hit
        return plan._run_trusted(x, w, out_dtype)
    x = _checks.as_array(names[0], x)
    w = _checks.as_array(names[1], w)
    treatment, fill_value = _checks.check_nan_treatment(nan_treatment, fill_value)

    def plan_for(shape, dtype):
        compute, _ = _checks.result_dtypes(dtype, w.dtype, names)
        return planner.check_and_plan(ndim, shape, w.shape, compute=compute, strides=strides,
                                      padding=padding, data_format=data_format, dilations=dilations,
                                      groups=groups, flip=flip, method=method, workers=workers,
                                      measure=measure, backend=backend, names=names,
                                      padding_mode=padding_mode, embedding=_complex.embedding(dtype, w.dtype),
                                      input_dtype=dtype)

    if treatment != "propagate":
        plan = plan_for(x.shape, x.dtype)
        _checks.check_fill_fits(fill_value, x.dtype, names[0])
        return _nan.run_treated(plan, plan_for, x, w, treatment, fill_value, names)
    _, out_dtype = _checks.result_dtypes(x.dtype, w.dtype, names)
    plan = plan_for(x.shape, x.dtype)
    y = plan._run_checked(x, w, names)
    if key is not None:  # every check passed: a call with the same arguments may skip them
        _recent_calls[key] = (plan, out_dtype)
        while len(_recent_calls) > _RECENT_CALLS:
            _recent_calls.popitem(last=False)
    return y


def conv2d(input, filters, strides=1, padding="VALID", data_format="NHWC", dilations=1, *,
           groups=None, flip=False, padding_mode="constant", method="auto", workers=None, measure=False,
           backend="auto", nan_treatment="propagate", fill_value=0.0):
    """2-D convolution with exactly the semantics of :func:`tf.nn.conv2d`.

    Parameters
    ----------
    input : array_like
        ``(N, H, W, C_in)``, or ``(N, C_in, H, W)`` with ``data_format="NCHW"``.
    filters : array_like
        ``(kh, kw, C_in / groups, C_out)`` (HWIO).
    strides, padding, data_format, dilations, groups, flip, padding_mode, method, workers, measure, backend
        See the shared parameters in :mod:`fftconv._ops.forward`: TensorFlow's forms,
        plus ``groups``, ``flip`` for true convolution, the ``padding_mode``
        that fills the pads (numpy.pad's modes), the ``method``, the number of
        FFT ``workers``, ``measure`` to time the methods instead of
        predicting, and the FFT ``backend``.
    nan_treatment, fill_value
        What NaN and Inf in ``input`` do: ``"propagate"`` (default: they stay
        local), ``"fill"`` (they count as ``fill_value``) or ``"interpolate"``
        (normalised convolution); see :doc:`scipy`.

    Returns
    -------
    ndarray
        ``(N, out_h, out_w, C_out)`` (or NCHW). float32 in gives float32,
        float64 gives float64, float16 is computed in float32 and returned as
        float16, integers and bools give float64. A complex input or filter
        gives a complex result: complex64 when everything is complex64,
        float32 or float16, else complex128.

    Raises
    ------
    ValueError
        Bad shapes or values, before any work is done.
    TypeError
        Bad types, e.g. object or string arrays.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.ones((1, 5, 5, 1), dtype=np.float32)
    >>> w = np.ones((3, 3, 1, 1), dtype=np.float32)
    >>> fftconv.conv2d(x, w, padding="SAME")[0, :, :, 0]
    array([[4., 6., 6., 6., 4.],
           [6., 9., 9., 9., 6.],
           [6., 9., 9., 9., 6.],
           [6., 9., 9., 9., 6.],
           [4., 6., 6., 6., 4.]], dtype=float32)
    >>> fftconv.conv2d(x, w, padding="SAME", padding_mode="reflect")[0, :, :, 0]
    array([[9., 9., 9., 9., 9.],
           [9., 9., 9., 9., 9.],
           [9., 9., 9., 9., 9.],
           [9., 9., 9., 9., 9.],
           [9., 9., 9., 9., 9.]], dtype=float32)
    """
    return _convolve(2, input, filters, strides, padding, data_format, dilations, groups, flip,
                     method, workers, measure, backend, padding_mode=padding_mode,
                     nan_treatment=nan_treatment, fill_value=fill_value)


def conv1d(input, filters, strides=1, padding="VALID", data_format="NWC", dilations=1, *,
           groups=None, flip=False, padding_mode="constant", method="auto", workers=None, measure=False,
           backend="auto", nan_treatment="propagate", fill_value=0.0):
    """1-D convolution with the semantics of :func:`tf.nn.conv1d` (NWC input, WIO filters).

    Long FIR filters on signals are where the FFT method shines.

    Parameters
    ----------
    input : array_like
        ``(N, W, C_in)``, or ``(N, C_in, W)`` with ``data_format="NCW"``.
    filters : array_like
        ``(kw, C_in / groups, C_out)``.
    strides, padding, data_format, dilations, groups, flip, padding_mode, method, workers, measure, backend
        As for :func:`conv2d`, with one spatial axis.
    nan_treatment, fill_value
        As for :func:`conv2d`.

    Returns
    -------
    ndarray
        ``(N, out_w, C_out)`` (or NCW), with :func:`conv2d`'s dtype rules.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> signal = np.arange(6.0).reshape(1, 6, 1)
    >>> fftconv.conv1d(signal, np.ones((3, 1, 1)))[0, :, 0]
    array([ 3.,  6.,  9., 12.])
    >>> fftconv.conv1d(signal, np.ones((3, 1, 1)), padding="SAME", padding_mode="wrap")[0, :, 0]
    array([ 6.,  3.,  6.,  9., 12.,  9.])

    A complex matched filter (correlation, no conjugation: pass the conjugate
    of the template):

    >>> pulse = np.exp(1j * np.linspace(0, 3, 8))
    >>> rx = np.zeros((1, 20, 1), complex)
    >>> rx[0, 5:13, 0] = pulse
    >>> y = fftconv.conv1d(rx, np.conj(pulse)[:, None, None])
    >>> int(np.argmax(np.abs(y[0, :, 0]))), y.dtype
    (5, dtype('complex128'))
    """
    return _convolve(1, input, filters, strides, padding, data_format, dilations, groups, flip,
                     method, workers, measure, backend, padding_mode=padding_mode,
                     nan_treatment=nan_treatment, fill_value=fill_value)


def conv3d(input, filters, strides=1, padding="VALID", data_format="NDHWC", dilations=1, *,
           groups=None, flip=False, padding_mode="constant", method="auto", workers=None, measure=False,
           backend="auto", nan_treatment="propagate", fill_value=0.0):
    """3-D convolution with the semantics of :func:`tf.nn.conv3d` (NDHWC input, DHWIO filters).

    Parameters
    ----------
    input : array_like
        ``(N, D, H, W, C_in)``, or ``(N, C_in, D, H, W)`` with ``data_format="NCDHW"``.
    filters : array_like
        ``(kd, kh, kw, C_in / groups, C_out)``.
    strides, padding, data_format, dilations, groups, flip, padding_mode, method, workers, measure, backend
        As for :func:`conv2d`, with three spatial axes.
    nan_treatment, fill_value
        As for :func:`conv2d`.

    Returns
    -------
    ndarray
        ``(N, out_d, out_h, out_w, C_out)`` (or NCDHW), with :func:`conv2d`'s dtype rules.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> volume = np.ones((1, 4, 4, 4, 1))
    >>> fftconv.conv3d(volume, np.ones((2, 2, 2, 1, 1))).shape
    (1, 3, 3, 3, 1)
    """
    return _convolve(3, input, filters, strides, padding, data_format, dilations, groups, flip,
                     method, workers, measure, backend, padding_mode=padding_mode,
                     nan_treatment=nan_treatment, fill_value=fill_value)


def depthwise_conv2d(input, filter, strides=1, padding="VALID", data_format="NHWC",
                     dilations=1, *, flip=False, padding_mode="constant", method="auto", workers=None,
                     measure=False, backend="auto", nan_treatment="propagate",
                     fill_value=0.0):
    """Depthwise 2-D convolution with the semantics of :func:`tf.nn.depthwise_conv2d`.

    Parameters
    ----------
    input : array_like
        ``(N, H, W, C)`` (or NCHW).
    filter : array_like
        ``(kh, kw, C, M)``: ``M`` filters per input channel.
    strides, padding, data_format, dilations, flip, padding_mode, method, workers, measure, backend
        As for :func:`conv2d`.
    nan_treatment, fill_value
        As for :func:`conv2d`; ``"interpolate"`` normalises each output channel by its own kernel.

    Returns
    -------
    ndarray
        ``C * M`` output channels; channel ``k * M + q`` comes from input channel ``k``.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.ones((1, 4, 4, 2))
    >>> w = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))], axis=-1)[..., None]
    >>> fftconv.depthwise_conv2d(x, w)[0, 0, 0]
    array([ 9., 18.])
    """
    names = ("input", "filter")
    x = _checks.as_array(names[0], input)
    w = _checks.as_array(names[1], filter)
    hwio = _checks.check_depthwise_filter(w.shape, name=names[1])
    channels = _checks.input_channels(x.shape, data_format, 2, name=names[0])
    _checks.check_depthwise_channels(channels, w.shape, names)
    return _convolve(2, x, w.reshape(hwio), strides, padding, data_format, dilations, channels,
                     flip, method, workers, measure, backend, names=("input", "filter"),
                     padding_mode=padding_mode, nan_treatment=nan_treatment, fill_value=fill_value)


class FilterBank:
    """A fixed filter bank applied to a stream of inputs, with its spectrum kept.

    The first input of each shape and dtype is planned, and the filters
    prepared for that plan (for the FFT method, transformed) once; later
    inputs of the same shape reuse both.  The bank keeps the bound plans of
    the ``cache_size`` most recently used input shapes.

    Parameters
    ----------
    filters : array_like
        ``(*kernel, C_in / groups, C_out)``; 1, 2 or 3 spatial axes.  The bank
        keeps a read-only copy.
    strides, padding, data_format, dilations, groups, flip, padding_mode, method, workers, measure, backend
        As for :func:`conv2d`; ``data_format`` defaults to channels-last.
        They are checked here, not at the first call.
    cache_size : int
        Bound plans kept, least recently used dropped first (default 8).

    Raises
    ------
    ValueError, TypeError
        Bad filters or options, at construction.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> bank = fftconv.FilterBank(np.ones((31, 31, 3, 16), np.float32), padding="SAME")
    >>> frames = np.zeros((10, 1, 128, 128, 3), np.float32)
    >>> [bank(frame).shape for frame in frames][-1]
    (1, 128, 128, 16)
    """

    def __init__(self, filters, strides=1, padding="VALID", data_format=None, dilations=1, *,
                 groups=None, flip=False, padding_mode="constant", method="auto", workers=None,
                 measure=False, backend="auto", cache_size=8):
        w = _checks.as_array("filters", filters)
        if w.ndim not in (3, 4, 5):
            raise ValueError(
                f"`filters` must be 3-D, 4-D or 5-D (*kernel, C_in, C_out); got ndim="
                f"{w.ndim} with shape {w.shape}")
        self.ndim = w.ndim - 2
        self.options = _checks.check_options(
            self.ndim, strides=strides, padding=padding, dilations=dilations, groups=groups,
            flip=flip, method=(method, planner.method_names()), workers=workers, measure=measure,
            backend=(backend, available_backends()),
            data_format=data_format or _checks.DATA_FORMATS[self.ndim][0], padding_mode=padding_mode)
        self.cache_size = _checks.check_positive_int("cache_size", cache_size)
        self.filters = w.copy()  # later changes to the caller's array must not leak in
        self.filters.flags.writeable = False
        self._bound = OrderedDict()

    def plan_for(self, input_shape, dtype=np.float32) -> ConvPlan:
        """The plan this bank uses for inputs of ``input_shape`` and ``dtype``."""
        compute, _ = _checks.result_dtypes(dtype, self.filters.dtype, ("dtype", "filters"))
        return planner.check_and_plan(self.ndim, input_shape, self.filters.shape, compute=compute,
                                      reuse_filters=True,
                     names=("input_shape", "filters"),
                     embedding=_complex.embedding(np.dtype(dtype), self.filters.dtype), **self.options)

    def __call__(self, input):
        """Convolve one input with the bank's filters."""
        x = _checks.as_array("input", input)
        embedding = _complex.embedding(x.dtype, self.filters.dtype)
        key = (x.shape, _checks.result_dtypes(x.dtype, self.filters.dtype)[0], embedding)
        bound = self._bound.get(key)
        if bound is None:
            compute = key[1]
            plan = planner.check_and_plan(self.ndim, x.shape, self.filters.shape, compute=compute,
                                          reuse_filters=True, embedding=embedding, **self.options)
            bound = self._bound[key] = plan.bind(self.filters)
            while len(self._bound) > self.cache_size:
                self._bound.popitem(last=False)
        else:
            self._bound.move_to_end(key)
        return bound(x)

    def __repr__(self) -> str:
        return (f"FilterBank(filters {self.filters.shape} {self.filters.dtype}, "
                f"{len(self._bound)} input shape(s) planned, at most {self.cache_size} kept)")
