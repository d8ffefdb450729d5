"""Shape arithmetic of the gradient-side ops: pure integers, like :mod:`fftconv._shapes.geometry`.

Every op here is described by the *forward* convolution whose gradient it is,
a :class:`~fftconv._shapes.geometry.ConvGeometry` ``F``: input ``x`` ``(N, *n, C_in)``,
filters ``w`` ``(*k, C_in / G, C_out)``, output ``dy`` ``(N, *O, C_out)``,
strides ``s``, dilations ``d``, pads ``lo`` before each axis.

The transposed convolution (input gradient)
    ``dx[i] = sum dy[o] w[t]`` over the pairs ``o * s + t * d == i + lo``.
    Split by the residue ``r = (i + lo) mod s`` of each output position (the
    *polyphase split*), position ``i + lo = m * s + r`` receives, from tap
    ``t``, ``dy[m - u_t]`` with ``u_t = (t * d) // s``, and only from the taps
    whose ``(t * d) mod s`` is ``r``.  So each residue is a stride-1
    correlation of ``dy`` with the reversed taps of that residue, and its
    outputs land every ``s``-th position of ``dx``.  :class:`TransposeSplit`
    lays all residues side by side as output channels of one stride-1
    correlation over ``dy`` (the residues' kernels aligned in one combined
    kernel, zero where a residue has no tap), so that ``dy`` is read (for the
    FFT method: transformed) once; the results are then written into the
    interleaved output grid.  ``dy`` is never upsampled with zeros.
The filter gradient
    ``dw[t] = sum_{n, o} x_padded[n, o * s + t * d] dy[n, o]``: a correlation
    of ``x`` with ``dy`` as its kernel.  Split by residue like the transpose
    (tap ``t`` reads residue ``(t * d) mod s`` of ``x`` shifted by
    ``(t * d) // s``), it is a stride-1, undilated correlation of each
    residue of ``x`` with ``dy`` (:func:`filter_gradient_geometry`), whose
    outputs at the taps' shifts are the gradient.  The batch axis becomes the
    contracted channel axis and the residues and input channels the batch,
    so the existing methods run it unchanged: its "kernel" is as large as
    the output gradient, which is where the FFT method wins early.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce

from fftconv._shapes.geometry import ConvGeometry

__all__ = ["AxisSplit", "TransposeSplit", "split_axis", "tap_phases", "input_size_range",
           "filter_gradient_geometry", "tap_grid", "any_read", "unread_rows"]


def tap_phases(k: int, s: int, d: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """For each tap ``t < k``: its residue ``(t * d) mod s`` and its shift ``(t * d) // s``.

    Returns ``(residues, residue_index, shift)``: the sorted residues that hold
    a tap, and per tap the index of its residue and its shift.

    Examples
    --------
    >>> tap_phases(3, 2, 1)          # taps 0, 1, 2 at positions 0, 1, 2
    ((0, 1), (0, 1, 0), (0, 0, 1))
    >>> tap_phases(3, 2, 2)          # positions 0, 2, 4: all in residue 0
    ((0,), (0, 0, 0), (0, 1, 2))
    """
    positions = [t * d for t in range(k)]
    residues = tuple(sorted({p % s for p in positions}))
    return residues, tuple(residues.index(p % s) for p in positions), tuple(p // s for p in positions)


def input_size_range(out: int, k_eff: int, s: int, padding, pads=(0, 0)) -> tuple[int, int] | None:
    """The forward input sizes ``(min, max)`` whose convolution gives ``out`` outputs, or None.

    TensorFlow's rule for ``output_shape`` / ``input_sizes``: every size whose
    forward convolution (with the same kernel, stride and padding) has ``out``
    outputs is valid.  SAME gives ``ceil(n / s)``; VALID and explicit pads
    ``(n + lo + hi - eff) // s + 1`` (at least ``eff`` padded samples).

    Examples
    --------
    >>> input_size_range(4, 3, 2, "SAME")
    (7, 8)
    >>> input_size_range(4, 3, 2, "VALID")
    (9, 10)
    >>> input_size_range(4, 3, 1, "EXPLICIT", (1, 1))
    (4, 4)
    >>> input_size_range(0, 3, 2, "VALID") is None
    True
    """
    if padding == "SAME":
        return (0, 0) if out == 0 else ((out - 1) * s + 1, out * s)
    if out < 1:
        return None
    lo = (out - 1) * s + k_eff - sum(pads)
    hi = lo + s - 1
    return None if hi < 0 else (max(lo, 0), hi)


@dataclass(frozen=True)
class AxisSplit:
    """The polyphase split of a transposed convolution along one axis.

    Attributes
    ----------
    stride : int
        The forward stride ``s``: outputs of one residue are ``s`` apart.
    residues : tuple of int
        The residues ``r`` that hold a tap; positions of the other residues are zeros.
    tap_index : tuple of int
        Per forward tap ``t``: its index in the combined kernel.
    tap_residue : tuple of int
        Per forward tap: the index of its residue in ``residues``.
    kernel, dilation : int
        The combined kernel's length and dilation.
    crop : (int, int)
        The ``dy`` samples ``[start, stop)`` the combined correlation reads.
    pads : (int, int)
        Its zero padding around them.
    rows : int
        Its outputs: every residue's outputs, aligned.
    first_row, count, first_out : tuple of int
        Per residue: the first row of its outputs, their number, and the first
        output position ``i`` they land on (the next ones are ``s`` apart).
    unread : tuple of int
        Cropped ``dy`` samples (indices into the crop) that no real tap reads:
        inside the crop only when the output is tiny; the combined kernel's
        zero taps would meet them.
    """

    stride: int
    residues: tuple[int, ...]
    tap_index: tuple[int, ...]
    tap_residue: tuple[int, ...]
    kernel: int
    dilation: int
    crop: tuple[int, int]
    pads: tuple[int, int]
    rows: int
    first_row: tuple[int, ...]
    count: tuple[int, ...]
    first_out: tuple[int, ...]
    unread: tuple[int, ...]

    @property
    def full(self) -> bool:
        """Whether every residue's taps fill the whole combined kernel (its windows are exact)."""
        per_residue = [sum(1 for r in self.tap_residue if r == i) for i in range(len(self.residues))]
        return all(c == self.kernel for c in per_residue)


def split_axis(n: int, out: int, k: int, s: int, d: int, lo: int) -> AxisSplit:
    """Split one axis of the transposed convolution of ``dy`` (``out`` samples) into ``n`` outputs.

    ``k``, ``s``, ``d``, ``lo``: the forward kernel, stride, dilation and pad
    before.  Output ``i`` (padded position ``p = i + lo = m * s + r``) reads
    ``dy[m - u_t]`` for the taps ``t`` of residue ``r``; the combined kernel
    holds tap ``t`` at index ``(U - u_t) / c`` (``U`` the largest shift, ``c``
    the common factor of all shifts, its dilation), so that combined output
    row ``m - m_min`` reads ``dy[m - U + j * c]`` at index ``j``.

    Examples
    --------
    >>> a = split_axis(8, 4, 3, 2, 1, 0)          # VALID-like: taps 0, 1, 2, stride 2
    >>> a.residues, a.tap_index, a.kernel, a.rows
    ((0, 1), (1, 1, 0), 2, 4)
    >>> a.first_row, a.count, a.first_out
    ((0, 0), (4, 4), (0, 1))
    """
    residues, residue_of, shift = tap_phases(k, s, d)
    big = max(shift)
    step = reduce(math.gcd, shift, 0) or 1  # every shift is a multiple of it: the combined dilation
    index = tuple((big - u) // step for u in shift)
    m_first = [-((r - lo) // s) for r in residues]             # ceil((lo - r) / s)
    m_last = [(lo + n - 1 - r) // s for r in residues]
    counts = [max(0, b - a + 1) for a, b in zip(m_first, m_last)]
    first_out = tuple(m * s + r - lo for m, r in zip(m_first, residues))
    live = [i for i, c in enumerate(counts) if c > 0]
    m_min = min((m_first[i] for i in live), default=0)
    m_max = max((m_last[i] for i in live), default=-1)
    # dy index read by row mm at combined index j: mm + m_min - big + j * step
    start, stop = max(m_min - big, 0), min(out, m_max + 1)
    if stop <= start:  # no output reads any dy sample: the outputs are zeros
        return AxisSplit(s, residues, index, residue_of, big // step + 1, step, (0, 0), (0, 0), 0,
                         tuple(0 for _ in residues), tuple(counts), first_out, ())
    rows = m_max - m_min + 1
    before = start - (m_min - big)
    after = rows + big - (stop - start) - before
    if after < 0:  # cannot happen: stop <= m_max + 1 keeps the reads inside
        raise AssertionError("combined correlation reads past its crop")
    read = set()
    for t, (ri, u) in enumerate(zip(residue_of, shift)):
        if counts[ri]:
            read.update(range(max(m_first[ri] - u, start), min(m_last[ri] - u + 1, stop)))
    unread = tuple(i - start for i in range(start, stop) if i not in read)
    return AxisSplit(s, residues, index, residue_of, big // step + 1, step, (start, stop), (before, after),
                     rows, tuple(max(m - m_min, 0) for m in m_first), tuple(counts), first_out, unread)


@dataclass(frozen=True)
class TransposeSplit:
    """The polyphase split of the transposed convolution of a forward geometry ``F``.

    ``conv`` is the one stride-1 correlation over ``dy`` that computes every
    residue; its output channels are ordered ``(group, phase, channel)``, a
    phase being one residue per axis.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> f = check_geometry((1, 8, 8, 2), (3, 3, 2, 4), 2, 2, "SAME", "NHWC", 1, None, False)
    >>> split = TransposeSplit.of(f)
    >>> split.phases, split.conv.kernel, split.conv.out_channels, split.conv.out_spatial
    (4, (2, 2), 8, (4, 4))
    """

    forward: ConvGeometry
    axes: tuple[AxisSplit, ...]

    @classmethod
    def of(cls, forward: ConvGeometry) -> "TransposeSplit":
        f = forward
        axes = tuple(split_axis(n, o, k, s, d, lo) for n, o, k, s, d, (lo, _) in
                     zip(f.spatial, f.out_spatial, f.kernel, f.strides, f.dilations, f.pads))
        return cls(f, axes)

    @property
    def phases(self) -> int:
        """Phases computed: the product of the active residues per axis."""
        return math.prod(len(a.residues) for a in self.axes)

    @property
    def complete(self) -> bool:
        """Whether every output position belongs to an active residue (else some are zeros)."""
        return all(len(a.residues) == a.stride for a in self.axes)

    @property
    def exact_windows(self) -> bool:
        """Whether the combined kernel has no zero taps and reads no unread sample: the
        correlation's windows are then exactly the transposed convolution's."""
        return all(a.full and not a.unread for a in self.axes)

    @property
    def is_empty(self) -> bool:
        """True when the output has no elements, or nothing reaches it (the output is zeros)."""
        f = self.forward
        return (math.prod(f.input_shape) == 0 or math.prod(f.output_shape) == 0
                or any(a.rows == 0 for a in self.axes))

    @property
    def is_identity_layout(self) -> bool:
        """Whether the correlation's output is the transposed convolution's, as it is (one phase,
        no offset): true for every stride-1 transposed convolution."""
        return all(a.stride == 1 and a.first_out == (0,) and a.rows == n
                   for a, n in zip(self.axes, self.forward.spatial))

    @property
    def conv(self) -> ConvGeometry:
        """The stride-1 correlation over the cropped ``dy`` that computes every phase."""
        f = self.forward
        return ConvGeometry(
            batch=f.batch, spatial=tuple(b - a for a, b in (x.crop for x in self.axes)),
            in_channels=f.out_channels, out_channels=f.groups * self.phases * f.group_in,
            groups=f.groups, kernel=tuple(a.kernel for a in self.axes), strides=(1,) * f.ndim,
            dilations=tuple(a.dilation for a in self.axes), pads=tuple(a.pads for a in self.axes),
            out_spatial=tuple(a.rows for a in self.axes))


def filter_gradient_geometry(forward: ConvGeometry) -> ConvGeometry | None:
    """The correlation whose outputs hold the filter gradient of ``forward``, or None if it reads nothing.

    Its input is the padded ``x`` split into the residues of the stride that
    hold a tap (:func:`tap_grid`), each on a grid of ``Q = O + U`` samples per
    axis, and reordered to ``(P * C_in / G, *Q, G * N)``: residues and
    channels as the batch, ``(group, image)`` as channels.  Its filters are
    ``dy`` reordered to ``(*O, N, C_out)``, with ``G`` groups, stride 1, no
    padding.  Output ``(residue, c, u, o)`` is ``sum_{n, p} x_r[n, p + u, c]
    dy[n, p, o]``, so tap ``t`` of the gradient is the output at its residue
    and shift.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> f = check_geometry((2, 9, 9, 3), (3, 3, 3, 4), 2, 2, "VALID", "NHWC", 1, None, False)
    >>> g = filter_gradient_geometry(f)
    >>> g.input_shape, g.filters_shape, g.output_shape
    ((12, 5, 5, 2), (4, 4, 2, 4), (12, 2, 2, 4))
    """
    f = forward
    if f.batch == 0 or min(f.out_spatial, default=1) == 0 or f.in_channels == 0 or f.out_channels == 0:
        return None
    grid = tap_grid(f)
    if not any_read(f, grid):
        return None
    phases = math.prod(len(residues) for residues, *_ in grid)
    return ConvGeometry(batch=phases * f.group_in, spatial=tuple(q for *_, q in grid),
                        in_channels=f.groups * f.batch, out_channels=f.out_channels, groups=f.groups,
                        kernel=f.out_spatial, strides=(1,) * f.ndim, dilations=(1,) * f.ndim,
                        pads=((0, 0),) * f.ndim, out_spatial=tuple(max(shift) + 1 for _, _, shift, _ in grid))


def any_read(forward: ConvGeometry, grid=None) -> bool:
    """Whether some output reads some input sample (not only padding)."""
    f = forward
    for (lo, _), n, o, k, s, d in zip(f.pads, f.spatial, f.out_spatial, f.kernel, f.strides, f.dilations):
        if not any(0 <= p * s + t * d - lo < n for p in range(o) for t in range(k)):
            return False
    return True


def unread_rows(forward: ConvGeometry) -> list[list[tuple[int, ...]]]:
    """Per axis and active residue, the grid rows of :func:`tap_grid` that no tap reads.

    Row ``j`` of residue ``r`` holds padded position ``j * s + r``; tap ``t``
    of that residue reads rows ``u_t .. u_t + O - 1``.  Rows outside the input
    (padding) hold zeros anyway and are not listed.  Empty unless an output is
    shorter than the gaps between a residue's shifts.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> f = check_geometry((1, 12, 1), (3, 1, 1), 1, 1, "VALID", "NWC", 5, None, False)
    >>> unread_rows(f)   # 2 outputs, taps at 0, 5, 10: rows 2-4 and 7-9 are read by no tap
    [[(2, 3, 4, 7, 8, 9)]]
    """
    out = []
    for (residues, residue_of, shift, q), o, s, (lo, _), n in zip(tap_grid(forward), forward.out_spatial,
                                                                   forward.strides, forward.pads, forward.spatial):
        per_residue = []
        for ri, r in enumerate(residues):
            # the rows read are the union of the intervals [u, u + O): walk them in order, keep the gaps
            # (linear in the taps; a set of every row read was O(taps * O), seconds for long kernels)
            gaps, reach = [], 0
            for u in sorted(u for t, u in enumerate(shift) if residue_of[t] == ri):
                if u > reach:
                    gaps.append(range(reach, u))
                reach = max(reach, u + o)
            gaps.append(range(reach, q))
            per_residue.append(tuple(j for gap in gaps for j in gap if 0 <= j * s + r - lo < n))
        out.append(per_residue)
    return out


def tap_grid(forward: ConvGeometry):
    """The grid of the direct filter gradient: per axis the residues, each tap's residue index
    and shift, and the decimated grid size ``O + max shift``.

    The direct method reads each active residue of the padded input once, on a
    grid of ``Q = O + U`` samples per axis (``U`` the largest shift), and lays
    ``dy`` on the same grid; tap ``t`` is then the same grid shifted by ``u_t``.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> f = check_geometry((1, 9, 9, 1), (3, 3, 1, 1), 2, 2, "VALID", "NHWC", 1, None, False)
    >>> [(res, q) for res, _, _, q in tap_grid(f)]
    [((0, 1), 5), ((0, 1), 5)]
    """
    grid = []
    for k, s, d, o in zip(forward.kernel, forward.strides, forward.dilations, forward.out_spatial):
        residues, residue_of, shift = tap_phases(k, s, d)
        grid.append((residues, residue_of, shift, o + max(shift)))
    return grid
