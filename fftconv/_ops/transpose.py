"""Transposed convolutions, which are input gradients: ``tf.nn.conv*_transpose`` and TF's
``conv2d_backprop_input`` / ``depthwise_conv2d_backprop_input``.

A transposed convolution is the adjoint of the forward convolution with the
same filters, strides, padding and dilations:
``<conv2d(z, w), x> == <z, conv2d_transpose(x, w, z.shape)>``.  It runs as
one stride-1 correlation over its input (:class:`~fftconv._shapes.adjoint.TransposeSplit`:
every residue of the stride is a phase, the phases are output channels of
that correlation) planned and run like any convolution, by the planner and
either method; the phases are then written into the interleaved output
grid.  Non-finite values stay where TensorFlow puts them: where the combined
kernel has zero taps (strides that do not divide the kernel), non-finite
inputs are set aside before the correlation and the outputs they reach put
back as NaN afterwards.

Parameters shared by the functions here are documented in
:mod:`fftconv._ops.forward`; ``dilations=None`` means 1, as in TensorFlow.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

from fftconv._engine import planner
from fftconv.methods import REFERENCE
from fftconv import _checks
from fftconv._engine import guards as _guards
from fftconv._shapes.adjoint import TransposeSplit
from fftconv._engine.measure import measured
from fftconv._engine.plan import BoundPlan, ConvPlan, _fmt_seconds, _to_format
from fftconv._runtime.threads import resolve_workers
from fftconv.backends import available_backends

__all__ = ["conv1d_transpose", "conv2d_transpose", "conv3d_transpose", "conv1d_backprop_input",
           "conv2d_backprop_input", "conv3d_backprop_input", "depthwise_conv2d_backprop_input",
           "plan_conv1d_transpose", "plan_conv2d_transpose", "plan_conv3d_transpose",
           "plan_depthwise_conv2d_backprop_input", "TransposePlan", "BoundTransposePlan"]

#: Argument names in messages: (the gradient or input, the filters, the output shape).
TRANSPOSE_NAMES = ("input", "filters", "output_shape")
BACKPROP_NAMES = ("out_backprop", "filters", "input_sizes")
_FORWARD_LAYOUT = {1: "(kw, C_in, C_out)", 2: "(kh, kw, C_in, C_out)", 3: "(kd, kh, kw, C_in, C_out)"}


# -- plans -----------------------------------------------------------------------------

@dataclass(frozen=True, repr=False, eq=False)
class TransposePlan:
    """How one transposed convolution (a convolution's input gradient) will run.

    Made by :func:`plan_conv2d_transpose` and kin; call it as ``plan(input,
    filters)`` or bind the filters once with :meth:`bind`.

    Attributes
    ----------
    split : TransposeSplit
        The forward geometry and its polyphase split (shapes only).
    data_format : str
        Layout of the input and output.
    dtype : numpy.dtype
        Precision of the computation.
    conv : ConvPlan or None
        The stride-1 correlation that computes every phase (None when the
        output is all zeros).
    op : str
        The operation, for messages and the repr.
    names : tuple of str
        The argument names of the gradient, the filters and the output shape.
    peak_bytes : int
        Predicted peak memory of a call.
    """

    split: TransposeSplit
    data_format: str
    dtype: np.dtype
    conv: ConvPlan | None
    op: str = "conv_transpose"
    names: tuple = TRANSPOSE_NAMES
    peak_bytes: int = 0

    @property
    def ndim(self) -> int:
        return self.split.forward.ndim

    @property
    def channels_first(self) -> bool:
        return self.data_format.startswith("NC")

    @property
    def method(self) -> str:
        """What will run: the method of :attr:`conv` (the reference method when there is nothing to compute)."""
        return self.conv.method if self.conv is not None else REFERENCE

    @property
    def requested(self) -> str:
        return self.conv.requested if self.conv is not None else "auto"

    @property
    def estimates(self) -> dict:
        """Predicted seconds of each method for :attr:`conv`."""
        return dict(self.conv.estimates) if self.conv is not None else {}

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of the input (the output gradient), in ``data_format`` order."""
        return _to_format(self.split.forward.output_shape, self.channels_first)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Shape of the output (the input gradient), in ``data_format`` order."""
        return _to_format(self.split.forward.input_shape, self.channels_first)

    @property
    def filters_shape(self) -> tuple[int, ...]:
        """The forward filters' shape, ``(*kernel, C_out / groups, C_in)`` in the transposed
        convolution's terms (for depthwise, the equivalent grouped shape)."""
        return self.split.forward.filters_shape

    def __call__(self, input, filters):
        """The transposed convolution of ``input`` with ``filters`` (both of the planned shapes)."""
        dy = _checks.as_real_array(self.names[0], input)
        w = _checks.as_real_array(self.names[1], filters)
        return self._run_checked(dy, w)

    def _run_checked(self, dy, w):
        """Check both arrays (before the filters are prepared), then run."""
        _checks.check_plan_shape(self.names[1], w.shape, self.filters_shape)
        self._check_input(dy, w.dtype)
        _checks.check_memory(self.peak_bytes, self.output_shape)
        return self.bind(w)(dy)

    def bind(self, filters) -> "BoundTransposePlan":
        """Prepare ``filters`` once (the combined kernel and, for the FFT method, its spectrum)."""
        w = _checks.as_real_array(self.names[1], filters)
        _checks.check_plan_shape(self.names[1], w.shape, self.filters_shape)
        if self.conv is None:
            return BoundTransposePlan(self, w.dtype, None, None)
        bad = None
        if not _guards.is_integer(w.dtype) and not np.isfinite(w).all():
            bad = _bad_taps(w, self.split)
            w = np.where(np.isfinite(w), w, 0)
        return BoundTransposePlan(self, w.dtype, self.conv.bind(combined_filters(w, self.split)), bad)

    def _check_input(self, dy, filters_dtype) -> np.dtype:
        _checks.check_plan_shape(self.names[0], dy.shape, self.input_shape)
        compute, out_dtype = _checks.real_result_dtypes(dy.dtype, filters_dtype, self.names[:2])
        if compute != self.dtype:
            raise ValueError(
                f"`{self.names[0]}` of dtype {dy.dtype} with filters of dtype {filters_dtype} computes in "
                f"{compute}, but this plan computes in {self.dtype}; plan with dtype={str(compute)!r}")
        return out_dtype

    def __repr__(self) -> str:
        f, split = self.split.forward, self.split
        lines = [
            f"TransposePlan: {self.op} {self.data_format} {self.dtype}, method={self.method!r}",
            f"  input {self.input_shape}  filters {self.filters_shape}  ->  output {self.output_shape}",
            f"  strides {f.strides}  dilations {f.dilations}  pads {f.pads}  groups {f.groups}",
            f"  polyphase  {split.phases} phase(s) as one stride-1 correlation, kernel "
            f"{tuple(a.kernel for a in split.axes)} dilated {tuple(a.dilation for a in split.axes)}",
        ]
        if self.conv is None:
            lines.append("  nothing reaches the output: it is zeros")
        else:
            est = "   ".join(f"{k} {_fmt_seconds(v)}" for k, v in self.estimates.items())
            lines.append(f"  predicted  {est}")
            lines.append("  " + repr(self.conv).replace("\n", "\n  "))
        return "\n".join(lines)


@dataclass(frozen=True, repr=False, eq=False)
class BoundTransposePlan:
    """A :class:`TransposePlan` with its filters prepared: call it on a stream of inputs.

    Every array it returns is new and owns its memory.
    """

    plan: TransposePlan
    filters_dtype: np.dtype
    bound: BoundPlan | None  # the combined correlation, its filters prepared
    bad_taps: np.ndarray | None  # (*kernel, output channels): True where a tap's weights are not finite

    def __call__(self, input):
        """The transposed convolution of ``input`` (of the planned shape) with the bound filters."""
        plan, split = self.plan, self.plan.split
        dy = _checks.as_real_array(plan.names[0], input)
        out_dtype = plan._check_input(dy, self.filters_dtype)
        _checks.check_memory(plan.peak_bytes, plan.output_shape)
        if self.bound is None:
            return np.zeros(plan.output_shape, dtype=out_dtype)
        if plan.channels_first:
            dy = np.moveaxis(dy, 1, -1)
        dy = dy[(slice(None), *(slice(*a.crop) for a in split.axes))]
        special = None
        if not split.exact_windows and not _guards.is_integer(dy.dtype):
            special = _nonfinite(dy)
            if special is not None:
                dy = np.where(special, 0, dy)
        if any(a.unread for a in split.axes):
            dy = _zero_unread(dy, split)
        res = self.bound(dy)
        if (split.is_identity_layout and not plan.channels_first and special is None
                and self.bad_taps is None):
            return res
        out = np.zeros(plan.output_shape, out_dtype) if not split.complete else \
            np.empty(plan.output_shape, out_dtype)
        view = np.moveaxis(out, 1, -1) if plan.channels_first else out
        interleave(res, view, split)
        if special is not None:
            view[reach(special, split)] = np.nan
        if self.bad_taps is not None:
            _mark_filter_reach(view, self.bad_taps, split)
        return out

    def __repr__(self) -> str:
        return f"BoundTransposePlan(filters bound, dtype {self.filters_dtype})\n{self.plan!r}"


# -- the polyphase split at work ------------------------------------------------------------

def combined_filters(w: np.ndarray, split: TransposeSplit) -> np.ndarray:
    """The filters of the combined correlation: ``(*k', C_out / G, G * phases * C_in / G)``.

    ``w`` is the forward ``(*k, C_in / G, C_out)``; tap ``t`` of channel pair
    ``(c, o)`` goes to the combined index of ``t``, input channel ``o``, output
    channel ``(group, phase of t, c)``; every other entry is zero.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> f = check_geometry((1, 6, 1), (3, 1, 1), 1, 2, "VALID", "NWC", 1, None, False)
    >>> combined_filters(np.array([1.0, 2, 3]).reshape(3, 1, 1), TransposeSplit.of(f))[:, 0, :]
    array([[3., 0.],
           [1., 2.]])
    """
    f, nd = split.forward, split.forward.ndim
    g, cg, og = f.groups, f.group_in, f.group_out
    taps = w.reshape(*f.kernel, cg, g, og)
    taps = np.moveaxis(taps, (nd, nd + 1, nd + 2), (nd + 2, nd + 1, nd))  # (*k, og, G, cg)
    phases = [len(a.residues) for a in split.axes]
    out = np.zeros((*(a.kernel for a in split.axes), og, g, *phases, cg), dtype=w.dtype)
    grids = np.ix_(*(np.arange(k) for k in f.kernel))
    index = [np.asarray(a.tap_index)[grid] for a, grid in zip(split.axes, grids)]
    phase = [np.asarray(a.tap_residue)[grid] for a, grid in zip(split.axes, grids)]
    out[(*index, slice(None), slice(None), *phase, slice(None))] = taps
    return out.reshape(*out.shape[:nd + 1], -1)


def interleave(res: np.ndarray, out: np.ndarray, split: TransposeSplit) -> None:
    """Write the phases of the combined correlation's output ``res`` into the interleaved ``out``.

    ``res`` is ``(N, *rows, G * phases * C_in / G)``, ``out`` a channels-last
    view ``(N, *n, C_in)``; phase ``(r_0, r_1, ...)`` lands on every
    ``s``-th position from its first output.
    """
    f = split.forward
    res = res.reshape(*res.shape[:-1], f.groups, *(len(a.residues) for a in split.axes), f.group_in)
    out = out.reshape(*out.shape[:-1], f.groups, f.group_in)
    for combo in itertools.product(*(range(len(a.residues)) for a in split.axes)):
        if any(a.count[i] == 0 for a, i in zip(split.axes, combo)):
            continue
        rows = tuple(slice(a.first_row[i], a.first_row[i] + a.count[i]) for a, i in zip(split.axes, combo))
        dst = tuple(slice(a.first_out[i], a.first_out[i] + (a.count[i] - 1) * a.stride + 1, a.stride)
                    for a, i in zip(split.axes, combo))
        np.copyto(out[(slice(None), *dst)], res[(slice(None), *rows, slice(None), *combo)],
                  casting="unsafe")


def _nonfinite(a: np.ndarray):
    """A mask of the non-finite values of ``a``, or None when there are none (a min and a max decide)."""
    if a.size == 0:
        return None
    if np.isfinite(a.min()) and np.isfinite(a.max()):
        return None
    return ~np.isfinite(a)


def _zero_unread(dy, split):
    """A copy of the cropped ``dy`` with the samples no tap reads set to zero."""
    dy = np.array(dy)
    for axis, a in enumerate(split.axes, start=1):
        if a.unread:
            index = [slice(None)] * dy.ndim
            index[axis] = list(a.unread)
            dy[tuple(index)] = 0
    return dy


def _axis_reach(a: np.ndarray, axis: int, n: int, k: int, s: int, d: int, lo: int) -> np.ndarray:
    """Along ``axis``: ``out[i] = sum_t a[o]`` over the taps ``t`` and samples ``o`` with
    ``o * s + t * d == i + lo`` (how many ``dy`` samples output ``i`` reads, weighted by ``a``)."""
    a = np.moveaxis(a, axis, 0)
    out = np.zeros((n, *a.shape[1:]), dtype=a.dtype)
    count = a.shape[0]
    for t in range(k):
        o0 = max(0, -((t * d - lo) // s))                  # first o with o * s + t * d - lo >= 0
        o1 = min(count, (n - 1 + lo - t * d) // s + 1) if n - 1 + lo - t * d >= 0 else 0
        if o1 > o0:
            i0 = o0 * s + t * d - lo
            out[i0:i0 + (o1 - o0 - 1) * s + 1:s] += a[o0:o1]
    return np.moveaxis(out, 0, axis)


def reach(mask: np.ndarray, split: TransposeSplit) -> np.ndarray:
    """Outputs ``(N, *n, C_in)`` of the transposed convolution that read a True of ``mask``.

    ``mask`` is over the cropped, channels-last ``dy``; a sample reaches every
    output of its channel group that some tap pairs it with.
    """
    f = split.forward
    counts = mask.reshape(*mask.shape[:-1], f.groups, f.group_out).any(axis=-1).astype(np.int64)
    for axis, (a, n, k, s, d, (lo, _)) in enumerate(zip(split.axes, f.spatial, f.kernel, f.strides,
                                                        f.dilations, f.pads), start=1):
        counts = _axis_reach(counts, axis, n, k, s, d, lo - a.crop[0] * s)
    return np.repeat(counts > 0, f.group_in, axis=-1)


def _bad_taps(w, split):
    """``(*k, C_in)``: True where tap ``t`` of a channel's filters holds a non-finite weight."""
    f = split.forward
    bad = ~np.isfinite(w.reshape(*f.kernel, f.group_in, f.groups, f.group_out))
    return np.moveaxis(bad.any(axis=-1), -1, -2).reshape(*f.kernel, f.in_channels)


def _mark_filter_reach(out, bad_taps, split):
    """NaN wherever a non-finite weight meets some ``dy`` sample, as TensorFlow's products do."""
    f = split.forward
    for tap in zip(*np.nonzero(bad_taps.any(axis=-1))):
        positions = []
        for t, n, o, s, d, (lo, _) in zip(tap, f.spatial, f.out_spatial, f.strides, f.dilations, f.pads):
            p = np.arange(o) * s + t * d - lo
            positions.append(p[(p >= 0) & (p < n)])
        channels = np.nonzero(bad_taps[tap])[0]
        out[np.ix_(np.arange(f.batch), *positions, channels)] = np.nan


# -- planning ------------------------------------------------------------------------------

def _plan_transpose(ndim, dy_shape, filters_shape, output_shape, strides, padding, data_format, dilations,
                    groups, compute, method, workers, measure, backend, *, names=TRANSPOSE_NAMES,
                    op="conv_transpose", filters_layout=None, check_names=None) -> TransposePlan:
    """Check every option, then plan (cached); ``compute`` is an already checked dtype.

    ``names`` are the arrays' names when the plan is called, ``check_names``
    (by default the same) the arguments' names here.
    """
    method = planner.check_method(method)
    backend = _checks.check_backend(backend, available_backends())
    measure = _checks.check_flag("measure", measure)
    forward = _checks.check_transpose_geometry(
        dy_shape, filters_shape, output_shape, ndim, strides, padding, data_format,
        _checks.check_dilations_default(dilations), groups, names=check_names or names,
        filters_layout=filters_layout)
    return cached_transpose_plan(forward, data_format, compute, method, resolve_workers(workers), backend,
                                  measure, op, names)


@functools.lru_cache(maxsize=256)
def cached_transpose_plan(forward, data_format, dtype, method, workers, backend, measure, op,
                           names) -> TransposePlan:
    split = TransposeSplit.of(forward)
    out_bytes = math.prod(forward.input_shape) * dtype.itemsize
    if split.is_empty:
        return TransposePlan(split, data_format, dtype, None, op, names, out_bytes)
    conv = planner.plan(split.conv, dtype=dtype, method=method, workers=workers, backend=backend)
    if measure and method == "auto":
        conv = measured(conv, backend == "auto")
    copies = 0 if split.is_identity_layout and not data_format.startswith("NC") else out_bytes
    return TransposePlan(split, data_format, dtype, conv, op, names, conv.peak_bytes + copies)


def _plan_shapes(ndim, input_shape, filters_shape, output_shape, strides, padding, data_format, dilations,
                 groups, dtype, method, workers, measure, backend, names, op, filters_layout=None,
                 check_names=("input_shape", "filters_shape", "output_shape")):
    compute = _checks.real_plan_dtypes(dtype)[0]
    return _plan_transpose(ndim, input_shape, filters_shape, output_shape, strides, padding, data_format,
                           dilations, groups, compute, method, workers, measure, backend, names=names, op=op,
                           filters_layout=filters_layout, check_names=check_names)


def _transpose(ndim, dy, w, output_shape, strides, padding, data_format, dilations, groups, method, workers,
               measure, backend, *, names=TRANSPOSE_NAMES, op="conv_transpose", filters_layout=None):
    dy = _checks.as_real_array(names[0], dy)
    w = _checks.as_real_array(names[1], w)
    compute, _ = _checks.real_result_dtypes(dy.dtype, w.dtype, names[:2])
    plan = _plan_transpose(ndim, dy.shape, w.shape, output_shape, strides, padding, data_format, dilations,
                           groups, compute, method, workers, measure, backend, names=names, op=op,
                           filters_layout=filters_layout)
    return plan._run_checked(dy, w)


# -- public functions -------------------------------------------------------------------------

def conv2d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NHWC",
                     dilations=None, *, groups=None, method="auto", workers=None, measure=False,
                     backend="auto"):
    """2-D transposed convolution with exactly the semantics of :func:`tf.nn.conv2d_transpose`.

    The adjoint of :func:`~fftconv.conv2d` with the same filters, strides,
    padding and dilations, which is the gradient of ``conv2d`` with respect
    to its input: ``<conv2d(z, w), x> == <z, conv2d_transpose(x, w, z.shape)>``.
    Strided transposes run as a polyphase split (one stride-1 correlation per
    residue of the stride, all in one call), never on a zero-upsampled input.

    Parameters
    ----------
    input : array_like
        ``(N, H, W, C_in)``, or ``(N, C_in, H, W)`` with ``data_format="NCHW"``.
    filters : array_like
        ``(kh, kw, C_out / groups, C_in)``: TensorFlow's ``(height, width,
        output_channels, in_channels)``, which is the forward convolution's
        ``HWIO`` filter.
    output_shape : sequence of int
        ``(N, out_h, out_w, C_out)`` in ``data_format`` order, or ``(out_h,
        out_w)`` (then ``C_out`` is ``filters.shape[-2] * groups``, with
        ``groups=None`` read as 1).  As in TensorFlow every size whose forward convolution gives
        ``input``'s ``(H, W)`` is valid: with stride ``s`` and SAME padding
        ``(H - 1) * s + 1`` to ``H * s``; with VALID, ``(H - 1) * s + eff`` to
        ``H * s + eff - 1``.
    strides : int or sequence of int
        The forward convolution's strides (TensorFlow's forms).
    padding : {"SAME", "VALID"}, int or sequence
        The forward convolution's padding, explicit forms included.
    data_format : {"NHWC", "NCHW"}
    dilations : int or sequence of int, optional
        The forward convolution's dilations; ``None`` is 1.
    groups : int, optional
        Channel groups of the forward convolution; ``None`` infers
        ``C_out // filters.shape[-2]``.
    method, workers, measure, backend
        As for :func:`~fftconv.conv2d`; they choose how the stride-1
        correlation runs.

    Returns
    -------
    ndarray
        ``output_shape``, with :func:`~fftconv.conv2d`'s dtype rules.

    Raises
    ------
    ValueError
        Bad shapes or values (an ``output_shape`` that does not fit
        ``input``, channel counts that do not match the filters), before any
        work is done.
    TypeError
        Bad types.

    See Also
    --------
    conv2d_backprop_input : the same operation with TF's ``compat.v1`` argument order.
    plan_conv2d_transpose : plan once, run many times.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.ones((1, 2, 2, 1))
    >>> w = np.ones((3, 3, 1, 1))
    >>> fftconv.conv2d_transpose(x, w, (1, 4, 4, 1), strides=2)[0, :, :, 0]
    array([[1., 1., 2., 1.],
           [1., 1., 2., 1.],
           [2., 2., 4., 2.],
           [1., 1., 2., 1.]])

    The adjoint identity, which defines it:

    >>> rng = np.random.default_rng(0)
    >>> z, w = rng.standard_normal((2, 9, 8, 3)), rng.standard_normal((4, 3, 3, 5))
    >>> y = rng.standard_normal((2, 5, 4, 5))
    >>> lhs = np.vdot(fftconv.conv2d(z, w, strides=2, padding="SAME"), y)
    >>> rhs = np.vdot(z, fftconv.conv2d_transpose(y, w, z.shape, strides=2))
    >>> bool(np.isclose(lhs, rhs))
    True
    """
    return _transpose(2, input, filters, output_shape, strides, padding, data_format, dilations, groups,
                      method, workers, measure, backend, op="conv2d_transpose")


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NWC",
                     dilations=None, *, groups=None, method="auto", workers=None, measure=False,
                     backend="auto"):
    """1-D transposed convolution with the semantics of :func:`tf.nn.conv1d_transpose`.

    Input ``(N, W, C_in)`` (or ``NCW``), filters ``(kw, C_out / groups, C_in)``,
    ``output_shape`` ``(N, out_w, C_out)`` or ``(out_w,)``; everything else as
    for :func:`conv2d_transpose`.  Explicit padding is accepted here too
    (TensorFlow's 1-D op takes only SAME and VALID).

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> fftconv.conv1d_transpose(np.ones((1, 3, 1)), np.ones((2, 1, 1)), (1, 6, 1), 2)[0, :, 0]
    array([1., 1., 1., 1., 1., 1.])
    """
    return _transpose(1, input, filters, output_shape, strides, padding, data_format, dilations, groups,
                      method, workers, measure, backend, op="conv1d_transpose")


def conv3d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NDHWC",
                     dilations=None, *, groups=None, method="auto", workers=None, measure=False,
                     backend="auto"):
    """3-D transposed convolution with the semantics of :func:`tf.nn.conv3d_transpose`.

    Input ``(N, D, H, W, C_in)`` (or ``NCDHW``), filters ``(kd, kh, kw, C_out /
    groups, C_in)``, ``output_shape`` ``(N, out_d, out_h, out_w, C_out)`` or
    the three spatial sizes; everything else as for :func:`conv2d_transpose`.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> y = fftconv.conv3d_transpose(np.ones((1, 2, 2, 2, 4)), np.ones((3, 3, 3, 2, 4)),
    ...                              (1, 4, 4, 4, 2), strides=2)
    >>> y.shape, float(y.sum())
    ((1, 4, 4, 4, 2), 1000.0)
    """
    return _transpose(3, input, filters, output_shape, strides, padding, data_format, dilations, groups,
                      method, workers, measure, backend, op="conv3d_transpose")


def conv2d_backprop_input(input_sizes, filters, out_backprop, strides, padding, data_format="NHWC",
                          dilations=None, *, groups=None, method="auto", workers=None, measure=False,
                          backend="auto"):
    """The gradient of :func:`~fftconv.conv2d` with respect to its input, as
    :func:`tf.compat.v1.nn.conv2d_backprop_input`.

    The same operation as :func:`conv2d_transpose`, with TensorFlow's
    ``compat.v1`` argument order and names.

    Parameters
    ----------
    input_sizes : sequence of int
        The forward input's shape ``(N, H, W, C_in)`` in ``data_format``
        order, or its spatial sizes ``(H, W)``.
    filters : array_like
        The forward filters ``(kh, kw, C_in / groups, C_out)``.
    out_backprop : array_like
        The gradient of the forward output, ``(N, out_h, out_w, C_out)``.
    strides, padding, data_format, dilations, groups, method, workers, measure, backend
        As for :func:`conv2d_transpose`.

    Returns
    -------
    ndarray
        ``input_sizes``: the gradient of the forward input.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> dy = np.ones((1, 3, 3, 1))
    >>> fftconv.conv2d_backprop_input((1, 3, 3, 1), np.ones((2, 2, 1, 1)), dy, 1, "SAME")[0, :, :, 0]
    array([[1., 2., 2.],
           [2., 4., 4.],
           [2., 4., 4.]])
    """
    return _transpose(2, out_backprop, filters, input_sizes, strides, padding, data_format, dilations,
                      groups, method, workers, measure, backend, names=BACKPROP_NAMES,
                      op="conv2d_backprop_input", filters_layout=_FORWARD_LAYOUT[2])


def conv1d_backprop_input(input_sizes, filters, out_backprop, strides, padding, data_format="NWC",
                          dilations=None, *, groups=None, method="auto", workers=None, measure=False,
                          backend="auto"):
    """The gradient of :func:`~fftconv.conv1d` with respect to its input; see :func:`conv2d_backprop_input`.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> fftconv.conv1d_backprop_input((1, 4, 1), np.ones((2, 1, 1)), np.ones((1, 3, 1)), 1, "VALID")[0, :, 0]
    array([1., 2., 2., 1.])
    """
    return _transpose(1, out_backprop, filters, input_sizes, strides, padding, data_format, dilations,
                      groups, method, workers, measure, backend, names=BACKPROP_NAMES,
                      op="conv1d_backprop_input", filters_layout=_FORWARD_LAYOUT[1])


def conv3d_backprop_input(input_sizes, filters, out_backprop, strides, padding, data_format="NDHWC",
                          dilations=None, *, groups=None, method="auto", workers=None, measure=False,
                          backend="auto"):
    """The gradient of :func:`~fftconv.conv3d` with respect to its input, as TensorFlow's
    ``conv3d_backprop_input_v2``; see :func:`conv2d_backprop_input`.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> dx = fftconv.conv3d_backprop_input((1, 3, 3, 3, 1), np.ones((2, 2, 2, 1, 1)),
    ...                                    np.ones((1, 2, 2, 2, 1)), 1, "VALID")
    >>> int(dx[0, 1, 1, 1, 0]), int(dx[0, 0, 0, 0, 0])
    (8, 1)
    """
    return _transpose(3, out_backprop, filters, input_sizes, strides, padding, data_format, dilations,
                      groups, method, workers, measure, backend, names=BACKPROP_NAMES,
                      op="conv3d_backprop_input", filters_layout=_FORWARD_LAYOUT[3])


def depthwise_conv2d_backprop_input(input_sizes, filter, out_backprop, strides, padding,
                                    data_format="NHWC", dilations=None, *, method="auto", workers=None,
                                    measure=False, backend="auto"):
    """The gradient of :func:`~fftconv.depthwise_conv2d` with respect to its input, as
    :func:`tf.nn.depthwise_conv2d_backprop_input`.

    Parameters
    ----------
    input_sizes : sequence of int
        The forward input's shape ``(N, H, W, C)`` (or NCHW), or ``(H, W)``.
    filter : array_like
        ``(kh, kw, C, M)``, TensorFlow's depthwise filter.
    out_backprop : array_like
        ``(N, out_h, out_w, C * M)``: channel ``k * M + q`` is the gradient of
        the output that input channel ``k`` made with filter ``q``.
    strides, padding, data_format, dilations, method, workers, measure, backend
        As for :func:`conv2d_transpose`.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> w = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))], axis=-1)[:, :, None, :]  # C=1, M=2
    >>> dx = fftconv.depthwise_conv2d_backprop_input((1, 4, 4, 1), w, np.ones((1, 2, 2, 2)), 1, "VALID")
    >>> dx[0, :, :, 0]
    array([[ 3.,  6.,  6.,  3.],
           [ 6., 12., 12.,  6.],
           [ 6., 12., 12.,  6.],
           [ 3.,  6.,  6.,  3.]])
    """
    names = ("out_backprop", "filter", "input_sizes")
    w = _checks.as_real_array(names[1], filter)
    hwio = _checks.check_depthwise_filter(w.shape, name=names[1])
    dy = _checks.as_real_array(names[0], out_backprop)
    _checks.check_depthwise_gradient_channels(_checks.input_channels(dy.shape, data_format, 2, names[0]), w.shape,
                                              names[:2])
    return _transpose(2, dy, w.reshape(hwio), _depthwise_sizes(input_sizes, w.shape, data_format),
                      strides, padding, data_format, dilations, w.shape[-2], method, workers, measure, backend,
                      names=names, op="depthwise_conv2d_backprop_input", filters_layout="(kh, kw, C, M)")


def _depthwise_sizes(input_sizes, filter_shape, data_format):
    """``input_sizes`` of a depthwise op, with its channels checked against the filter's ``C``."""
    channels_first = _checks.check_data_format(data_format, 2)
    sizes = _checks.check_sizes_argument("input_sizes", input_sizes, 2,
                                         _checks._input_layout(data_format, 2), spatial_ok=True)
    if len(sizes) == 4:
        _checks.check_depthwise_channels(sizes[1] if channels_first else sizes[-1], filter_shape,
                                         ("input_sizes", "filter"))
    return sizes


# -- plans ---------------------------------------------------------------------------------

def plan_conv2d_transpose(input_shape, filters_shape, output_shape, strides, padding="SAME",
                          data_format="NHWC", dilations=None, *, groups=None, dtype="float32", method="auto",
                          workers=None, measure=False, backend="auto") -> TransposePlan:
    """Plan a 2-D transposed convolution (or input gradient) from shapes alone.

    The arguments are those of :func:`conv2d_transpose` with shapes for
    arrays, and the ``dtype`` the arrays will have.  The plan also runs
    :func:`conv2d_backprop_input` (swap the argument names).

    Returns
    -------
    TransposePlan
        Frozen and callable, ``plan(input, filters)``; ``plan.bind(filters)``
        prepares the filters once for a stream of inputs.

    Examples
    --------
    >>> import fftconv
    >>> plan = fftconv.plan_conv2d_transpose((1, 64, 64, 8), (31, 31, 4, 8), (1, 128, 128, 4), 2)
    >>> plan.method, plan.split.phases, plan.conv.filters_shape
    ('fft', 4, (16, 16, 8, 16))
    """
    return _plan_shapes(2, input_shape, filters_shape, output_shape, strides, padding, data_format, dilations,
                        groups, dtype, method, workers, measure, backend, TRANSPOSE_NAMES, "conv2d_transpose")


def plan_conv1d_transpose(input_shape, filters_shape, output_shape, strides, padding="SAME",
                          data_format="NWC", dilations=None, *, groups=None, dtype="float32", method="auto",
                          workers=None, measure=False, backend="auto") -> TransposePlan:
    """Plan a 1-D transposed convolution; see :func:`plan_conv2d_transpose`.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.plan_conv1d_transpose((1, 5000, 1), (1001, 1, 1), (1, 10000, 1), 2).method
    'fft'
    """
    return _plan_shapes(1, input_shape, filters_shape, output_shape, strides, padding, data_format, dilations,
                        groups, dtype, method, workers, measure, backend, TRANSPOSE_NAMES, "conv1d_transpose")


def plan_conv3d_transpose(input_shape, filters_shape, output_shape, strides, padding="SAME",
                          data_format="NDHWC", dilations=None, *, groups=None, dtype="float32",
                          method="auto", workers=None, measure=False, backend="auto") -> TransposePlan:
    """Plan a 3-D transposed convolution; see :func:`plan_conv2d_transpose`.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.plan_conv3d_transpose((1, 8, 8, 8, 2), (3, 3, 3, 1, 2), (1, 16, 16, 16, 1), 2).output_shape
    (1, 16, 16, 16, 1)
    """
    return _plan_shapes(3, input_shape, filters_shape, output_shape, strides, padding, data_format, dilations,
                        groups, dtype, method, workers, measure, backend, TRANSPOSE_NAMES, "conv3d_transpose")


def plan_depthwise_conv2d_backprop_input(input_sizes, filter_shape, out_backprop_shape, strides, padding,
                                         data_format="NHWC", dilations=None, *, dtype="float32",
                                         method="auto", workers=None, measure=False,
                                         backend="auto") -> TransposePlan:
    """Plan :func:`depthwise_conv2d_backprop_input` from shapes.

    The plan's ``filters_shape`` is the grouped equivalent ``(kh, kw, 1, C *
    M)`` of the ``(kh, kw, C, M)`` filter: reshape the filter to it, or use
    :func:`depthwise_conv2d_backprop_input`.

    Examples
    --------
    >>> import fftconv
    >>> plan = fftconv.plan_depthwise_conv2d_backprop_input((1, 56, 56, 64), (31, 31, 64, 1),
    ...                                                     (1, 56, 56, 64), 1, "SAME")
    >>> plan.filters_shape, plan.method
    ((31, 31, 1, 64), 'fft')
    """
    names = ("out_backprop_shape", "filter_shape", "input_sizes")
    hwio = _checks.check_depthwise_filter(filter_shape, name=names[1])
    sizes = _depthwise_sizes(input_sizes, filter_shape, data_format)
    _checks.check_depthwise_gradient_channels(_checks.input_channels(out_backprop_shape, data_format, 2, names[0]),
                                              filter_shape, names[:2])
    return _plan_shapes(2, out_backprop_shape, hwio, sizes, strides, padding, data_format, dilations,
                        tuple(filter_shape)[-2], dtype, method, workers, measure, backend,
                        ("out_backprop", "filter", "input_sizes"), "depthwise_conv2d_backprop_input",
                        "(kh, kw, C, M)", names)
