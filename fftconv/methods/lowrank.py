"""The low-rank method: kernels that are sums of a few separable terms, run as 1-D passes.

Gaussians and boxes are rank 1 (an outer product of 1-D factors); differences
of Gaussians and Gabor filters rank 2; many measured kernels have a few
dominant terms. A rank-``r`` kernel of ``K x K`` taps costs about ``2 r K``
multiply-adds per output as 1-D passes, against ``K**2`` for the direct
method: 62 against 961 for a 31x31 Gaussian.

**When it runs.** A plan is made from shapes alone, which cannot tell a
kernel's rank, so the method is priced there as unavailable (``inf``).
Binding the filters (``plan.bind``, :class:`fftconv.FilterBank`, and one-shot
calls, which bind) refines the plan (:meth:`LowRankMethod.screen`, then
:meth:`LowRankMethod.refine`): where a rank-1 kernel could beat the planned
method, the rank test runs, and where the kernel's rank makes this method the
faster one, the bound plan runs it; ``print(bound)`` says the rank found and
why. ``method="lowrank"`` runs it on any kernel (a full-rank one as exactly
as the direct method, at about its cost).

**The decomposition.** Kernel axes longer than one tap are separated one at a
time, a tensor-train decomposition per input channel: the kernel of input
channel ``c`` (all its taps and the output channels of its group) is unfolded
as a matrix ``(taps along the first axis, everything else)`` and factored as
``U V`` with ``r`` columns; ``V`` is unfolded again along the next axis, and
so on. The factors come from a cross approximation with complete pivoting
(adaptive cross approximation: each step takes the largest remaining entry's
row and column), which reproduces every entry of an exactly separable kernel
to a few ulps of that entry (``w_ij = w_i0 w_0j / w_00``), where the factors
of a singular value decomposition are accurate only relative to the largest
singular value. Integer kernels of rank 1 are factored into integers (the
pivot row divided by its greatest common divisor).

**The bound.** Let ``E = w - w_r`` be what the truncation drops and ``A`` the
magnitude of the factored form (the sum over its terms of the products of the
factors' absolute values; ``A = |w|`` for a kernel of non-negative factors).
The smallest ranks are kept whose ``E`` satisfies, at every tap,
``|E| <= RHO * s * eps * (A + FLOOR * max|w|)`` (``s`` stages, ``eps`` of the
compute dtype, :data:`RHO`, :data:`FLOOR`), and whose amplification
``kappa = max A / (|w| + FLOOR * max|w|)`` is at most :data:`KAPPA_LIMIT`.
Then every output's truncation error is at most
``RHO * s * kappa * eps * sum_k |x_k| (|w_k| + FLOOR * max|w|)`` (and so, by
Cauchy-Schwarz, at most ``||window||_2 ||E||_F``): on the scale of the direct
method's own rounding of that output, ``eps * sum_k |x_k w_k|`` times the
number of taps in its worst case. The passes' own rounding is that of sums of
``K`` products per axis of magnitude ``A``: at most ``kappa`` times the
direct method's bound. Every error is an output's own window's: the method is
*local*.

**Running.** The padded input's used extent is read once by
:func:`fftconv._shapes.padding.read_padded` (every padding mode); each axis
is then one VALID convolution of the engine, with the kernel along that axis
only, its stride and dilation inside, run by the direct method in the
strategy the engine picks for it (:data:`PASS_METHOD`; the compiled
``"lines"`` strategy where numba is installed), channels
``C_in -> C_in * r1 -> ... -> C_out``, or ``r`` chains of rank-1 passes
(:func:`chains`), each fused into one compiled loop where it has one channel
(:func:`fused`). Every pass sums its window's products with IEEE
arithmetic, zero weights included, so a pass along one axis spreads a NaN or
Inf exactly over the outputs whose window (along that axis) holds it, and the
passes together over the outputs whose window holds it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from fftconv._runtime.arrays import magnitude
from fftconv._runtime.scratch import scratch
from fftconv._runtime.threads import resolve_workers
from fftconv._shapes.geometry import ConvGeometry
from fftconv._shapes.padding import box_reads, read_padded
from fftconv.methods import _lines, direct
from fftconv.methods.base import Method, subplanner

__all__ = ["LowRankMethod", "LowRankSettings", "Factors", "decompose", "pass_geometries", "chains", "fused",
           "RHO", "FLOOR", "KAPPA_LIMIT", "TEST_BUDGET"]

NAME = "lowrank"

#: The truncation keeps ``|E| <= RHO * stages * eps * (A + FLOOR * max|w|)`` at every tap (module docstring).
RHO = 4.0
#: Taps whose weight is below this fraction of the largest count as this fraction: their own
#: relative accuracy is not asked for (a Gaussian's tails are 1e-9 of its peak).
FLOOR = 2.0 ** -10
#: ``auto`` runs this method only where the factored form's magnitude is at most this many times
#: the kernel's at every tap (``kappa``): differences of Gaussians 4, Gabor filters 12 (31x31),
#: a Laplacian of Gaussian whose taps cross zero exactly ~160.
KAPPA_LIMIT = 16.0
#: The rank test may cost at most this fraction of the planned call; it is not run otherwise.
TEST_BUDGET = 0.02
#: The method of the passes (its strategy chosen by the engine): the direct one. FFT passes were
#: tried: their dynamic-range guard reads the zero pads of the padded input as a range no transform
#: can hold (an output window of zeros beside data) and falls back to the direct method at every
#: call, after paying for the check; and a local method keeps NaN, Inf and every error in each
#: output's own window by IEEE arithmetic alone. Kernels long enough for FFT passes to pay are
#: the FFT method's anyway.
PASS_METHOD = "direct"
#: The rank test reads at most this many taps per input channel (larger kernels are not tested).
MAX_TEST_TAPS = 2 ** 16
#: Seconds of the rank test (:meth:`LowRankMethod.refine` on a full-rank kernel): fixed, per cross
#: step, and per kernel value and rank tried. Fitted to the least of 15 timings of each of five
#: kernels on the development machine (2 cores shared by other jobs, 2026-12-07): 113-125 us in
#: 2-D (15x15, 31x31), 155 us for 15x15x15, 205 us for 8 depthwise 31x31 kernels; wall-clock
#: seconds on a loaded machine, so above what the planner's constants would predict.
TEST_SECONDS = (1e-4, 1e-5, 4e-9)


@dataclass(frozen=True)
class LowRankSettings:
    """The low-rank method's settings: the passes, and once the filters are bound, the ranks.

    Attributes
    ----------
    axes : tuple of int
        The spatial axes of the passes, in order (those where the kernel is longer than one tap;
        one pass of the whole kernel where there are fewer than two).
    ranks : tuple of int or None
        The ranks between passes (``C_in * r`` channels after each but the last); None before
        the filters are known.
    passes : tuple
        The engine's plans of the passes in the plan's compute dtype (empty before binding).
    seconds : float
        Predicted seconds of one call: the passes and the padded read (``inf`` before binding).
    why : str
        What the rank test found and why the method runs or not, for the plan's report.
    kappa : float
        Amplification of the factored form over the kernel (module docstring).
    gain : float
        Bound of every intermediate over ``max|x| * max_o sum|w_o|`` (the overflow guard's).
    growth : float
        Bound of every intermediate over ``max|x|``: integer sums are exact below ``2**53``.
    integer : bool
        Every factor is an integer (integer inputs then give exact sums).
    exact_passes : bool
        Every pass runs a method whose integer sums are exact.
    fused : bool
        Each rank-1 term runs its two passes row by row in one compiled loop (:func:`fused`).
    dtype : str
        The compute dtype the pass plans were made for.
    backend : str
        FFT backend of the pass plans.
    workers : int
        Threads of the pass plans.
    cores : tuple of ndarray
        The factors, float64 (not compared: the ranks and passes identify the settings of a plan,
        whose filters are bound with them).
    """

    axes: tuple[int, ...]
    ranks: tuple[int, ...] | None = None
    passes: tuple = ()
    seconds: float = math.inf
    why: str = "needs the filters: tested when they are bound (plan.bind, FilterBank, one-shot calls)"
    kappa: float = 1.0
    gain: float = 1.0
    growth: float = math.inf
    integer: bool = False
    exact_passes: bool = False
    fused: bool = False
    dtype: str = ""
    backend: str = ""
    workers: int = 1
    cores: tuple = field(default=(), compare=False, repr=False)


# -- shapes ---------------------------------------------------------------------------------------

def separable_axes(geom: ConvGeometry) -> tuple[int, ...]:
    """The spatial axes where the kernel is longer than one tap: one pass each (none if fewer
    than two: then a single pass holds the whole kernel)."""
    axes = tuple(a for a, k in enumerate(geom.kernel) if k > 1)
    return axes if len(axes) >= 2 else ()


@functools.lru_cache(maxsize=256)
def pass_geometries(geom: ConvGeometry, axes: tuple[int, ...], ranks) -> tuple[ConvGeometry, ...]:
    """The VALID convolutions the passes run on the padded used extent.

    Pass ``j`` runs along ``axes[j]`` with that axis' taps, stride and
    dilation (the first pass also takes the strides of the axes with one tap);
    channels go ``C_in -> C_in * ranks[0] -> ... -> C_out``, in groups of one
    input channel but for the last pass, grouped as ``geom`` is.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> from fftconv.methods.lowrank import pass_geometries
    >>> g = check_geometry((1, 64, 64, 1), (31, 31, 1, 1), 2, 1, "SAME", "NHWC", 1, None, False)
    >>> [(p.kernel, p.in_channels, p.out_channels) for p in pass_geometries(g, (0, 1), (2,))]
    [((31, 1), 1, 2), ((1, 31), 2, 1)]
    """
    nd, zero = geom.ndim, ((0, 0),) * geom.ndim
    if not axes:  # one pass: the whole kernel on the padded extent
        return (ConvGeometry(geom.batch, geom.used_extent, geom.in_channels, geom.out_channels, geom.groups,
                             geom.kernel, geom.strides, geom.dilations, zero, geom.out_spatial),)
    extent, channels, passes = list(geom.used_extent), geom.in_channels, []
    for j, a in enumerate(axes):
        kernel, strides, dilations = [1] * nd, [1] * nd, [1] * nd
        kernel[a], strides[a], dilations[a] = geom.kernel[a], geom.strides[a], geom.dilations[a]
        if j == 0:  # axes of one tap: their stride in the first pass
            for b in range(nd):
                if b not in axes:
                    strides[b] = geom.strides[b]
        last = j == len(axes) - 1
        groups = geom.groups if last else geom.in_channels
        out_channels = geom.out_channels if last else geom.in_channels * ranks[j]
        out = [(n - (k - 1) * d - 1) // s + 1 for n, k, d, s in zip(extent, kernel, dilations, strides)]
        passes.append(ConvGeometry(geom.batch, tuple(extent), channels, out_channels, groups, tuple(kernel),
                                   tuple(strides), tuple(dilations), zero, tuple(out)))
        extent, channels = out, out_channels
    return tuple(passes)


# -- the rank test ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Factors:
    """A kernel's decomposition: ``cores[j]`` ``(C_in, r_j, taps_j, r_j+1)``, the last
    ``(C_in, r, taps, C_out/G)``; ``error`` is the largest ``|E| / (eps * (A + FLOOR * max|w|))``."""

    ranks: tuple[int, ...]
    cores: tuple
    kappa: float
    error: float
    growth: float
    integer: bool


def _slices(w: np.ndarray, geom: ConvGeometry, axes) -> np.ndarray:
    """``(C_in, taps along axes..., C_out/G)``: each input channel's kernel, float64."""
    g, cg, og = geom.groups, geom.group_in, geom.group_out
    taps = [geom.kernel[a] for a in axes]
    t = np.asarray(w, dtype=np.float64).reshape(*taps, cg, g, og)  # axes of one tap dropped
    m = len(axes)
    return np.ascontiguousarray(np.moveaxis(t, (m + 1, m), (0, 1))).reshape(g * cg, *taps, og)


def _floor(t: np.ndarray, groups: int) -> np.ndarray:
    """``FLOOR * max|w|`` per output channel, broadcast over ``t`` ``(C_in, ..., C_out/G)``."""
    s, og = t.shape[0], t.shape[-1]
    peak = np.abs(t).reshape(groups, s // groups, -1, og).max(axis=(1, 2))  # (G, Og)
    return FLOOR * np.repeat(peak, s // groups, axis=0).reshape(s, *([1] * (t.ndim - 2)), og)


def _integer_rank_one(m: np.ndarray):
    """Integer factors ``(u, v)`` with ``m = u v`` exactly for a stack of integer matrices of
    rank one (or zero), else None."""
    s, rows, cols = m.shape
    if np.abs(m).max(initial=0) >= 2.0 ** 52:
        return None
    mi = m.astype(np.int64)
    flat = np.abs(mi).reshape(s, -1).argmax(axis=1)
    i0, j0 = np.divmod(flat, cols)
    pick = np.arange(s)
    row = mi[pick, i0, :]
    div = np.gcd.reduce(row, axis=1)
    div[div == 0] = 1
    v = row // div[:, None]
    pivot = v[pick, j0]
    safe = np.where(pivot == 0, 1, pivot)
    col = mi[pick, :, j0]
    if np.any(col % safe[:, None]):
        return None
    u = np.where(pivot[:, None] == 0, 0, col // safe[:, None])
    if not np.array_equal(u[:, :, None] * v[:, None, :], mi):
        return None
    return u.astype(np.float64)[:, :, None], v.astype(np.float64)[:, None, :]


@np.errstate(divide="ignore", invalid="ignore", over="ignore")  # zero pivots; filters holding Inf give NaN
def _cross(m: np.ndarray, cap: int, tol: float, floor: np.ndarray):
    """Cross approximation of each matrix of the stack ``m`` ``(S, rows, cols)`` at the smallest
    rank ``r <= cap`` (one rank for the stack) whose residual is within ``tol * (A + floor)``;
    the exact factors ``U = I`` (or ``V = I``) at full rank. ``(U, V)`` or None."""
    s, rows, cols = m.shape
    full = min(rows, cols)
    res, us, vs = m.copy(), [], []
    pick = np.arange(s)
    for _ in range(min(cap, full - 1)):
        flat = np.abs(res).reshape(s, -1).argmax(axis=1)
        i0, j0 = np.divmod(flat, cols)
        pivot = res[pick, i0, j0]
        col = res[pick, :, j0]
        row = np.where(pivot[:, None] != 0, res[pick, i0, :] / pivot[:, None], 0.0)
        res -= col[:, :, None] * row[:, None, :]
        us.append(col)
        vs.append(row)
        u, v = np.stack(us, axis=2), np.stack(vs, axis=1)
        if np.all(np.abs(m - u @ v) <= tol * (np.abs(u) @ np.abs(v) + floor)):
            return u, v
    if cap < full:
        return None
    if rows <= cols:  # exact: the taps along this axis each as a channel of its own
        return np.broadcast_to(np.eye(rows), (s, rows, rows)).copy(), m.copy()
    return m.copy(), np.broadcast_to(np.eye(cols), (s, cols, cols)).copy()


def decompose(w: np.ndarray, geom: ConvGeometry, axes, cap: int, eps: float) -> Factors | None:
    """The tensor-train factors of ``w`` (flipped, real) along ``axes`` at the smallest ranks
    within the bound of the module docstring, each rank at most ``cap``; None if there are none.

    Examples
    --------
    >>> import numpy as np
    >>> from fftconv._checks import check_geometry
    >>> from fftconv.methods.lowrank import decompose
    >>> g = check_geometry((1, 64, 64, 1), (5, 5, 1, 1), 2, 1, "SAME", "NHWC", 1, None, False)
    >>> w = np.outer([1, 4, 6, 4, 1], [1, 2, 0, -2, -1]).reshape(5, 5, 1, 1)
    >>> f = decompose(w, g, (0, 1), 4, np.finfo(np.float32).eps)
    >>> f.ranks, f.integer, f.error
    ((1,), True, 0.0)
    """
    t = _slices(w, geom, axes)
    s, taps = t.shape[0], t.shape[1:-1]
    stages = len(axes) - 1
    floor = _floor(t, geom.groups)
    integer = bool(np.all(t == np.round(t)))
    cur, cores, ranks, prev = t.reshape(s, taps[0], -1), [], [], 1
    for j in range(stages):
        found = _integer_rank_one(cur) if integer else None
        if found is None:
            integer = False
            if j == 0:  # the kernel itself: each output channel's own floor
                stage_floor = np.broadcast_to(floor, t.shape).reshape(cur.shape)
            else:
                stage_floor = FLOOR * np.abs(cur).max(axis=(1, 2), keepdims=True)
            found = _cross(cur, cap, RHO * eps, stage_floor)
        if found is None:
            return None
        prev, cur = _stage(cores, ranks, *found, prev, taps, j)
    cores.append(cur.reshape(s, prev, taps[-1], t.shape[-1]))
    return _checked(t, cores, ranks, floor, eps, geom.groups, integer)


def _stage(cores: list, ranks: list, u: np.ndarray, v: np.ndarray, prev: int, taps, j: int):
    """Stage ``j`` of a factorisation along the axes: ``u`` ``(S, prev * taps[j], r)`` becomes
    core ``j`` and ``r`` its rank; returns ``(r, rest)``, ``rest`` the remainder ``v`` with the
    next axis's taps as rows, ``(S, r * taps[j + 1], -1)``."""
    s, r = u.shape[0], u.shape[2]
    cores.append(u.reshape(s, prev, taps[j], r))
    ranks.append(r)
    return r, v.reshape(s, r * taps[j + 1], -1)


def exact_factors(w: np.ndarray, geom: ConvGeometry, axes) -> Factors:
    """Factors that reproduce ``w`` exactly: at each stage, the taps along that axis as channels
    of their own (``U = I``), or the rest as channels (``V = I``), whichever is fewer."""
    t = _slices(w, geom, axes)
    s, taps = t.shape[0], t.shape[1:-1]
    cur, cores, ranks, prev = t.reshape(s, taps[0], -1), [], [], 1
    for j in range(len(axes) - 1):
        found = _cross(cur, 0, 0.0, 0.0) if min(cur.shape[1:]) == 1 else _identity(cur)
        prev, cur = _stage(cores, ranks, *found, prev, taps, j)
    cores.append(cur.reshape(s, prev, taps[-1], t.shape[-1]))
    return _checked(t, cores, ranks, _floor(t, geom.groups), np.finfo(np.float64).eps, geom.groups,
                    bool(np.all(t == np.round(t))), check=False)


def _identity(m):
    s, rows, cols = m.shape
    if rows <= cols:
        return np.broadcast_to(np.eye(rows), (s, rows, rows)).copy(), m.copy()
    return m.copy(), np.broadcast_to(np.eye(cols), (s, cols, cols)).copy()


def _checked(t, cores, ranks, floor, eps, groups, integer, check=True) -> Factors | None:
    """The :class:`Factors` of ``cores``, if the kernel they make is within the bound."""
    approx, amp, growth = _expand(cores, groups)
    stages = max(len(cores) - 1, 1)
    bound = eps * (amp + floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.abs(t - approx) / bound
        error = float(np.max(np.where(bound > 0, ratios, np.where(t == approx, 0.0, np.inf)), initial=0.0))
        kappa = float(np.max(np.where(amp > 0, amp / (np.abs(t) + floor), 0.0), initial=1.0))
    if check and error > RHO * stages:
        return None
    return Factors(tuple(ranks), tuple(cores), kappa, error, growth, integer)


def _expand(cores, groups):
    """The kernel ``(C_in, taps..., C_out/G)`` the cores make, the magnitude ``A`` of their
    products, and the bound of every pass' outputs over ``max|x|``."""
    full = cores[0][:, 0]  # (S, t0, r1)
    amp = np.abs(full)
    l1 = amp.sum(axis=1)  # (S, r1): the first pass' outputs over max|x|
    growth = 0.0
    for core in cores[1:]:
        growth = max(growth, float(l1.max(initial=0.0)))
        full = np.einsum("s...r,srtn->s...tn", full, core)
        amp = np.einsum("s...r,srtn->s...tn", amp, np.abs(core))
        l1 = np.einsum("sr,srtn->sn", l1, np.abs(core))
    s, og = l1.shape
    last = l1.reshape(groups, s // groups, og).sum(axis=1)  # the last pass sums its group's channels
    return full, amp, max(growth, float(last.max(initial=0.0)))


# -- pricing ---------------------------------------------------------------------------------------

def _multipliers(n_passes: int, rank: int) -> list[int]:
    """How each pass' work grows with a uniform rank ``rank`` (from rank 1): ``C_in -> C_in * r``
    for the first, ``r -> r`` channels per input channel in between, ``r`` per input for the last."""
    if n_passes <= 1:
        return [1]
    return [rank] + [rank * rank] * (n_passes - 2) + [rank]


def _read_seconds(geom: ConvGeometry, itemsize: int, constants: dict) -> float:
    """The padded read of the used extent (none where the input is read in place)."""
    if direct.reads_input_in_place(geom):
        return 0.0
    return 2 * geom.batch * math.prod(geom.used_extent) * geom.in_channels * itemsize / constants["bandwidth"]


def chains(geom: ConvGeometry, axes, ranks) -> int:
    """How many rank-1 chains run the passes (0: one chain of ``C_in -> C_in * r`` channels).

    Where each output channel reads one input channel (single-channel images,
    depthwise layers of multiplier 1) and the kernel has two axes, a rank-``r``
    kernel runs as ``r`` chains of rank-1 passes (one channel in, one out, the
    compiled loops' fastest form) whose results are added, rather than as
    passes that mix ``r`` channels.
    """
    if len(axes) == 2 and geom.group_in == 1 and geom.group_out == 1 and ranks and ranks[0] > 1:
        return ranks[0]
    return 0


def fused(geom: ConvGeometry, axes, ranks) -> bool:
    """Whether each rank-1 term runs both its passes row by row in one compiled loop
    (:func:`fftconv.methods._lines.run_separable`: no intermediate image, and mirrored taps of
    symmetric factors summed before their one multiplication, as OpenCV's separable filters do):
    a 2-D kernel of one input and one output channel, where numba is installed; in 3-D, a kernel of
    rank 1x1 (an outer product of three 1-D factors), plane by plane
    (:func:`fftconv.methods._lines.run_separable3`)."""
    if not (_lines.HAVE_NUMBA and geom.in_channels == 1 and geom.out_channels == 1 and ranks):
        return False
    if geom.ndim == 3:  # a 3-D kernel of rank 1x1, plane by plane (run_separable3)
        return tuple(axes) == (0, 1, 2) and tuple(ranks) == (1, 1)
    return geom.ndim == 2 and tuple(axes) == (0, 1) and (ranks == (1,) or chains(geom, axes, ranks) > 0)


def _plans(geom, axes, ranks, dtype, workers, backend):
    """The engine's plans of the passes at ``ranks`` (rank 1's where they run as chains)."""
    sub = subplanner()
    if chains(geom, axes, ranks):
        ranks = (1,)
    return tuple(sub.plan(p, dtype, workers, backend, PASS_METHOD)
                 for p in pass_geometries(geom, tuple(axes), tuple(ranks)))


def _axes_of(plans) -> tuple:
    """The axes the pass plans run along (each pass' kernel is longer than one tap on one axis)."""
    return tuple(_lines.pass_axis(p.geometry) for p in plans)


def _shared_overhead(n_passes: int, constants: dict) -> float:
    """What the passes' predictions count more than once: each pass is priced as a call of its
    own, with the engine's fixed cost per call (checks, layout, guards), which the passes, run
    from inside one call, pay once between them."""
    return max(n_passes - 1, 0) * constants["call_overhead"]


def _seconds(geom, plans, itemsize, constants, n_chains=0) -> float:
    """Predicted seconds of the passes ``plans`` (``n_chains`` times over, their results added,
    where they run as chains) and of the padded read."""
    sub = subplanner()
    fixed = constants["call_overhead"]
    if not n_chains:
        return (_read_seconds(geom, itemsize, constants) + sum(sub.seconds(p) for p in plans)
                - _shared_overhead(len(plans), constants))
    work = sum(max(sub.seconds(p) - fixed, 0.0) for p in plans)
    adds = 0.0 if fused(geom, _axes_of(plans), (n_chains,)) else \
        (n_chains - 1) * 3 * math.prod(geom.output_shape) * itemsize / constants["bandwidth"]
    return _read_seconds(geom, itemsize, constants) + fixed + n_chains * work + adds


def _test_seconds(geom: ConvGeometry, cap: int) -> float:
    """Predicted seconds of the rank test with ranks up to ``cap``."""
    fixed, step, value = TEST_SECONDS
    values = math.prod(geom.filters_shape)
    steps = (cap + 1) * max(len(separable_axes(geom)) - 1, 1)
    return fixed + steps * step + value * values * (cap + 1)


def _cap(geom, axes, rank_one, itemsize, constants, budget) -> int:
    """The largest uniform rank whose predicted passes (their work scaled from rank 1's, the
    fixed cost of one call once) beat ``budget``."""
    sub = subplanner()
    fixed = constants["call_overhead"]
    work = [max(sub.seconds(p) - fixed, 0.0) for p in rank_one]
    full = max(min(geom.kernel[a] for a in axes), 1)
    read = _read_seconds(geom, itemsize, constants) + fixed
    cap = 0
    for r in range(1, full + 1):
        if read + sum(t * m for t, m in zip(work, _multipliers(len(work), r))) >= budget:
            break
        cap = r
    return cap


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} us"


# -- running ---------------------------------------------------------------------------------------

def pass_filters(factors_cores, geom: ConvGeometry, axes, dtype) -> list[np.ndarray]:
    """Each pass' filters ``(*kernel of the pass, C_in/G of the pass, C_out of the pass)``."""
    nd, g, cg, og = geom.ndim, geom.groups, geom.group_in, geom.group_out
    cores = factors_cores
    if not axes:
        return [np.ascontiguousarray(cores[0], dtype=dtype)]
    out = []
    s = geom.in_channels
    for j, (a, core) in enumerate(zip(axes, cores)):
        _, r_in, taps, r_out = core.shape
        shape = [1] * nd
        shape[a] = taps
        if j < len(axes) - 1:  # groups of one input channel: out channel c * r_out + q
            f = core.transpose(2, 1, 0, 3).reshape(taps, r_in, s * r_out)
        else:  # grouped as geom: in channel (c, r) of group k, out channel k * og + m
            f = core.reshape(g, cg, r_in, taps, og).transpose(3, 1, 2, 0, 4).reshape(taps, cg * r_in, g * og)
        out.append(np.ascontiguousarray(f.reshape(*shape, *f.shape[1:]), dtype=dtype))
    return out


def _run_fused(x, pads=(0, 0), *, us, vs, strides, dilations, shape, used_width, workers):
    return _lines.run_separable(x, us, vs, strides, dilations, shape, used_width, pads, workers)


def _run_fused3(x, pads=(0, 0, 0), *, u, v, w, strides, dilations, shape, used_width, workers):
    return _lines.run_separable3(x, u, v, w, strides, dilations, shape, used_width, pads, workers)


def _reads_unpadded(x, geom: ConvGeometry, settings, dtype) -> bool:
    """Whether fused terms read ``x`` itself, its zero pads implied (not copied): zero padding, ``x``
    C-contiguous, native, in the compute dtype, and finite factors (a pad's product is then an
    exact zero, as the direct method's)."""
    return (settings.fused and geom.padding_mode == "constant" and x.dtype == dtype and x.dtype.isnative
            and x.flags.c_contiguous and all(np.isfinite(c).all() for c in settings.cores))


def _padded(x: np.ndarray, geom: ConvGeometry, dtype) -> np.ndarray:
    """The used extent of the padded input, C-contiguous in ``dtype``: a view of ``x`` where that
    is one, else read once into scratch memory by ``read_padded`` (every padding mode)."""
    view = direct._padded_input(x, geom, dtype, contiguous=True) if _in_place(x, geom, dtype) else None
    if view is not None:
        return view
    buf = scratch("lowrank", (geom.batch, *geom.used_extent, geom.in_channels), dtype)
    return read_padded(x, box_reads(geom, (0,) * geom.ndim, geom.used_extent), buf, geom.padding_mode)


def _in_place(x, geom, dtype) -> bool:
    index = direct._in_place_index(geom)
    return index is not None and x.dtype == dtype and x.dtype.isnative and x[index].flags.c_contiguous


# -- the method, as the engine sees it --------------------------------------------------------------

class LowRankMethod(Method):
    """Separable terms as 1-D passes, chosen once the filters' rank is known (see the module)."""

    name = NAME
    costly_prepare = True  # the factors, and the passes' plans bound to their filters
    local = True  # each output's error and NaN stay in its own window (module docstring)
    integer_exact = False  # integer factors only where integer_result_exact says so
    needs_filters = True

    def plan(self, geom, itemsize, constants, *, reuse_filters=False, backend_speed=1.0, complex_pairs=False):
        return math.inf, self.settings(geom)

    def settings(self, geom, options=None):
        return LowRankSettings(separable_axes(geom))

    def seconds(self, geom, settings, itemsize, constants):
        return settings.seconds

    def peak_bytes(self, geom, settings, itemsize, *, backend=None, final_copy=0, input_as_is=False,
                   contiguous_input=True, kept_only=False):
        in_place = input_as_is and contiguous_input and direct.reads_input_in_place(geom) and \
            direct._used_extent_is_contiguous(geom)
        padded = 0 if in_place else geom.batch * math.prod(geom.used_extent) * geom.in_channels * itemsize
        plans = settings.passes
        if not plans or np.dtype(settings.dtype).itemsize != itemsize:  # before binding: as at rank 1,
            dtype = np.float32 if itemsize == 4 else np.float64  # on this backend and the default threads
            ranks = (1,) * max(len(settings.axes) - 1, 0) if settings.ranks is None else settings.ranks
            name = settings.backend or getattr(backend, "name", None) or "auto"
            workers = settings.workers if settings.passes else resolve_workers(None)
            plans = _plans(geom, settings.axes, ranks, dtype, workers, name)
        sub = subplanner()
        output = math.prod(geom.output_shape) * itemsize
        if settings.ranks is not None and fused(geom, settings.axes, settings.ranks):
            # row by row, every term at once: the output, and per thread a row per term (in 3-D, and
            # one plane of the input's)
            row = 2 * geom.used_extent[-1] * itemsize * settings.ranks[0]
            if geom.ndim == 3:
                row += max(math.prod(geom.spatial[1:]), math.prod(geom.used_extent[1:])) * itemsize
            sums = 0
            if input_as_is and contiguous_input and geom.padding_mode == "constant" and \
                    all(np.isfinite(c).all() for c in settings.cores):
                padded = 0  # the input read as it is, its zero pads implied
            return padded + sums + output + row + (0 if kept_only else final_copy)
        peak, kept, held = padded, padded, 0  # held: the previous pass' output, this pass' input
        for p in plans:
            whole = sub.peak_bytes(p)
            after = sub.peak_bytes(p, kept_only=True)  # its output and the scratch it keeps
            output = math.prod(p.geometry.output_shape) * itemsize
            peak = max(peak, kept + held + whole)
            kept += after - output
            held = output
        if chains(geom, settings.axes, settings.ranks or ()):  # the sum so far beside the next chain
            peak, kept = peak + output, kept + output
        if kept_only:
            return kept + held
        return max(peak, kept + held + final_copy)

    def describe(self, settings):
        text = f"lowrank    {settings.why}"
        if settings.passes:
            sub = subplanner()
            steps = ", ".join(f"axis {p.geometry.kernel.index(max(p.geometry.kernel))} {sub.describe(p)}"
                              for p in settings.passes)
            n = _chained(settings)
            if settings.fused:
                steps = ", ".join(f"axis {a} {max(p.geometry.kernel)} taps" for a, p in zip(settings.axes,
                                                                                             settings.passes))
                text += f"; passes: {steps}, fused row by row"
            else:
                text += f"; passes: {steps}"
            text += (f" (its {n} rank-1 terms at once)" if settings.fused else f" (as {n} rank-1 chains, added)") \
                if n else ""
        return text

    def prepare(self, filters, geom, settings, backend, workers):
        dtype = filters.dtype
        if settings.ranks is None or not settings.cores:  # asked for by name before any refinement
            factors = exact_factors(filters, geom, settings.axes) if settings.axes else None
            ranks = factors.ranks if factors else ()
            cores = factors.cores if factors else (np.asarray(filters, np.float64),)
        else:
            ranks, cores = settings.ranks, settings.cores
        plans = settings.passes
        if not plans or np.dtype(settings.dtype) != dtype or settings.ranks != ranks:
            plans = _plans(geom, settings.axes, ranks, dtype, workers, settings.backend or "auto")
        sub = subplanner()
        n = chains(geom, settings.axes, ranks)
        if not n:
            terms = [cores]
        else:  # (C, 1, taps, r), (C, r, taps, 1): chain j takes term j of each
            terms = [(cores[0][..., j:j + 1], cores[1][:, j:j + 1]) for j in range(n)]
        if fused(geom, settings.axes, ranks) and geom.ndim == 3:
            u, v, w = (f.reshape(-1) for f in pass_filters(cores, geom, settings.axes, dtype))
            passes = pass_geometries(geom, tuple(settings.axes), (1, 1))
            strides = tuple(p.strides[a] for a, p in enumerate(passes))
            dilations = tuple(p.dilations[a] for a, p in enumerate(passes))
            return ((functools.partial(_run_fused3, u=u, v=v, w=w, strides=strides, dilations=dilations,
                                       shape=geom.output_shape, used_width=geom.used_extent[2],
                                       workers=workers),),)
        if fused(geom, settings.axes, ranks):
            first, second = pass_geometries(geom, tuple(settings.axes), (1,))
            strides, dilations = (first.strides[0], second.strides[1]), (first.dilations[0], second.dilations[1])
            factors = [pass_filters(t, geom, settings.axes, dtype) for t in terms]
            us = np.ascontiguousarray([f0.reshape(-1) for f0, _ in factors])
            vs = np.ascontiguousarray([f1.reshape(-1) for _, f1 in factors])
            return ((functools.partial(_run_fused, us=us, vs=vs, strides=strides, dilations=dilations,
                                       shape=geom.output_shape, used_width=geom.used_extent[1], workers=workers),),)
        return tuple(tuple(sub.bind(p, f) for p, f in zip(plans, pass_filters(t, geom, settings.axes, dtype)))
                     for t in terms)

    def execute(self, x, prepared, geom, settings, backend, workers, dtype):
        dtype = np.dtype(dtype)
        if _reads_unpadded(x, geom, settings, dtype):  # fused terms read the input with its pads implied
            xp, args = x, (tuple(before for before, _ in geom.pads),)
        else:
            xp, args = _padded(x, geom, dtype), ()
        y = None
        for chain in prepared:  # one chain, or rank-1 chains whose results are added
            t = xp
            for i, run in enumerate(chain):
                t = run(t, *args) if i == 0 else run(t)
            if y is None:
                y = t
            else:
                y += t
        return y

    def gain(self, geom, settings):
        return settings.gain

    def integer_result_exact(self, x, filters, geom, settings):
        if not (settings.integer and settings.exact_passes):
            return False
        return float(magnitude(x)) * settings.growth < 2.0 ** 53

    # -- once the filters are known --------------------------------------------------------------

    def screen(self, geom, settings, itemsize, constants, *, budget, workers, backend):
        axes = settings.axes
        if not axes:
            return "the kernel runs along one axis: nothing to separate"
        if math.prod(geom.kernel) * geom.group_out > MAX_TEST_TAPS:
            return f"kernels of more than {MAX_TEST_TAPS} taps per input channel are not tested"
        dtype = np.float32 if itemsize == 4 else np.float64
        rank_one = _plans(geom, axes, (1,) * (len(axes) - 1), dtype, workers, backend)
        seconds = _seconds(geom, rank_one, itemsize, constants)
        if seconds >= budget:
            return f"even at rank 1 predicted {_fmt(seconds)}, not below the planned {_fmt(budget)}"
        cap = _cap(geom, axes, rank_one, itemsize, constants, budget)
        test = _test_seconds(geom, cap)
        if test > TEST_BUDGET * budget:
            return (f"the rank test (~{_fmt(test)}) would cost more than {TEST_BUDGET:.0%} of the "
                    f"planned {_fmt(budget)}")
        return None

    def refine(self, geom, filters, settings, itemsize, constants, *, budget, workers, backend):
        axes = settings.axes
        dtype = np.dtype(np.float32 if itemsize == 4 else np.float64)
        eps = float(np.finfo(dtype).eps)
        forced = math.isinf(budget)
        common = dict(axes=axes, dtype=dtype.name, backend=backend, workers=workers)
        if not axes:  # one pass holds the whole kernel
            plans = _plans(geom, axes, (), dtype, workers, backend)
            return _seconds(geom, plans, itemsize, constants), LowRankSettings(
                ranks=(), passes=plans, seconds=_seconds(geom, plans, itemsize, constants),
                why="one pass: the kernel runs along one axis", growth=math.inf,
                cores=(np.asarray(filters, np.float64),), exact_passes=False, **common)
        if forced:  # any rank: the exact factors where no smaller one is within the bound
            cap = 2 ** 31
        else:
            rank_one = _plans(geom, axes, (1,) * (len(axes) - 1), dtype, workers, backend)
            cap = _cap(geom, axes, rank_one, itemsize, constants, budget)
        factors = decompose(filters, geom, axes, cap, eps) if cap > 0 else None
        if factors is not None and factors.kappa > KAPPA_LIMIT and forced:
            factors = None  # asked for by name: the exact factors rather than cancelling terms
        if factors is not None and factors.kappa > KAPPA_LIMIT:
            return math.inf, LowRankSettings(
                why=f"rank {_ranks(factors.ranks)} but its terms cancel (kappa {factors.kappa:.3g} > "
                    f"{KAPPA_LIMIT:g}): not run", **common)
        if factors is None:
            if not forced:
                return math.inf, LowRankSettings(why=f"rank above {cap}, the most that could beat the planned "
                                                     f"{_fmt(budget)}: not run", **common)
            factors = exact_factors(filters, geom, axes)
        plans = _plans(geom, axes, factors.ranks, dtype, workers, backend)
        seconds = _seconds(geom, plans, itemsize, constants, chains(geom, axes, factors.ranks))
        sums = float(np.abs(filters.reshape(-1, filters.shape[-1])).sum(axis=0).max(initial=0.0))
        gain = max(factors.growth / sums, 1.0) if sums > 0 else 1.0
        verdict = "asked for by name" if forced else (
            f"predicted {_fmt(seconds)} < planned {_fmt(budget)}" if seconds < budget else
            f"predicted {_fmt(seconds)}, not below the planned {_fmt(budget)}: not run")
        why = (f"rank {_ranks(factors.ranks)} (truncation <= {factors.error:.2g} eps of A, kappa "
               f"{factors.kappa:.3g}{', integer factors' if factors.integer else ''}): {verdict}")
        sub = subplanner()
        return seconds, LowRankSettings(
            ranks=factors.ranks, passes=plans, seconds=seconds, why=why, kappa=factors.kappa, gain=gain,
            growth=factors.growth, integer=factors.integer,
            exact_passes=all(sub.integer_exact(p) for p in plans), cores=factors.cores,
            fused=fused(geom, axes, factors.ranks), **common)


def _chained(settings: LowRankSettings) -> int:
    """:func:`chains` of bound settings, read from their passes (0 before binding): chained
    passes are rank 1's, whose first keeps the channel count."""
    if not settings.passes or len(settings.axes) != 2 or not settings.ranks or settings.ranks[0] <= 1:
        return 0
    first = settings.passes[0].geometry
    return settings.ranks[0] if first.out_channels == first.in_channels else 0


def _ranks(ranks) -> str:
    return "x".join(map(str, ranks))
