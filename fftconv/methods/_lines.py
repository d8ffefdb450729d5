"""Compiled 1-D passes: a kernel along one spatial axis (the direct method's ``"lines"`` strategy).

A convolution whose kernel is 1 along every spatial axis but one is a 1-D
correlation of many lines: the columns of an image for a vertical kernel, its
rows for a horizontal one.  The low-rank method (:mod:`fftconv.methods.lowrank`)
runs every rank term as such passes, and FIR filters over many signals are
the same shape.  numpy's per-tap passes (the ``"taps"`` strategy) read and
write the whole output once per tap; here every output line stays in the L1
cache while each tap is added into it, and the innermost loop runs over
contiguous memory, which the compiler vectorises:

* along a **leading** axis (the kernel runs down the columns), an output row
  ``out[p, o]`` is the sum of ``K`` input rows ``x[p, o * s + k * d]``, each a
  contiguous run of ``(trailing sizes) * C`` values; where channels are mixed
  (several inputs or outputs per group), the input is first copied
  channel-major and each output row summed channel-major in a buffer of its
  own, so that every multiply-add again runs along a contiguous line;
* along the **last** axis (the kernel runs along the rows), one input channel
  and one output channel: the row's taps are contiguous, shifted runs of the
  input row (stride 1); with several channels, each row is first transposed
  to channel-major order in a buffer of its own, so that every tap is again a
  contiguous run.

Each output is the sum of its window's products in the compute dtype, taps
added one by one in kernel order, with IEEE semantics (no ``fastmath``): NaN
and Inf reach exactly the outputs whose window holds them, integers in
float64 are exact below ``2**53``.  The loops release the GIL; ranges of
output lines run on fftconv's thread pool (:mod:`fftconv._runtime.threads`).
Without numba nothing here is compiled and the strategy is not offered.
"""

from __future__ import annotations

import math

import numpy as np

from fftconv._runtime.threads import run_pieces
from fftconv.methods._compiled import HAVE_NUMBA

__all__ = ["HAVE_NUMBA", "pass_axis", "run_lines", "run_separable", "run_separable3"]

#: Multiply-adds below which a pass runs on the calling thread alone.
MIN_PIECE_WORK = 2**18

if HAVE_NUMBA:
    import numba

    @numba.njit(nogil=True, cache=True)
    def _lead_one(x, w, out, s, d, first, last):  # pragma: no cover - compiled
        """``out (P, O, Q) = sum_k w[k] x[p, o*s + k*d]`` for rows ``first <= p*O + o < last``."""
        o_, q_ = out.shape[1], out.shape[2]
        for task in range(first, last):
            p = task // o_
            o = task - p * o_
            row = out[p, o]
            src = x[p, o * s]
            c = w[0]
            for q in range(q_):
                row[q] = src[q] * c
            for k in range(1, w.shape[0]):
                src = x[p, o * s + k * d]
                c = w[k]
                for q in range(q_):
                    row[q] += src[q] * c

    @numba.njit(nogil=True, cache=True)
    def _lead_channels(x, w, out, s, d, first, last):  # pragma: no cover - compiled
        """As :func:`_lead_one` with one coefficient per channel: ``x (P, L, Q, C)``, ``w (K, C)``."""
        o_, q_, c_ = out.shape[1], out.shape[2], out.shape[3]
        for task in range(first, last):
            p = task // o_
            o = task - p * o_
            row = out[p, o]
            src = x[p, o * s]
            for q in range(q_):
                for c in range(c_):
                    row[q, c] = src[q, c] * w[0, c]
            for k in range(1, w.shape[0]):
                src = x[p, o * s + k * d]
                for q in range(q_):
                    for c in range(c_):
                        row[q, c] += src[q, c] * w[k, c]

    @numba.njit(nogil=True, cache=True)
    def _lead_general(xt, w, out, s, d, first, last, acc):  # pragma: no cover - compiled
        """Channels mixed within groups: ``xt (P, G, Cg, L, Q)`` (the input channel-major),
        ``w (K, Cg, G, Og)``, ``out (P, O, Q, G, Og)``. Each output row is summed channel-major in
        a buffer of its own (``acc (G * Og, Q)``), every multiply-add along a contiguous line of
        ``Q`` values, then written back channels-last. ``acc``: the thread's buffer."""
        o_, q_, g_, m_ = out.shape[1], out.shape[2], out.shape[3], out.shape[4]
        cg_ = xt.shape[2]
        for task in range(first, last):
            p = task // o_
            o = task - p * o_
            acc[:] = 0
            for k in range(w.shape[0]):
                for g in range(g_):
                    for c in range(cg_):
                        src = xt[p, g, c, o * s + k * d]
                        for m in range(m_):
                            coef = w[k, c, g, m]
                            a = acc[g * m_ + m]
                            for q in range(q_):
                                a[q] += src[q] * coef
            row = out[p, o]
            for q in range(q_):
                for g in range(g_):
                    for m in range(m_):
                        row[q, g, m] = acc[g * m_ + m, q]

    @numba.njit(nogil=True, cache=True)
    def _last_one(x, w, out, s, d, first, last):  # pragma: no cover - compiled
        """``out (P, O) = sum_k w[k] x[p, o*s + k*d]`` for lines ``first <= p < last``."""
        o_ = out.shape[1]
        for p in range(first, last):
            row = out[p]
            src = x[p]
            if s == 1:  # contiguous, shifted runs of the input line
                seg = src[0:o_]
                c = w[0]
                for o in range(o_):
                    row[o] = seg[o] * c
                for k in range(1, w.shape[0]):
                    seg = src[k * d:k * d + o_]
                    c = w[k]
                    for o in range(o_):
                        row[o] += seg[o] * c
            else:
                c = w[0]
                for o in range(o_):
                    row[o] = src[o * s] * c
                for k in range(1, w.shape[0]):
                    c = w[k]
                    off = k * d
                    for o in range(o_):
                        row[o] += src[off + o * s] * c

    @numba.njit(nogil=True, cache=True)
    def _last_general(x, w, out, s, d, first, last, lines, acc):  # pragma: no cover - compiled
        """Along the last axis with channels: ``x (P, L, G, Cg)``, ``w (K, Cg, G, Og)``,
        ``out (P, O, G, Og)``; each line transposed to channel-major order first."""
        o_, g_, m_ = out.shape[1], out.shape[2], out.shape[3]
        l_, cg_ = x.shape[1], x.shape[3]
        k_ = w.shape[0]
        for p in range(first, last):
            src = x[p]
            for i in range(l_):
                for g in range(g_):
                    for c in range(cg_):
                        lines[g * cg_ + c, i] = src[i, g, c]
            for g in range(g_):
                for m in range(m_):
                    for o in range(o_):
                        acc[o] = 0
                    for c in range(cg_):
                        line = lines[g * cg_ + c]
                        for k in range(k_):
                            coef = w[k, c, g, m]
                            if s == 1:
                                seg = line[k * d:k * d + o_]
                                for o in range(o_):
                                    acc[o] += seg[o] * coef
                            else:
                                off = k * d
                                for o in range(o_):
                                    acc[o] += line[off + o * s] * coef
                    for o in range(o_):
                        out[p, o, g, m] = acc[o]


if HAVE_NUMBA:
    @numba.njit(nogil=True, cache=True, inline="always")
    def _pair(dst, a, b, c, sym, assign):  # pragma: no cover - compiled
        """``dst (=|+=) (a + sym * b) * c`` (``b`` unused where ``sym`` is 0)."""
        n = dst.shape[0]
        if sym == 0:
            if assign:
                for q in range(n):
                    dst[q] = a[q] * c
            else:
                for q in range(n):
                    dst[q] += a[q] * c
        elif sym > 0:
            if assign:
                for q in range(n):
                    dst[q] = (a[q] + b[q]) * c
            else:
                for q in range(n):
                    dst[q] += (a[q] + b[q]) * c
        else:
            if assign:
                for q in range(n):
                    dst[q] = (a[q] - b[q]) * c
            else:
                for q in range(n):
                    dst[q] += (a[q] - b[q]) * c

    @numba.njit(nogil=True, cache=True)
    def _separable_sum(x, us, vs, out, s0, d0, s1, d1, top, left, l1_, first, last, tmps, line, syms0,
                       syms1):  # pragma: no cover - compiled
        """A sum of ``R`` rank-1 kernels ``outer(us[t], vs[t])`` of one channel, row by row: for
        output row ``o``, ``tmps[t]`` the column pass of term ``t`` (``sum_k us[t, k] xp[p, o*s0 +
        k*d0]`` over the ``l1_`` columns of the used extent), then the row passes of every term
        summed into ``out[p, o]``; no intermediate image, and the input rows of an output row read
        by every term while they are in cache.

        ``x (P, H, W)`` is the input with ``top`` rows and ``left`` columns of zeros before it
        (``xp``; 0 and 0 where ``x`` is the padded extent itself): rows and columns of zeros are
        not read, their products being exact zeros (the factors are finite). ``syms0[t]``,
        ``syms1[t]``: ``us[t]``, ``vs[t]`` (anti)symmetric (1, -1) or not (0): mirrored taps then
        share one multiplication, as OpenCV's separable filters do for symmetric kernels.
        ``line``: a buffer of ``O1 * K1`` values for the row pass of a strided output."""
        o0_, o1_ = out.shape[1], out.shape[2]
        w_ = x.shape[2]
        r_, k1 = us.shape[0], vs.shape[1]
        lz = min(left, l1_)
        cols = max(0, min(w_, l1_ - lz))  # the input's columns in the used extent, from tmp[left]
        for t in range(r_):
            for q in range(lz):
                tmps[t, q] = 0
            for q in range(lz + cols, l1_):
                tmps[t, q] = 0
        for task in range(first, last):
            p = task // o0_
            o = task - p * o0_
            base = o * s0 - top
            row = out[p, o]
            for t in range(r_):
                _plane_sum(x[p], us[t], tmps[t, lz:], base, d0, syms0[t], 0, cols)
            for t in range(r_):
                v, sym1, tmp = vs[t], syms1[t], tmps[t]
                n1 = k1 // 2 if sym1 != 0 else k1
                if s1 == 1:
                    src = tmp
                    step = d1
                else:  # the taps' samples gathered into contiguous runs first
                    for j in range(k1):
                        seg = line[j * o1_:(j + 1) * o1_]
                        for q in range(o1_):
                            seg[q] = tmp[j * d1 + q * s1]
                    src = line
                    step = o1_
                for j in range(n1):
                    _pair(row, src[j * step:j * step + o1_], src[(k1 - 1 - j) * step:(k1 - 1 - j) * step + o1_],
                          v[j], sym1, t == 0 and j == 0)
                if n1 < k1 and k1 % 2:
                    _pair(row, src[n1 * step:n1 * step + o1_], src[0:o1_], v[n1], 0, t == 0 and n1 == 0)


if HAVE_NUMBA:
    @numba.njit(nogil=True, cache=True)
    def _plane_sum(x, u, tmp, base, d0, sym0, first, last):  # pragma: no cover - compiled
        """``tmp[first:last] = sum_k u[k] x[base + k*d0, first:last]`` over the planes ``x (D, Q)``
        inside ``0 <= base + k*d0 < D`` (the others zeros, not read); mirrored taps of an
        (anti)symmetric ``u`` (``sym0`` 1 or -1) summed first."""
        d_, k0 = x.shape[0], u.shape[0]
        n0 = k0 // 2 if sym0 != 0 else k0
        acc = tmp[first:last]
        first_tap = True
        for k in range(n0):
            ra, rb = base + k * d0, base + (k0 - 1 - k) * d0
            a_in, b_in = 0 <= ra < d_, sym0 != 0 and 0 <= rb < d_
            if a_in and b_in:
                _pair(acc, x[ra, first:last], x[rb, first:last], u[k], sym0, first_tap)
            elif a_in:
                _pair(acc, x[ra, first:last], x[ra, first:last], u[k], 0, first_tap)
            elif b_in:
                _pair(acc, x[rb, first:last], x[rb, first:last], u[k] if sym0 > 0 else -u[k], 0, first_tap)
            else:
                continue
            first_tap = False
        if n0 < k0 and k0 % 2:  # the middle tap of an odd (anti)symmetric factor
            r = base + n0 * d0
            if 0 <= r < d_:
                _pair(acc, x[r, first:last], x[r, first:last], u[n0], 0, first_tap)
                first_tap = False
        if first_tap:
            for q in range(acc.shape[0]):
                acc[q] = 0


if HAVE_NUMBA:
    @numba.njit(nogil=True, cache=True)
    def _volume_one(x, u, vs, ws, out, h, s0, d0, front, s1, d1, s2, d2, top, left, l2_, first, last, plane,
                    tmps, line, sym0, syms1, syms2):  # pragma: no cover - compiled
        """Output planes ``first <= task < last`` (``task = i * O0 + o``) of a rank-1 3-D kernel:
        the plane pass (:func:`_plane_sum`) into ``plane``, then both passes of
        ``outer(vs[0], ws[0])`` row by row on it (:func:`_separable_sum`). ``x (N, D, H * W)``,
        ``out (N, O0, O1, O2)``."""
        o0_ = out.shape[1]
        hw = x.shape[2]
        img = plane.reshape(1, h, hw // h)
        for task in range(first, last):
            i = task // o0_
            o = task - i * o0_
            _plane_sum(x[i], u, plane, o * s0 - front, d0, sym0, 0, hw)
            dst = out[i, o].reshape(1, out.shape[2], out.shape[3])
            _separable_sum(img, vs, ws, dst, s1, d1, s2, d2, top, left, l2_, 0, out.shape[2], tmps, line,
                           syms1, syms2)


def run_separable3(x: np.ndarray, u: np.ndarray, v: np.ndarray, w: np.ndarray, strides, dilations, output_shape,
                   used_width, pads=(0, 0, 0), workers=None) -> np.ndarray:
    """A rank-1 kernel ``u x v x w`` of one channel in 3-D, plane by plane (:func:`_volume_one`): each
    output plane's pass along the first axis summed into one plane (mirrored taps of an
    (anti)symmetric ``u`` first), then both passes of ``outer(v, w)`` row by row on it; no
    intermediate volume; ranges of output planes on the threads. ``x`` ``(N, D, H, W, 1)``
    C-contiguous in the compute dtype, with ``pads`` ``(front, top, left)`` zeros implied before it
    (zeros where ``x`` is the padded used extent). Returns a new output ``output_shape``
    ``(N, O0, O1, O2, 1)``."""
    (s0, s1, s2), (d0, d1, d2), (front, top, left) = strides, dilations, pads
    n, d, h, wd = x.shape[:4]
    out = np.empty(output_shape, dtype=u.dtype)  # returned as it is: it owns its memory
    x3, o4 = x.reshape(n, d, h * wd), out.reshape(output_shape[:4])
    tasks = n * output_shape[1]
    work = tasks * (h * wd * len(u) + output_shape[2] * (used_width * len(v) + output_shape[3] * len(w)))
    pieces = min(workers or 1, tasks, max(work // MIN_PIECE_WORK, 1))
    bounds = [tasks * i // pieces for i in range(pieces + 1)]
    gather = len(w) * output_shape[3] if s2 != 1 else 1
    own = [(np.empty(h * wd, u.dtype), np.empty((1, used_width), u.dtype), np.empty(gather, u.dtype))
           for _ in range(pieces)]  # each thread's plane and rows
    syms1, syms2 = np.array([symmetry(v)], np.int64), np.array([symmetry(w)], np.int64)
    run = lambda i: _volume_one(x3, u, v[None], w[None], o4, h, s0, d0, front, s1, d1, s2, d2, top, left,  # noqa: E731
                                used_width, bounds[i], bounds[i + 1], *own[i], symmetry(u), syms1, syms2)
    if pieces <= 1:
        run(0)
    else:
        run_pieces(run, pieces)
    return out


def symmetry(w: np.ndarray) -> int:
    """1 where the taps ``w`` are symmetric (``w == w[::-1]``), -1 antisymmetric, else 0; exact."""
    if len(w) > 1 and np.array_equal(w, w[::-1]):
        return 1
    if len(w) > 1 and np.array_equal(w, -w[::-1]):
        return -1
    return 0


def run_separable(x: np.ndarray, us: np.ndarray, vs: np.ndarray, strides, dilations, output_shape, used_width,
                  pads=(0, 0), workers=None, out=None) -> np.ndarray:
    """A sum of rank-1 kernels ``outer(us[t], vs[t])`` of one channel in 2-D (``us (R, K0)``,
    ``vs (R, K1)``): both passes of every term row by row (:func:`_separable_sum`), mirrored taps of
    (anti)symmetric factors summed first.

    ``x`` ``(N, H, W, 1)``, C-contiguous in the compute dtype, is the padded used extent, or with
    ``pads`` ``(top, left)`` the input itself, zero-padded by that many rows and columns before it
    (and by zeros after it as far as the ``used_width`` columns and the windows reach). Returns a
    new output ``output_shape`` ``(N, O0, O1, 1)``, or writes into ``out`` (C-contiguous) if given."""
    (s0, s1), (d0, d1), (top, left) = strides, dilations, pads
    n, h, w = x.shape[:3]
    r, k0 = us.shape
    if out is None:
        out = np.empty(output_shape, dtype=us.dtype)  # returned as it is: it owns its memory
    x3, o3 = x.reshape(n, h, w), out.reshape(output_shape[:3])
    tasks = n * output_shape[1]
    work = r * (math.prod(output_shape) * vs.shape[1] + tasks * used_width * k0)
    pieces = min(workers or 1, tasks, max(work // MIN_PIECE_WORK, 1))
    bounds = [tasks * i // pieces for i in range(pieces + 1)]
    gather = vs.shape[1] * output_shape[2] if s1 != 1 else 1
    own = [(np.empty((r, used_width), us.dtype), np.empty(gather, us.dtype)) for _ in range(pieces)]  # per thread
    syms0 = np.array([symmetry(u) for u in us], np.int64)
    syms1 = np.array([symmetry(v) for v in vs], np.int64)
    run = lambda i: _separable_sum(x3, us, vs, o3, s0, d0, s1, d1, top, left, used_width,  # noqa: E731
                                   bounds[i], bounds[i + 1], *own[i], syms0, syms1)
    if pieces <= 1:
        run(0)
    else:
        run_pieces(run, pieces)
    return out


def pass_axis(geom) -> int:
    """The spatial axis a 1-D pass runs along: the kernel's one axis longer than 1 (the last
    axis for a kernel of one tap)."""
    longer = [axis for axis, k in enumerate(geom.kernel) if k > 1]
    return longer[0] if longer else geom.ndim - 1


def fits(geom) -> bool:
    """Whether the loops can run ``geom``: numba installed, a kernel along one axis at most."""
    if not HAVE_NUMBA:
        return False
    axis = pass_axis(geom)
    return all(k == 1 for a, k in enumerate(geom.kernel) if a != axis)


def strided_elsewhere(geom) -> bool:
    """Whether an axis other than the pass' has a stride: its samples are then gathered first."""
    axis = pass_axis(geom)
    return any(s > 1 for a, s in enumerate(geom.strides) if a != axis)


def run_lines(xp: np.ndarray, w: np.ndarray, geom, workers=None) -> np.ndarray:
    """The ``"lines"`` strategy: ``xp`` the padded input's used extent (C-contiguous), ``w`` the
    filters ``(*kernel, C_in/G, C_out)`` in the compute dtype.  Returns a new channels-last output."""
    axis = pass_axis(geom)
    g, cg, og = geom.groups, geom.group_in, geom.group_out
    k, s, d = geom.kernel[axis], geom.strides[axis], geom.dilations[axis]
    # the other axes' strides taken first (a copy): the loops then see stride 1 there
    xp = np.ascontiguousarray(xp[(slice(None), *(slice(None) if a == axis else slice(None, None, st)
                                                 for a, st in enumerate(geom.strides)))])
    taps = np.ascontiguousarray(w.reshape(k, cg, g, og))
    out = np.empty(geom.output_shape, dtype=w.dtype)  # returned as it is: it owns its memory
    lines = geom.batch * math.prod(geom.out_spatial[:axis])
    length, n_out = geom.used_extent[axis], geom.out_spatial[axis]
    last = axis == geom.ndim - 1
    buffers = lambda: ()  # noqa: E731  (each thread's own buffers, made here: numpy's memory)
    if last:
        tasks = lines
        if cg == og == g == 1:
            loop, args = _last_one, (xp.reshape(lines, length), taps.reshape(k), out.reshape(lines, n_out))
        else:
            loop, args = _last_general, (xp.reshape(lines, length, g, cg), taps,
                                         out.reshape(lines, n_out, g, og))
            buffers = lambda: (np.empty((g * cg, length), w.dtype), np.empty(n_out, w.dtype))  # noqa: E731
    else:
        inner = math.prod(geom.out_spatial[axis + 1:])
        tasks = lines * n_out
        if cg == og == g == 1:
            loop, args = _lead_one, (xp.reshape(lines, length, inner), taps.reshape(k),
                                     out.reshape(lines, n_out, inner))
        elif cg == og == 1:
            loop, args = _lead_channels, (xp.reshape(lines, length, inner, g), taps.reshape(k, g),
                                          out.reshape(lines, n_out, inner, g))
        else:  # the input channel-major first (a copy), so that every line is contiguous
            xt = np.ascontiguousarray(xp.reshape(lines, length, inner, g, cg).transpose(0, 3, 4, 1, 2))
            loop, args = _lead_general, (xt, taps, out.reshape(lines, n_out, inner, g, og))
            buffers = lambda: (np.empty((g * og, inner), w.dtype),)  # noqa: E731
    work = math.prod(geom.output_shape) * k * cg
    pieces = min(workers or 1, tasks, max(work // MIN_PIECE_WORK, 1))
    if pieces <= 1:
        loop(*args, s, d, 0, tasks, *buffers())
    else:  # ranges of lines, one per thread (the loops release the GIL)
        bounds = [tasks * i // pieces for i in range(pieces + 1)]
        own = [buffers() for _ in range(pieces)]
        run_pieces(lambda i: loop(*args, s, d, bounds[i], bounds[i + 1], *own[i]), pieces)
    return out
