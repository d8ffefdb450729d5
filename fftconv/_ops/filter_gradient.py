"""Filter gradients: TF's ``conv2d_backprop_filter`` and ``depthwise_conv2d_backprop_filter``.

The filter gradient of a convolution is a correlation of its input with its
output gradient (:func:`fftconv._shapes.adjoint.filter_gradient_geometry`): the
output gradient plays the kernel, as large as the output, so the FFT method
wins from small kernels on.  The candidates, chosen by predicted cost: that
correlation run by any registered method but the reference one (``"fft"``), or the
reference method's own tap GEMMs (``"direct"``):

``"fft"``
    That correlation, planned and run like any convolution (so under every
    guard of :mod:`fftconv._engine.guards`).  Images are either contracted per
    frequency (one complex GEMM per frequency) or kept apart as channel
    groups and summed after the inverse transforms (elementwise products,
    which beat many tiny GEMMs when each group has one channel); the planner
    prices both.
``"direct"``
    GEMMs over the taps: each active residue of the padded input is read
    once onto a grid of ``O + U`` samples per axis (``U`` the largest tap
    shift), the output gradient laid on the same grid, and tap ``t`` is the
    product of the grid shifted by ``t``'s shift with the output gradient:
    one GEMM per tap on contiguous slices, or one per chunk of rows over a
    patch matrix of every tap (:func:`direct_taps`).  Non-finite values are
    set aside and the taps they reach set to NaN afterwards, as the direct
    method would give; sums that could overflow run in float64 on inputs
    scaled by powers of two.

The direct method's cost is predicted as the forward convolution's (the same
multiply-adds through the same BLAS), the FFT method's as that correlation's.

Parameters shared by the functions here are documented in :mod:`fftconv._ops.forward`.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from dataclasses import dataclass, replace

import numpy as np

from fftconv._engine import planner
from fftconv.methods import METHODS, REFERENCE
from fftconv.methods.base import MethodCannotRun
from fftconv import _checks
from fftconv._engine import guards as _guards
from fftconv._shapes.adjoint import filter_gradient_geometry, tap_grid, unread_rows
from fftconv._runtime.arrays import owned
from fftconv._shapes.geometry import ConvGeometry
from fftconv._engine.measure import MEASURE_CUTOFF, best_seconds
from fftconv._shapes.padding import box_reads, read_padded
from fftconv._engine.plan import ConvPlan, _fmt_seconds, _to_format
from fftconv._runtime.threads import blas_threads, gemm_blas_threads, resolve_workers
from fftconv._runtime.scratch import scratch, trim as trim_scratch
from fftconv.backends import available_backends

__all__ = ["conv1d_backprop_filter", "conv2d_backprop_filter", "conv3d_backprop_filter",
           "depthwise_conv2d_backprop_filter", "plan_conv1d_backprop_filter", "plan_conv2d_backprop_filter",
           "plan_conv3d_backprop_filter", "plan_depthwise_conv2d_backprop_filter", "FilterGradientPlan"]

BACKPROP_FILTER_NAMES = ("input", "filter_sizes", "out_backprop")


# -- the two methods -----------------------------------------------------------------------

def direct_grids(x: np.ndarray, dy: np.ndarray, f: ConvGeometry, dtype):
    """The direct method's operands, in scratch memory: ``(P, rows, C_in)`` and ``(rows, C_out)``.

    Each active residue of the padded input on its grid of ``Q = O + U``
    samples per axis (rows no tap reads zeroed), flattened with the images;
    ``dy`` laid on the same grid, zero past ``O``.
    """
    grid = tap_grid(f)
    q = tuple(g[3] for g in grid)
    phases = tuple(len(g[0]) for g in grid)
    xs = scratch("filter_gradient_input", (math.prod(phases), f.batch, *q, f.in_channels), dtype)
    for flat, combo in enumerate(itertools.product(*(g[0] for g in grid))):
        read_padded(x, box_reads(f, combo, q, f.strides), xs[flat])
    for axis, per_residue in enumerate(unread_rows(f)):
        for combo in itertools.product(*(range(p) for p in phases)):
            if per_residue[combo[axis]]:
                index = [slice(None)] * (f.ndim + 2)
                index[axis + 1] = list(per_residue[combo[axis]])
                xs[np.ravel_multi_index(combo, phases)][tuple(index)] = 0
    ys = scratch("filter_gradient_output", (f.batch, *q, f.out_channels), dtype)
    ys.fill(0)
    ys[(slice(None), *(slice(o) for o in f.out_spatial))] = dy
    return xs.reshape(len(xs), -1, f.in_channels), ys.reshape(-1, f.out_channels)


#: Target size in bytes of the direct filter gradient's chunk of patches.  Larger than the cache on
#: purpose: every chunk is one multi-threaded BLAS call, and on a busy machine each call can wait for a
#: descheduled BLAS thread.  Measured on a 3x3 layer 8x64x64x32 -> 64 (2 threads, 2026-11-30): quiet,
#: 1-2 MB chunks 15.5-16 ms; with another job on the second core, medians 73 ms at 1 MB, 59 ms at 8 MB.
PATCH_BYTES = 8 * 2**20
#: One GEMM per tap runs at the BLAS rate while a tap's operands (its rows of the input grid and the
#: output gradient) stay in the last-level cache; beyond this size the chunked patch GEMM is faster.
#: Measured on 3x3 layers (2 threads, 2026-11-30): 3.3 MB per tap, per-tap 5.0 ms vs chunked 7.6 ms;
#: 13 MB per tap, per-tap 31 ms vs chunked 19.5 ms.
PER_TAP_BYTES = 6 * 2**20


def direct_taps(xs: np.ndarray, ys: np.ndarray, f: ConvGeometry) -> np.ndarray:
    """The filter gradient ``(*k, C_in / G, C_out)`` from :func:`direct_grids`' operands.

    Tap ``t`` reads the grid of its residue shifted by its shift: a contiguous
    slice of ``xs``, so with one group each tap is one GEMM with the output
    gradient, no copy.  When a tap's operands outgrow the cache
    (:data:`PER_TAP_BYTES`), or with groups, the slices of every tap are
    copied, chunk by chunk of rows, side by side into a patch matrix ``(rows,
    taps * C_in / G)`` per group, and one GEMM per group adds the chunk's share
    of every tap at once (the output gradient's rows are then read once, not
    once per tap).  With one channel per group (depthwise) there is nothing to
    contract over channels: each tap's products are summed down the rows.
    """
    grid = tap_grid(f)
    q = tuple(g[3] for g in grid)
    phases = tuple(len(g[0]) for g in grid)
    steps = np.cumprod((1, *q[:0:-1]))[::-1]  # flat rows per step along each axis
    count = ys.shape[0] - int(np.dot([max(g[2]) for g in grid], steps))  # rows every tap can shift by
    taps = [(np.ravel_multi_index(tuple(g[1][t] for g, t in zip(grid, tap)), phases),
             int(np.dot([g[2][t] for g, t in zip(grid, tap)], steps))) for tap in np.ndindex(*f.kernel)]
    g_, cg, og = f.groups, f.group_in, f.group_out
    if g_ == 1 and count * (f.in_channels + f.out_channels) * xs.itemsize <= PER_TAP_BYTES:
        dw = np.empty((len(taps), f.in_channels, f.out_channels), xs.dtype)
        for i, (phase, offset) in enumerate(taps):
            np.matmul(xs[phase, offset:offset + count].T, ys[:count], out=dw[i])
        return dw.reshape(*f.kernel, f.in_channels, f.out_channels)
    if cg == 1 and g_ > 1:
        dw = np.empty((len(taps), og * g_), xs.dtype)
        b = ys[:count].reshape(count, g_, og)
        for i, (phase, offset) in enumerate(taps):
            dw[i] = np.einsum("rg,rgo->go", xs[phase, offset:offset + count], b).reshape(-1)
        return dw.reshape(*f.kernel, 1, -1)
    chunk = max(PATCH_BYTES // (len(taps) * f.in_channels * xs.itemsize), 64)
    patches = scratch("filter_gradient_patches", (g_, chunk, len(taps), cg), xs.dtype)
    acc = np.zeros((g_, len(taps) * cg, og), xs.dtype)
    for r0 in range(0, count, chunk):
        n = min(chunk, count - r0)
        for i, (phase, offset) in enumerate(taps):
            rows = xs[phase, offset + r0:offset + r0 + n].reshape(n, g_, cg)
            np.copyto(patches[:, :n, i], rows.transpose(1, 0, 2))
        b = ys[r0:r0 + n].reshape(n, g_, og)
        for g in range(g_):
            acc[g] += patches[g, :n].reshape(n, -1).T @ b[:, g]
    # (G, taps, cg, og) -> (taps, cg, G, og)
    dw = acc.reshape(g_, len(taps), cg, og).transpose(1, 2, 0, 3)
    return np.ascontiguousarray(dw).reshape(*f.kernel, cg, g_ * og)


def direct_filter_gradient(x: np.ndarray, dy: np.ndarray, f: ConvGeometry, dtype) -> np.ndarray:
    """The filter gradient ``(*k, C_in / G, C_out)`` by one GEMM per tap, in ``dtype``.

    ``x`` and ``dy`` are channels-last; see the module docstring.
    """
    return direct_taps(*direct_grids(x, dy, f, np.dtype(dtype)), f)


def grid_input(x: np.ndarray, f: ConvGeometry, dtype) -> np.ndarray:
    """``x`` ``(N, *n, C_in)`` as the input of :func:`~fftconv._shapes.adjoint.filter_gradient_geometry`:
    ``(P * C_in / G, *Q, G * N)``, each active residue read from the padded input (zero past the
    used extent), and the rows no tap reads zeroed, so that they cannot reach any output."""
    grid = tap_grid(f)
    q = tuple(g[3] for g in grid)
    phases = tuple(len(g[0]) for g in grid)
    nd, g_, cg = f.ndim, f.groups, f.group_in
    out = scratch("filter_gradient_grid", (math.prod(phases), cg, *q, g_, f.batch), dtype)
    parts = x.reshape(*x.shape[:-1], g_, cg)
    for flat, combo in enumerate(itertools.product(*(g[0] for g in grid))):
        view = out[flat].transpose(nd + 2, *range(1, nd + 1), nd + 1, 0)  # (N, *Q, G, cg)
        read_padded(parts, box_reads(f, combo, q, f.strides), view)
    for axis, per_residue in enumerate(unread_rows(f)):
        for combo in itertools.product(*(range(p) for p in phases)):
            rows = per_residue[combo[axis]]
            if rows:
                index = [slice(None)] * (nd + 3)
                index[axis + 2] = list(rows)
                out[np.ravel_multi_index(combo, phases)][tuple(index)[1:]] = 0
    return out.reshape(-1, *q, g_ * f.batch)


def taps_of(y: np.ndarray, f: ConvGeometry) -> np.ndarray:
    """The filter gradient ``(*k, C_in / G, C_out)`` read from the correlation's output
    ``(P * C_in / G, *(U + 1), C_out)``: tap ``t`` at its residue and shift."""
    grid = tap_grid(f)
    y = y.reshape(*(len(g[0]) for g in grid), f.group_in, *y.shape[1:])
    ticks = np.ix_(*(np.arange(k) for k in f.kernel))
    residues = [np.asarray(g[1])[t] for g, t in zip(grid, ticks)]
    shifts = [np.asarray(g[2])[t] for g, t in zip(grid, ticks)]
    return y[(*residues, slice(None), *shifts, slice(None))]


def gradient_as_filters(dy: np.ndarray, f: ConvGeometry, per_image: bool) -> np.ndarray:
    """``dy`` ``(N, *O, C_out)`` as the correlation's filters: ``(*O, N, C_out)``, or with
    ``per_image`` ``(*O, 1, G * N * C_out / G)`` (one group per image and channel group)."""
    nd = f.ndim
    if not per_image:
        return np.moveaxis(dy, 0, -2)
    parts = dy.reshape(*dy.shape[:-1], f.groups, f.group_out)  # (N, *O, G, og)
    moved = parts.transpose(*range(1, nd + 1), nd + 1, 0, nd + 2)  # (*O, G, N, og)
    return moved.reshape(*f.out_spatial, 1, -1)


def per_image_geometry(gamma: ConvGeometry, f: ConvGeometry) -> ConvGeometry:
    """The filter-gradient correlation with every (group, image) its own group, summed afterwards."""
    return replace(gamma, groups=f.groups * f.batch, out_channels=f.out_channels * f.batch)


# -- plans -------------------------------------------------------------------------------

@dataclass(frozen=True, repr=False, eq=False)
class FilterGradientPlan:
    """How one filter gradient will run, decided from shapes alone.

    Attributes
    ----------
    forward : ConvGeometry
        The forward convolution whose filter gradient this is.
    data_format : str
    dtype : numpy.dtype
    method : str
        A registered method's name: what will run.
    requested : str
    estimates : dict
        Predicted seconds of each method.
    conv : ConvPlan or None
        The correlation the FFT method runs (None when there is nothing to compute).
    per_image : bool
        Whether that correlation keeps the images apart (summed afterwards).
    op, names : str, tuple of str
        The operation and its argument names, for messages.
    peak_bytes : int
    measured : dict or None
        Seconds measured per method with ``measure=True``.
    """

    forward: ConvGeometry
    data_format: str
    dtype: np.dtype
    method: str
    requested: str
    estimates: dict
    conv: ConvPlan | None
    per_image: bool = False
    op: str = "conv_backprop_filter"
    names: tuple = BACKPROP_FILTER_NAMES
    peak_bytes: int = 0
    measured: dict | None = None

    @property
    def channels_first(self) -> bool:
        return self.data_format.startswith("NC")

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The forward input's shape, in ``data_format`` order."""
        return _to_format(self.forward.input_shape, self.channels_first)

    @property
    def out_backprop_shape(self) -> tuple[int, ...]:
        """The output gradient's shape, in ``data_format`` order."""
        return _to_format(self.forward.output_shape, self.channels_first)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """The filter gradient's shape, ``(*kernel, C_in / groups, C_out)``."""
        return self.forward.filters_shape

    def __call__(self, input, out_backprop):
        """The filter gradient for ``input`` and ``out_backprop`` (of the planned shapes)."""
        x = _checks.as_real_array(self.names[0], input)
        dy = _checks.as_real_array(self.names[2], out_backprop)
        out_dtype = self._check(x, dy)
        return self._run(x, dy, out_dtype)

    def _check(self, x, dy) -> np.dtype:
        _checks.check_plan_shape(self.names[0], x.shape, self.input_shape)
        _checks.check_plan_shape(self.names[2], dy.shape, self.out_backprop_shape)
        compute, out_dtype = _checks.real_result_dtypes(x.dtype, dy.dtype, (self.names[0], self.names[2]))
        if compute != self.dtype:
            raise ValueError(
                f"`{self.names[0]}` of dtype {x.dtype} with `{self.names[2]}` of dtype {dy.dtype} computes in "
                f"{compute}, but this plan computes in {self.dtype}; plan with dtype={str(compute)!r}")
        _checks.check_memory(self.peak_bytes, self.output_shape)
        return out_dtype

    def _run(self, x, dy, out_dtype, method=None):
        method = method or self.method
        f = self.forward
        gamma = filter_gradient_geometry(f)
        if gamma is None or math.prod(f.filters_shape) == 0:
            return np.zeros(self.output_shape, out_dtype)
        if self.channels_first:
            x, dy = np.moveaxis(x, 1, -1), np.moveaxis(dy, 1, -1)
        if method != REFERENCE and (METHODS[method].local or not self._spectrum_overflows(dy)):
            dw = self._correlation(x, dy)
        else:  # its tap GEMMs on BLAS's threads where they are large (gemm_blas_threads)
            flops = 2 * f.batch * math.prod(f.out_spatial) * math.prod(f.kernel) * f.group_in * f.out_channels
            with blas_threads(gemm_blas_threads(flops, self.conv.workers if self.conv else 1)):
                dw = _guarded_direct(x, dy, f, gamma, self.dtype)
        dw = owned(dw, out_dtype)
        trim_scratch()
        return dw

    def _spectrum_overflows(self, dy) -> bool:
        """Whether ``dy``, the correlation's kernel, is too large for a transform in the plan's dtype
        (the guards of :mod:`fftconv._engine.guards` watch the input, not the kernel): then the direct method,
        which scales such values, runs instead."""
        if _guards.is_integer(dy.dtype) or dy.size == 0:
            return False
        lo, hi = float(dy.min()), float(dy.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):  # NaN and Inf are the spectrum's own business
            finite = np.where(np.isfinite(dy), dy, 0)
            lo, hi = float(finite.min()), float(finite.max())
        return max(-lo, hi) * math.prod(self.forward.out_spatial) * _guards.OVERFLOW_MARGIN > \
            float(np.finfo(self.dtype).max)

    def _correlation(self, x, dy):
        f, conv = self.forward, self.conv
        integer = _guards.is_integer(x.dtype) and _guards.is_integer(dy.dtype)
        xs = grid_input(x, f, x.dtype if integer else self.dtype)
        y = conv.bind(gradient_as_filters(dy, f, self.per_image))(xs)  # (P * cg, *(U + 1), channels)
        if self.per_image:
            y = y.reshape(*y.shape[:-1], f.groups, f.batch, f.group_out).sum(axis=-2)
        return taps_of(y.reshape(*y.shape[:f.ndim + 1], -1), f)

    def __repr__(self) -> str:
        f = self.forward
        est = "   ".join(f"{k} {_fmt_seconds(v)}" for k, v in self.estimates.items())
        lines = [f"FilterGradientPlan: {self.op} {self.data_format} {self.dtype}, method={self.method!r}"
                 f" (asked {self.requested!r})",
                 f"  input {self.input_shape}  out_backprop {self.out_backprop_shape}  ->  filters "
                 f"{self.output_shape}",
                 f"  strides {f.strides}  dilations {f.dilations}  pads {f.pads}  groups {f.groups}"]
        if self.estimates:
            lines.append(f"  predicted  {est}")
        if self.measured:
            lines.append("  measured   " + "   ".join(f"{k} {_fmt_seconds(v)}" for k, v in self.measured.items()))
        if self.conv is not None:
            how = "images kept apart, summed after" if self.per_image else "images contracted per frequency"
            lines.append(f"  fft        a correlation with the output gradient as its kernel ({how}):")
            lines.append("  " + repr(self.conv).replace("\n", "\n  "))
        return "\n".join(lines)


def _guarded_direct(x, dy, f, gamma, dtype):
    """:func:`direct_filter_gradient` under the guards: non-finite values set aside and their taps set
    to NaN, sums that could overflow computed in float64 (scaled by a power of two if need be).

    The checks run on the method's own grids, which hold only the samples some tap reads: a min and a
    max of each decide the usual case.
    """
    xs, ys = direct_grids(x, dy, f, dtype)
    integer = _guards.is_integer(x.dtype) and _guards.is_integer(dy.dtype)
    (bad_x, big_x), (bad_y, big_y) = ((None, 0.0), (None, 0.0)) if integer else (_scan(xs), _scan(ys))
    terms = f.batch * math.prod(f.out_spatial)
    if integer or big_x * big_y * terms * _guards.OVERFLOW_MARGIN <= float(np.finfo(dtype).max):
        dw = direct_taps(xs, ys, f)
    else:  # exact scaling by powers of two, then float64 sums
        ex, ey = _exponent(big_x), _exponent(big_y)
        dw = direct_taps(np.ldexp(xs, -ex, dtype=np.float64), np.ldexp(ys, -ey, dtype=np.float64), f)
        with np.errstate(over="ignore"):
            dw = np.ldexp(dw, ex + ey)
    if bad_x:
        dw[taps_of(_guards.window_any(grid_input(~np.isfinite(x), f, bool), gamma), f)] = np.nan
    if bad_y:
        dw[..., (~np.isfinite(dy)).reshape(-1, f.out_channels).any(axis=0)] = np.nan
    return dw


def _scan(grid) -> tuple[bool, float]:
    """``(whether grid held non-finite values, its largest finite magnitude)``; non-finite values are set
    to zero in place (the grid is the method's own copy)."""
    if grid.size == 0:
        return False, 0.0
    lo, hi = float(grid.min()), float(grid.max())
    if math.isfinite(lo) and math.isfinite(hi):
        return False, max(-lo, hi)
    np.copyto(grid, 0, where=~np.isfinite(grid))
    return True, float(max(-grid.min(), grid.max()))


def _exponent(magnitude: float) -> int:
    """A power of two that brings ``magnitude`` to about 1."""
    return int(np.frexp(magnitude)[1]) if magnitude > 0 else 0


@functools.lru_cache(maxsize=256)
def cached_filter_gradient_plan(forward, data_format, dtype, method, workers, backend, measure, op,
                        names) -> FilterGradientPlan:
    f = forward
    gamma = filter_gradient_geometry(f)
    out_bytes = math.prod(f.filters_shape) * dtype.itemsize
    if gamma is None or math.prod(f.filters_shape) == 0:
        return FilterGradientPlan(f, data_format, dtype, REFERENCE, method, {}, None, False, op, names, out_bytes)
    # the reference method runs this op's own tap GEMMs, priced as the forward convolution; every
    # other method runs the correlation, over the images contracted or kept apart
    estimates = {REFERENCE: planner.plan(f, dtype=dtype, method=REFERENCE, workers=workers,
                                         backend=backend).estimates[REFERENCE]}
    correlations = {}
    for name in METHODS:
        if name == REFERENCE:
            continue
        shapes = [(gamma, False)] + ([(per_image_geometry(gamma, f), True)] if f.batch > 1 else [])
        plans = []
        for g, apart in shapes:
            try:
                plans.append((planner.plan(g, dtype=dtype, method=name, workers=workers, backend=backend), apart))
            except MethodCannotRun:  # a method that runs some shapes only (winograd): not a candidate here
                if method == name:
                    raise
        if not plans:
            estimates[name] = math.inf
            continue
        correlations[name] = min(plans, key=lambda c: c[0].estimates[name])
        estimates[name] = correlations[name][0].estimates[name]
    chosen = min(estimates, key=estimates.get) if method == "auto" else method
    fastest = min((n for n in correlations), key=estimates.get)
    conv, per_image = correlations[chosen if chosen != REFERENCE else fastest]
    grid_bytes = _direct_bytes(f, dtype.itemsize)
    peak = (grid_bytes if chosen == REFERENCE else conv.peak_bytes) + out_bytes
    plan = FilterGradientPlan(f, data_format, dtype, chosen, method, estimates, conv, per_image, op, names, peak)
    if measure and method == "auto":
        plan = _measured(plan)
    return plan


def _direct_bytes(f, itemsize) -> int:
    """The direct method's grids: the input's active residues and the output gradient."""
    grid = tap_grid(f)
    cells = f.batch * math.prod(g[3] for g in grid)
    return cells * (math.prod(len(g[0]) for g in grid) * f.in_channels + f.out_channels) * itemsize


_winners: dict = {}
_lock = threading.Lock()


def _measured(plan: FilterGradientPlan) -> FilterGradientPlan:
    """``plan`` with the method that ran fastest here, timed once per process (``measure=True``)."""
    key = (plan.forward, plan.dtype, plan.conv.workers, plan.conv.backend)
    with _lock:
        if key not in _winners:
            rng = np.random.default_rng(0)
            x = rng.standard_normal(plan.input_shape).astype(plan.dtype)
            dy = rng.standard_normal(plan.out_backprop_shape).astype(plan.dtype)
            fastest = min(plan.estimates.values())
            _winners[key] = {m: best_seconds(lambda m=m: plan._run(x, dy, plan.dtype, m), 1)
                             for m, t in plan.estimates.items() if t <= MEASURE_CUTOFF * fastest}
    times = _winners[key]
    return replace(plan, method=min(times, key=times.get), measured=times)


def _plan_filter_gradient(ndim, x_shape, filter_sizes, dy_shape, strides, padding, data_format, dilations,
                          groups, compute, method, workers, measure, backend, *, names=BACKPROP_FILTER_NAMES,
                          op="conv_backprop_filter", sizes_argument=True, check_names=None) -> FilterGradientPlan:
    """Check every option, then plan (cached); ``names`` name the arrays when the plan is called,
    ``check_names`` (by default the same) the arguments here."""
    method = planner.check_method(method)
    backend = _checks.check_backend(backend, available_backends())
    measure = _checks.check_flag("measure", measure)
    forward = _checks.check_filter_gradient_geometry(
        x_shape, filter_sizes, dy_shape, ndim, strides, padding, data_format,
        _checks.check_dilations_default(dilations), groups, names=check_names or names,
        sizes_argument=sizes_argument)
    return cached_filter_gradient_plan(forward, data_format, compute, method, resolve_workers(workers), backend, measure,
                               op, names)


def _backprop_filter(ndim, x, filter_sizes, dy, strides, padding, data_format, dilations, groups, method,
                     workers, measure, backend, *, names=BACKPROP_FILTER_NAMES, op="conv_backprop_filter"):
    x = _checks.as_real_array(names[0], x)
    dy = _checks.as_real_array(names[2], dy)
    compute, out_dtype = _checks.real_result_dtypes(x.dtype, dy.dtype, (names[0], names[2]))
    plan = _plan_filter_gradient(ndim, x.shape, filter_sizes, dy.shape, strides, padding, data_format,
                                 dilations, groups, compute, method, workers, measure, backend, names=names, op=op)
    return plan._run(x, dy, plan._check(x, dy))


# -- public functions: filter gradients ------------------------------------------------------------

def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, data_format="NHWC",
                           dilations=None, *, groups=None, method="auto", workers=None, measure=False,
                           backend="auto"):
    """The gradient of :func:`~fftconv.conv2d` with respect to its filters, as
    :func:`tf.compat.v1.nn.conv2d_backprop_filter`.

    ``dw[t, c, o] = sum_{n, p} x_padded[n, p * s + t * d, c] * dy[n, p, o]``
    (within each channel group): a correlation of the input with the output
    gradient, planned like a convolution.

    Parameters
    ----------
    input : array_like
        The forward input ``(N, H, W, C_in)`` (or NCHW).
    filter_sizes : sequence of int
        The filters' shape ``(kh, kw, C_in / groups, C_out)``.
    out_backprop : array_like
        The gradient of the forward output, ``(N, out_h, out_w, C_out)`` (or NCHW).
    strides, padding, data_format, dilations
        The forward convolution's, in TensorFlow's forms; ``dilations=None`` is 1.
    groups : int, optional
        Channel groups; ``None`` infers ``C_in // filter_sizes[-2]``.
    method, workers, measure, backend
        As for :func:`~fftconv.conv2d`.

    Returns
    -------
    ndarray
        ``filter_sizes``, with :func:`~fftconv.conv2d`'s dtype rules applied to
        ``input`` and ``out_backprop``.

    Raises
    ------
    ValueError
        Bad shapes or values, e.g. an ``out_backprop`` whose shape is not the
        forward output's, before any work is done.
    TypeError
        Bad types.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> dw = fftconv.conv2d_backprop_filter(x, (3, 3, 1, 1), np.ones((1, 2, 2, 1)), 1, "VALID")
    >>> dw[:, :, 0, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    """
    return _backprop_filter(2, input, filter_sizes, out_backprop, strides, padding, data_format, dilations,
                            groups, method, workers, measure, backend, op="conv2d_backprop_filter")


def conv1d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, data_format="NWC",
                           dilations=None, *, groups=None, method="auto", workers=None, measure=False,
                           backend="auto"):
    """The gradient of :func:`~fftconv.conv1d` with respect to its filters; see :func:`conv2d_backprop_filter`.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.arange(5.0).reshape(1, 5, 1)
    >>> fftconv.conv1d_backprop_filter(x, (2, 1, 1), np.ones((1, 4, 1)), 1, "VALID")[:, 0, 0]
    array([ 6., 10.])
    """
    return _backprop_filter(1, input, filter_sizes, out_backprop, strides, padding, data_format, dilations,
                            groups, method, workers, measure, backend, op="conv1d_backprop_filter")


def conv3d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, data_format="NDHWC",
                           dilations=None, *, groups=None, method="auto", workers=None, measure=False,
                           backend="auto"):
    """The gradient of :func:`~fftconv.conv3d` with respect to its filters, as TensorFlow's
    ``conv3d_backprop_filter_v2``; see :func:`conv2d_backprop_filter`.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> dw = fftconv.conv3d_backprop_filter(np.ones((1, 3, 3, 3, 1)), (2, 2, 2, 1, 1),
    ...                                     np.ones((1, 2, 2, 2, 1)), 1, "VALID")
    >>> dw.shape, float(dw[0, 0, 0, 0, 0])
    ((2, 2, 2, 1, 1), 8.0)
    """
    return _backprop_filter(3, input, filter_sizes, out_backprop, strides, padding, data_format, dilations,
                            groups, method, workers, measure, backend, op="conv3d_backprop_filter")


def depthwise_conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, data_format="NHWC",
                                     dilations=None, *, method="auto", workers=None, measure=False,
                                     backend="auto"):
    """The gradient of :func:`~fftconv.depthwise_conv2d` with respect to its filter, as
    :func:`tf.nn.depthwise_conv2d_backprop_filter`.

    Parameters
    ----------
    input : array_like
        ``(N, H, W, C)`` (or NCHW).
    filter_sizes : sequence of int
        TensorFlow's depthwise filter shape ``(kh, kw, C, M)``.
    out_backprop : array_like
        ``(N, out_h, out_w, C * M)``.
    strides, padding, data_format, dilations, method, workers, measure, backend
        As for :func:`conv2d_backprop_filter`.

    Returns
    -------
    ndarray
        ``(kh, kw, C, M)``.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.ones((1, 4, 4, 2))
    >>> dy = np.stack([np.ones((2, 2)), 2 * np.ones((2, 2))], axis=-1)[None]
    >>> fftconv.depthwise_conv2d_backprop_filter(x, (3, 3, 2, 1), dy, 1, "VALID")[:, :, :, 0][0]
    array([[4., 8.],
           [4., 8.],
           [4., 8.]])
    """
    names = ("input", "filter_sizes", "out_backprop")
    x = _checks.as_real_array(names[0], input)
    sizes = _checks.check_sizes_argument(names[1], filter_sizes, 2, "(kh, kw, C, M)")
    hwio = _checks.check_depthwise_filter(sizes, name=names[1])
    channels = _checks.input_channels(x.shape, data_format, 2, name=names[0])
    _checks.check_depthwise_channels(channels, sizes, (names[0], names[1]))
    dw = _backprop_filter(2, x, hwio, out_backprop, strides, padding, data_format, dilations, channels, method,
                          workers, measure, backend, names=names, op="depthwise_conv2d_backprop_filter")
    return owned(dw.reshape(sizes), dw.dtype)  # a reshaped view would not own its memory


# -- plans -------------------------------------------------------------------------------------------

def plan_conv2d_backprop_filter(input_shape, filter_sizes, out_backprop_shape, strides, padding,
                                data_format="NHWC", dilations=None, *, groups=None, dtype="float32",
                                method="auto", workers=None, measure=False, backend="auto") -> FilterGradientPlan:
    """Plan :func:`conv2d_backprop_filter` from shapes alone.

    Returns
    -------
    FilterGradientPlan
        Frozen and callable: ``plan(input, out_backprop)``.

    Examples
    --------
    >>> import fftconv
    >>> plan = fftconv.plan_conv2d_backprop_filter((4, 128, 128, 3), (31, 31, 3, 16), (4, 98, 98, 16), 1,
    ...                                            "VALID")
    >>> plan.method, plan.output_shape
    ('fft', (31, 31, 3, 16))
    """
    names = ("input_shape", "filter_sizes", "out_backprop_shape")
    return _plan_filter_gradient(2, input_shape, filter_sizes, out_backprop_shape, strides, padding, data_format,
                                 dilations, groups, _checks.real_plan_dtypes(dtype)[0], method, workers, measure,
                                 backend, check_names=names, op="conv2d_backprop_filter")


def plan_conv1d_backprop_filter(input_shape, filter_sizes, out_backprop_shape, strides, padding,
                                data_format="NWC", dilations=None, *, groups=None, dtype="float32",
                                method="auto", workers=None, measure=False, backend="auto") -> FilterGradientPlan:
    """Plan :func:`conv1d_backprop_filter` from shapes alone; see :func:`plan_conv2d_backprop_filter`.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.plan_conv1d_backprop_filter((1, 20000, 1), (1001, 1, 1), (1, 19000, 1), 1, "VALID").method
    'fft'
    """
    names = ("input_shape", "filter_sizes", "out_backprop_shape")
    return _plan_filter_gradient(1, input_shape, filter_sizes, out_backprop_shape, strides, padding, data_format,
                                 dilations, groups, _checks.real_plan_dtypes(dtype)[0], method, workers, measure,
                                 backend, check_names=names, op="conv1d_backprop_filter")


def plan_conv3d_backprop_filter(input_shape, filter_sizes, out_backprop_shape, strides, padding,
                                data_format="NDHWC", dilations=None, *, groups=None, dtype="float32",
                                method="auto", workers=None, measure=False, backend="auto") -> FilterGradientPlan:
    """Plan :func:`conv3d_backprop_filter` from shapes alone; see :func:`plan_conv2d_backprop_filter`.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.plan_conv3d_backprop_filter((1, 8, 8, 8, 1), (3, 3, 3, 1, 2), (1, 6, 6, 6, 2), 1,
    ...                                     "VALID").output_shape
    (3, 3, 3, 1, 2)
    """
    names = ("input_shape", "filter_sizes", "out_backprop_shape")
    return _plan_filter_gradient(3, input_shape, filter_sizes, out_backprop_shape, strides, padding, data_format,
                                 dilations, groups, _checks.real_plan_dtypes(dtype)[0], method, workers, measure,
                                 backend, check_names=names, op="conv3d_backprop_filter")


def plan_depthwise_conv2d_backprop_filter(input_shape, filter_sizes, out_backprop_shape, strides, padding,
                                          data_format="NHWC", dilations=None, *, dtype="float32", method="auto",
                                          workers=None, measure=False, backend="auto") -> FilterGradientPlan:
    """Plan :func:`depthwise_conv2d_backprop_filter` from shapes.

    The plan's ``output_shape`` is the grouped equivalent ``(kh, kw, 1, C *
    M)``; reshape its result to ``(kh, kw, C, M)``.

    Examples
    --------
    >>> import fftconv
    >>> plan = fftconv.plan_depthwise_conv2d_backprop_filter((1, 56, 56, 64), (31, 31, 64, 1),
    ...                                                      (1, 56, 56, 64), 1, "SAME")
    >>> plan.output_shape, plan.method
    ((31, 31, 1, 64), 'fft')
    """
    names = ("input_shape", "filter_sizes", "out_backprop_shape")
    sizes = _checks.check_sizes_argument(names[1], filter_sizes, 2, "(kh, kw, C, M)")
    hwio = _checks.check_depthwise_filter(sizes, name=names[1])
    channels = _checks.input_channels(input_shape, data_format, 2, name=names[0])
    _checks.check_depthwise_channels(channels, sizes, names[:2])
    return _plan_filter_gradient(2, input_shape, hwio, out_backprop_shape, strides, padding, data_format,
                                 dilations, channels, _checks.real_plan_dtypes(dtype)[0], method, workers, measure,
                                 backend, check_names=names, op="depthwise_conv2d_backprop_filter")
