"""The pure shape helpers of :mod:`fftconv._shapes.geometry`, tested on their own."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fftconv._checks import check_geometry
from fftconv._shapes.geometry import ConvGeometry, batch_row_chunks, output_size, same_pads

# -- same_pads --------------------------------------------------------------------------

SAME_PADS_CASES = [
    # (n, eff, stride, expected (before, after))
    (5, 3, 1, (1, 1)),
    (6, 4, 2, (1, 1)),
    (4, 4, 1, (1, 2)),      # even kernel: the odd pixel goes to the end
    (8, 2, 1, (0, 1)),
    (5, 1, 1, (0, 0)),      # 1x1 kernel: no padding
    (7, 3, 2, (1, 1)),
    (6, 3, 2, (0, 1)),      # stride 2 on an even size needs only one extra pixel
    (10, 1, 4, (0, 0)),     # stride larger than the kernel: no padding
    (10, 2, 4, (0, 0)),
    (1, 5, 1, (2, 2)),      # kernel larger than the input
    (3, 8, 1, (3, 4)),
    (2, 7, 3, (2, 3)),
    (13, 5, 3, (2, 2)),     # prime size
    (13, 4, 3, (1, 2)),
]


@pytest.mark.parametrize("n, eff, stride, expected", SAME_PADS_CASES,
                         ids=[f"n{n}-eff{e}-s{s}" for n, e, s, _ in SAME_PADS_CASES])
def test_same_pads_by_hand(n, eff, stride, expected):
    assert same_pads(n, eff, stride) == expected


def test_same_pads_follow_tf_formula_exhaustively():
    for n, eff, s in itertools.product(range(1, 25), range(1, 14), range(1, 6)):
        lo, hi = same_pads(n, eff, s)
        out = math.ceil(n / s)
        total = max((out - 1) * s + eff - n, 0)
        assert (lo, hi) == (total // 2, total - total // 2), (n, eff, s)
        # the padded input is exactly long enough for ceil(n / s) windows
        assert output_size(n, eff, s, lo, hi) == out, (n, eff, s)


# -- output_size ------------------------------------------------------------------------

def _count_windows(n, eff, s, lo, hi):
    """Brute force: window starts o*s with o*s + eff <= padded length."""
    padded = n + lo + hi
    count = 0
    while count * s + eff <= padded:
        count += 1
    return count


OUTPUT_SIZE_CASES = [
    # (n, eff, stride, lo, hi, expected)
    (7, 3, 2, 0, 0, 3),
    (5, 5, 1, 0, 0, 1),       # kernel as large as the input: one output
    (5, 6, 1, 0, 0, -1),      # larger: negative, the caller raises
    (5, 6, 1, 1, 0, 1),       # ... unless padding makes room
    (2, 3, 1, 5, 5, 10),      # padding larger than the input
    (3, 2, 1, 10, 0, 12),     # windows that lie entirely in the padding still count
    (3, 2, 2, 0, 10, 6),
    (0, 1, 1, 0, 0, -1),      # empty axis: not even a 1-tap window fits
    (0, 3, 1, 2, 1, 1),       # ... unless the padding holds one
    (0, 3, 1, 1, 1, -1),
    (10, 1, 4, 0, 0, 3),      # stride larger than the kernel
    (11, 4, 3, 2, 1, 4),
]


@pytest.mark.parametrize("n, eff, stride, lo, hi, expected", OUTPUT_SIZE_CASES,
                         ids=[f"n{c[0]}-eff{c[1]}-s{c[2]}-pad{c[3]},{c[4]}" for c in OUTPUT_SIZE_CASES])
def test_output_size_by_hand(n, eff, stride, lo, hi, expected):
    assert output_size(n, eff, stride, lo, hi) == expected


def test_output_size_counts_windows_exhaustively():
    for n, eff, s, lo, hi in itertools.product(range(0, 12), range(1, 9), range(1, 5),
                                               range(0, 4), range(0, 4)):
        got = output_size(n, eff, s, lo, hi)
        if eff > n + lo + hi:
            assert got < 0, (n, eff, s, lo, hi)
        else:
            assert got == _count_windows(n, eff, s, lo, hi), (n, eff, s, lo, hi)


# -- batch_row_chunks -------------------------------------------------------------------

@pytest.mark.parametrize("batch, rows, per_chunk, expected", [
    (3, 4, 8, [(0, 2, 0, 4), (2, 3, 0, 4)]),
    (1, 5, 2, [(0, 1, 0, 2), (0, 1, 2, 4), (0, 1, 4, 5)]),
    (2, 3, 3, [(0, 1, 0, 3), (1, 2, 0, 3)]),
    (2, 3, 100, [(0, 2, 0, 3)]),
    (2, 3, 0, [(0, 1, 0, 1), (0, 1, 1, 2), (0, 1, 2, 3), (1, 2, 0, 1), (1, 2, 1, 2), (1, 2, 2, 3)]),
    (0, 5, 4, []),
], ids=["images-grouped", "image-cut", "one-image-each", "all-in-one", "zero-budget", "empty-batch"])
def test_batch_row_chunks_by_hand(batch, rows, per_chunk, expected):
    assert list(batch_row_chunks(batch, rows, per_chunk)) == expected


@given(st.integers(0, 6), st.integers(1, 9), st.integers(-1, 40))
def test_batch_row_chunks_cover_every_row_once(batch, rows, per_chunk):
    seen = []
    for n0, n1, r0, r1 in batch_row_chunks(batch, rows, per_chunk):
        assert 0 <= n0 < n1 <= batch and 0 <= r0 < r1 <= rows
        assert (n1 - n0) * (r1 - r0) <= max(per_chunk, 1), "chunk over budget"
        assert n1 - n0 == 1 or (r0, r1) == (0, rows), "several images only as whole images"
        seen += [(n, r) for n in range(n0, n1) for r in range(r0, r1)]
    assert seen == [(n, r) for n in range(batch) for r in range(rows)]


# -- ConvGeometry -----------------------------------------------------------------------

def test_conv_geometry_derived_shapes():
    g = check_geometry((2, 11, 9, 6), (3, 2, 2, 9), 2, (2, 3), "SAME", "NHWC", (2, 1),
                       None, False)
    assert isinstance(g, ConvGeometry)
    assert g.ndim == 2 and g.groups == 3 and g.group_in == 2 and g.group_out == 3
    assert g.eff_kernel == (5, 2)
    assert g.out_spatial == (6, 3)
    assert g.pads == (same_pads(11, 5, 2), same_pads(9, 2, 3))
    assert g.used_extent == (5 * 2 + 5, 2 * 3 + 2)
    assert g.input_shape == (2, 11, 9, 6)
    assert g.output_shape == (2, 6, 3, 9)
    assert g.filters_shape == (3, 2, 2, 9)
    assert g.macs == 2 * 6 * 3 * 9 * 3 * 2 * 2
    assert not g.is_empty


def test_conv_geometry_channels_first_is_normalised():
    g = check_geometry((2, 6, 11, 9), (3, 2, 2, 9), 2, 1, [[0, 0], [0, 0], [1, 2], [3, 4]],
                       "NCHW", 1, None, False)
    assert g.spatial == (11, 9) and g.in_channels == 6
    assert g.pads == ((1, 2), (3, 4))
    assert g.out_spatial == (11 + 3 - 3 + 1, 9 + 7 - 2 + 1)


def test_conv_geometry_empty():
    assert check_geometry((0, 5, 5, 1), (3, 3, 1, 2), 2, 1, "VALID", "NHWC", 1, None, False).is_empty
    assert check_geometry((1, 5, 5, 1), (3, 3, 1, 0), 2, 1, "VALID", "NHWC", 1, None, False).is_empty


def test_same_on_an_empty_axis_gives_an_empty_output():
    # SAME: out = ceil(n / s), so 0 outputs for n = 0 (TensorFlow returns an empty output)
    g = check_geometry((1, 0, 5, 1), (3, 3, 1, 2), 2, 1, "SAME", "NHWC", 1, None, False)
    assert g.out_spatial == (0, 5) and g.is_empty
