"""The padded-input reader: every value a method sees comes through :func:`read_padded`.

The reference is :func:`numpy.pad` itself, applied to the whole input, then cut
to the used extent (positions past it must read as zeros), then sampled at the
requested positions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fftconv
from fftconv._shapes.padding import ALIASES, MODES, AxisRead, axis_runs, index_runs, read_padded, run_count, source_index


def _reference(x, reads, mode):
    """np.pad, zeros past the used extent, then the positions ``start + j * step``."""
    pads = [(0, 0), *(r.pads for r in reads), (0, 0)]
    full = np.pad(x, pads, mode=mode) if mode != "constant" or x.size else np.zeros(
        [n + a + b for n, (a, b) in zip(x.shape, pads)])
    out = np.zeros((x.shape[0], *(r.count for r in reads), x.shape[-1]))
    index = []
    for r in reads:
        pos = r.start + r.step * np.arange(r.count)
        index.append(pos)
    for combo in np.ndindex(*(r.count for r in reads)):
        pos = [index[a][j] for a, j in enumerate(combo)]
        if all(0 <= p < r.used for p, r in zip(pos, reads)):
            out[(slice(None), *combo)] = full[(slice(None), *pos)]
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n, pads", [(5, (2, 2)), (5, (0, 7)), (3, (9, 4)), (1, (3, 3)), (6, (6, 6))],
                         ids=["small-pads", "pad-after-only", "pads-larger-than-axis", "one-sample",
                              "pads-equal-axis"])
def test_source_index_is_np_pad(mode, n, pads):
    values = np.arange(10, 10 + n)
    expected = np.pad(values, pads, mode=mode)
    index = source_index(n, *pads, mode)
    got = np.where(index >= 0, values[np.maximum(index, 0)], 0)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("step", [1, 2, 3])
def test_runs_rebuild_the_positions(mode, step):
    read = AxisRead(7, (4, 5), 14, 1, step, -(-15 // step))
    src = np.full(read.count, -1)
    for dst, length, start, src_step in axis_runs(read, mode):
        if start is not None:
            src[dst:dst + length] = start + src_step * np.arange(length)
    pos = read.start + read.step * np.arange(read.count)
    index = source_index(7, 4, 5, mode)
    expected = np.where((pos < read.used), index[np.minimum(pos, len(index) - 1)], -1)
    np.testing.assert_array_equal(src, expected)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("spatial, reads", [
    ((6,), [(0, 1, 10)]),
    ((6,), [(1, 2, 5)]),
    ((5, 4), [(0, 1, 9), (0, 1, 8)]),
    ((5, 4), [(1, 3, 3), (2, 2, 3)]),
    ((3, 4, 2), [(0, 1, 7), (1, 2, 4), (0, 1, 6)]),
], ids=["1d-box", "1d-phase", "2d-box", "2d-phases", "3d-mixed"])
@pytest.mark.parametrize("out_dtype", [np.float32, np.float64])
def test_read_padded_matches_np_pad(mode, spatial, reads, out_dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, *spatial, 3))
    pads = [(2, 2), (3, 1), (1, 2)][:len(spatial)]
    used = [n + a + b - 1 for n, (a, b) in zip(spatial, pads)]  # the last padded position is unread
    axis_reads = [AxisRead(n, p, u, *r) for n, p, u, r in zip(spatial, pads, used, reads)]
    out = np.full((2, *(r[2] for r in reads), 3), np.nan, dtype=out_dtype)
    got = read_padded(x, axis_reads, out, mode)
    assert got is out
    np.testing.assert_allclose(got, _reference(x, axis_reads, mode).astype(out_dtype), rtol=0, atol=0)


def test_read_padded_reads_any_memory_layout():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((3, 9, 10, 4))
    for x in (base[:, ::-2, 1::3], np.asfortranarray(base), base.astype(">f4"),
              np.broadcast_to(base[:1], base.shape)):
        x_before = x.copy()
        reads = [AxisRead(x.shape[1], (2, 1), x.shape[1] + 3, 0, 1, x.shape[1] + 3),
                 AxisRead(x.shape[2], (0, 1), x.shape[2] + 1, 0, 1, x.shape[2] + 1)]
        for mode in MODES:
            out = np.empty((x.shape[0], x.shape[1] + 3, x.shape[2] + 1, x.shape[3]))
            read_padded(x, reads, out, mode)
            np.testing.assert_array_equal(out, _reference(np.asarray(x, np.float64), reads, mode))
        np.testing.assert_array_equal(x, x_before)


def test_read_padded_writes_into_a_strided_view():
    x = np.arange(1.0, 6.0).reshape(1, 5, 1)
    slab = np.full((1, 7, 2, 1), np.nan)
    read_padded(x, [AxisRead(5, (1, 1), 7, 0, 1, 7)], slab[:, :, 1], "reflect")
    np.testing.assert_array_equal(slab[0, :, 1, 0], np.pad(np.arange(1.0, 6.0), 1, mode="reflect"))
    assert np.isnan(slab[:, :, 0]).all()  # the other component is untouched


def test_aliases_name_modes():
    assert set(ALIASES.values()) <= set(MODES)


@given(st.data())
def test_read_padded_random_reads(data):
    nd = data.draw(st.integers(1, 3), label="nd")
    mode = data.draw(st.sampled_from(MODES), label="mode")
    spatial = data.draw(st.tuples(*[st.integers(1, 5)] * nd), label="spatial")
    reads = []
    for n in spatial:
        lo, hi = data.draw(st.integers(0, 7)), data.draw(st.integers(0, 7))
        used = data.draw(st.integers(1, n + lo + hi))
        step = data.draw(st.integers(1, 3))
        start = data.draw(st.integers(0, max(used - 1, 0)))
        count = data.draw(st.integers(0, 6))
        reads.append(AxisRead(n, (lo, hi), used, start, step, count))
    x = np.arange(math.prod((2, *spatial, 2)), dtype=np.float64).reshape(2, *spatial, 2) + 1
    out = np.full((2, *(r.count for r in reads), 2), np.nan)
    read_padded(x, reads, out, mode)
    np.testing.assert_array_equal(out, _reference(x, reads, mode))


# -- pads many times longer than the axis (issue 24) -----------------------------------------

@given(st.data())
def test_long_pads_are_gathered_exactly(data):
    """Pads tens of periods long make hundreds of runs per axis: the gather path, against np.pad."""
    nd = data.draw(st.integers(1, 2), label="nd")
    mode = data.draw(st.sampled_from(MODES[1:]), label="mode")
    spatial = data.draw(st.tuples(*[st.integers(1, 3)] * nd), label="spatial")
    reads = []
    for n in spatial:
        lo, hi = data.draw(st.integers(40, 90)), data.draw(st.integers(40, 90))
        used = data.draw(st.integers(n + lo, n + lo + hi))
        step = data.draw(st.integers(1, 3))
        reads.append(AxisRead(n, (lo, hi), used, data.draw(st.integers(0, 5)), step, 150 // step))
    x = np.arange(math.prod((2, *spatial, 2)), dtype=np.float64).reshape(2, *spatial, 2) + 1
    out = np.full((2, *(r.count for r in reads), 2), np.nan, np.float32)
    read_padded(x, reads, out, mode)
    np.testing.assert_array_equal(out, _reference(x, reads, mode))


@given(st.lists(st.integers(-1, 6), max_size=40))
def test_index_runs_rebuild_any_index_map(values):
    src = np.array(values, dtype=np.int64)
    rebuilt = np.full(len(src), -7)
    for dst, length, start, step in index_runs(src):
        rebuilt[dst:dst + length] = -1 if start is None else start + step * np.arange(length)
    np.testing.assert_array_equal(rebuilt, src)
    assert run_count(src) >= len(index_runs(src)) / 2


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "wrap", "edge"])
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_huge_pads_cost_what_their_elements_cost(mode, method, monkeypatch):
    """A (1, 3, 2, 1) input padded by 300 on every side (issue 24: by 2000, 8.6 s for "reflect"):
    a handful of copies, not one per period of the pads on each axis (about 90,000)."""
    x = np.random.default_rng(0).standard_normal((1, 3, 2, 1))
    w = np.ones((3, 3, 1, 1))
    expected = fftconv.conv2d(np.pad(x, ((0, 0), (300, 300), (300, 300), (0, 0)), mode=mode), w, method=method)
    copies = []
    copyto = np.copyto
    monkeypatch.setattr(np, "copyto", lambda *a, **k: copies.append(1) or copyto(*a, **k))
    y = fftconv.conv2d(x, w, padding=300, padding_mode=mode, method=method)
    monkeypatch.undo()
    assert len(copies) < 200
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_dask_windows_with_huge_pads_are_a_few_pieces():
    from fftconv.dask import window_pieces
    length, pieces = window_pieces((3,), 0, 601, 1, 3, 300, 300, "reflect")
    assert length == 603 and len(pieces) <= 2
    src = np.zeros(length)
    for k, dst, part in pieces:
        src[dst] = np.arange(10.0, 13.0)[part]
    np.testing.assert_array_equal(src, np.pad(np.arange(10.0, 13.0), 300, mode="reflect"))
