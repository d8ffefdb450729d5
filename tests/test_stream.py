"""Streams: :class:`fftconv.StreamConvolver` and :func:`fftconv.firfilter` against scipy.signal.lfilter.

The reference is one :func:`scipy.signal.lfilter` call over the whole signal
(``a = 1``: the direct definition in float64 or complex128); a MIMO output is a
sum of lfilter calls. Every plan shape is run (the direct method alone, a direct
head before partitioned levels, a first level run on every call, later levels
with growing partitions, a partition length that is not a power of two), by
forcing the plan where the cost model would not pick it, over chunkings of
random lengths from one sample up.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.signal
from hypothesis import given
from hypothesis import strategies as st

import fftconv
from fftconv._ops import stream as _stream
from fftconv._ops.stream import Level, StreamPlan, plan_stream
from fftconv.backends import available_backends

from conftest import assert_close, random

# -- references and helpers ----------------------------------------------------------------


def lfilter_ref(h, x):
    """The stream's definition for each filter layout, by scipy.signal.lfilter in float64/complex128
    (for a single filter longer than 10,000 taps, by scipy.signal.oaconvolve in float64, whose
    error, ~1e-15, is far below every tolerance checked: lfilter would take seconds)."""
    wide = np.complex128 if np.iscomplexobj(h) or np.iscomplexobj(x) else np.float64
    h, x = np.asarray(h, wide), np.asarray(x, wide)
    if h.ndim == 1 and x.ndim == 1 and h.size > 10000:
        return scipy.signal.oaconvolve(x, h)[:x.size]
    if h.ndim == 1:
        return scipy.signal.lfilter(h, 1.0, x, axis=0)
    if h.ndim == 2:
        return np.stack([scipy.signal.lfilter(h[:, c], 1.0, x[:, c]) for c in range(h.shape[1])], axis=1)
    return np.stack([sum(scipy.signal.lfilter(h[:, i, o], 1.0, x[:, i]) for i in range(h.shape[1]))
                     for o in range(h.shape[2])], axis=1)


def chunk_lengths(rng, total, largest):
    """Random chunk lengths from 1 to ``largest`` (mostly small, some large) adding up to ``total``."""
    lengths = []
    while sum(lengths) < total:
        n = int(rng.integers(1, largest + 1)) if rng.random() < 0.7 else int(rng.integers(1, 4))
        lengths.append(min(n, total - sum(lengths)))
    return lengths


def run_chunks(conv, x, lengths):
    out, start = [], 0
    for n in lengths:
        out.append(conv(x[start:start + n]))
        start += n
    return np.concatenate(out)


def make(filters, plan=None, monkeypatch=None, **kwargs):
    """A convolver, its plan forced to ``plan`` where given."""
    if plan is not None:
        monkeypatch.setattr(_stream, "plan_stream", lambda *args, **kw: plan)
    return fftconv.StreamConvolver(filters, **kwargs)


def filter_shape(kind, taps, cin=2, cout=3):
    return {"single": (taps,), "broadcast": (taps,), "channel": (taps, cin), "mimo": (taps, cin, cout)}[kind]


def signal_shape(kind, n, cin=2):
    return (n,) if kind == "single" else (n, cin)


def reference(kind, h, x):
    if kind == "broadcast":  # one filter over every channel
        return np.stack([lfilter_ref(h, x[:, c]) for c in range(x.shape[1])], axis=1)
    return lfilter_ref(h, x)


#: Plans of every shape, for 700 taps: (id, plan).
PLANS = [
    ("direct", StreamPlan(700, 64, 700, (), 0.0)),
    ("head+levels", StreamPlan(700, 64, 32, (Level(32, 32, 3), Level(128, 128, 5)), 0.0)),
    ("first-only", StreamPlan(700, 64, 0, (Level(64, 0, 11),), 0.0)),
    ("first+later", StreamPlan(700, 64, 0, (Level(64, 0, 2), Level(128, 128, 1), Level(256, 256, 2)), 0.0)),
    ("odd-block", StreamPlan(700, 48, 0, (Level(48, 0, 3), Level(96, 144, 6)), 0.0)),
]


# -- exactness against lfilter ---------------------------------------------------------------


@pytest.mark.parametrize("plan", [p for _, p in PLANS], ids=[i for i, _ in PLANS])
@pytest.mark.parametrize("kind", ["single", "broadcast", "channel", "mimo"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.complex64],
                         ids=["float64", "float32", "complex128", "complex64"])
def test_every_plan_and_layout_matches_lfilter(plan, kind, dtype, rng, monkeypatch):
    h = random(rng, filter_shape(kind, 700), dtype)
    x = random(rng, signal_shape("single" if kind == "single" else "channel", 3000), dtype)
    conv = make(h, plan, monkeypatch, block_size=plan.block_size)
    y = run_chunks(conv, x, chunk_lengths(rng, x.shape[0], 300))
    assert conv.plan is plan
    assert_close(y, reference(kind, h, x), dtype)


@pytest.mark.parametrize("taps", [1, 2, 31, 600, 5000])
@pytest.mark.parametrize("block_size", [None, 1, 64, 256, 1000])
def test_planned_streams_match_lfilter(taps, block_size, rng):
    """The plans the cost model picks, over random chunkings (1 sample up)."""
    h, x = random(rng, (taps, 2)), random(rng, (12000, 2))
    conv = fftconv.StreamConvolver(h, block_size=block_size)
    largest = 2 * (block_size or 200)
    y = run_chunks(conv, x, chunk_lengths(rng, x.shape[0], largest))
    assert_close(y, lfilter_ref(h, x), np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mimo_is_a_sum_of_lfilter_calls(dtype, rng):
    h, x = random(rng, (2000, 3, 2), dtype), random(rng, (9000, 3), dtype)
    conv = fftconv.StreamConvolver(h, block_size=128)
    y = run_chunks(conv, x, chunk_lengths(rng, 9000, 500))
    manual = np.zeros((9000, 2))
    for o in range(2):
        for i in range(3):
            manual[:, o] += scipy.signal.lfilter(h[:, i, o].astype(np.float64), 1.0, x[:, i].astype(np.float64))
    assert_close(y, manual, dtype)


def test_long_filter_many_levels(rng):
    """A filter long enough for three or more levels, in audio-sized blocks."""
    h, x = random(rng, (40000,), np.float32), random(rng, (60000,), np.float32)
    conv = fftconv.StreamConvolver(h, block_size=256)
    assert len(conv.plan.levels) >= 3
    y = run_chunks(conv, x, [256] * 200 + chunk_lengths(rng, 60000 - 256 * 200, 3000))
    assert_close(y, lfilter_ref(h, x), np.float32)


@given(taps=st.integers(1, 400), block=st.one_of(st.none(), st.integers(1, 300)),
       lengths=st.lists(st.integers(1, 700), min_size=1, max_size=12),
       kind=st.sampled_from(["single", "channel", "mimo"]), seed=st.integers(0, 2**16))
def test_any_chunking_equals_one_lfilter_call(taps, block, lengths, kind, seed):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal(filter_shape(kind, taps, 2, 2))
    x = rng.standard_normal(signal_shape("single" if kind == "single" else "channel", sum(lengths)))
    conv = fftconv.StreamConvolver(h, block_size=block)
    assert_close(run_chunks(conv, x, lengths), lfilter_ref(h, x), np.float64)


def test_long_chunks_run_in_pieces(rng, monkeypatch):
    monkeypatch.setattr(_stream, "MAX_PIECE", 1000)
    h, x = random(rng, (3000,)), random(rng, (9000,))
    conv = fftconv.StreamConvolver(h, block_size=64)
    y = np.concatenate([conv(x[:8500]), conv(x[8500:])])
    assert_close(y, lfilter_ref(h, x), np.float64)


@pytest.mark.parametrize("backend", available_backends())
def test_every_backend(backend, rng):
    h, x = random(rng, (3000, 2), np.float32), random(rng, (8000, 2), np.float32)
    conv = fftconv.StreamConvolver(h, block_size=256, backend=backend)
    assert conv.plan.levels
    assert_close(run_chunks(conv, x, chunk_lengths(rng, 8000, 700)), lfilter_ref(h, x), np.float32)


# -- dtypes, state, reset ----------------------------------------------------------------------


@pytest.mark.parametrize("chunk_dtype, filters_dtype, out_dtype", [
    (np.float32, np.float32, np.float32), (np.float64, np.float32, np.float64),
    (np.float16, np.float16, np.float16), (np.int16, np.float32, np.float64),
    (np.complex64, np.float32, np.complex64), (np.float32, np.complex128, np.complex128),
    (np.int32, np.int8, np.float64), (bool, np.int16, np.float64)])
def test_dtypes(chunk_dtype, filters_dtype, out_dtype, rng):
    h = (rng.standard_normal(500) * 4).astype(filters_dtype)
    x = (rng.standard_normal(3000) * 4).astype(chunk_dtype)
    conv = fftconv.StreamConvolver(h, block_size=100)
    y = run_chunks(conv, x, chunk_lengths(rng, 3000, 300))
    assert y.dtype == out_dtype and conv.dtype == out_dtype
    expected = lfilter_ref(h, x)
    if np.dtype(chunk_dtype).kind in "biu" and np.dtype(filters_dtype).kind in "biu":
        np.testing.assert_array_equal(y, expected)  # integers: exact
    else:
        assert_close(y, expected, out_dtype)


def test_integers_exact_when_the_transforms_could_not_be(rng):
    """Large integers: the transforms' error bound fails, and the outputs come from exact sums."""
    h = rng.integers(-2**20, 2**20, 3000)
    x = rng.integers(-2**20, 2**20, 6000)
    conv = fftconv.StreamConvolver(h, block_size=256)
    assert conv.plan.levels
    y = run_chunks(conv, x, chunk_lengths(rng, 6000, 600))
    exact = np.convolve(x, h)[:6000]  # int64, exact: |sums| < 2**53
    np.testing.assert_array_equal(y, exact.astype(np.float64))


def test_state_restores_exactly(rng):
    h, x = random(rng, (4000, 2), np.float32), random(rng, (20000, 2), np.float32)
    conv = fftconv.StreamConvolver(h, block_size=256)
    run_chunks(conv, x[:7777], chunk_lengths(rng, 7777, 600))
    state = pickle.loads(pickle.dumps(conv.get_state()))  # it travels
    rest = chunk_lengths(rng, 20000 - 7777, 600)
    a = run_chunks(conv, x[7777:], rest)
    elsewhere = fftconv.StreamConvolver(h.copy(), block_size=256)
    elsewhere.set_state(state)
    assert elsewhere.samples == 7777
    b = run_chunks(elsewhere, x[7777:], rest)
    np.testing.assert_array_equal(a, b)
    conv.set_state(state)  # and into the convolver it came from
    np.testing.assert_array_equal(run_chunks(conv, x[7777:], rest), a)
    assert_close(a, lfilter_ref(h, x)[7777:], np.float32)


def test_state_of_a_fresh_stream_and_unplanned_convolvers(rng):
    h = random(rng, (300,))
    fresh = fftconv.StreamConvolver(h).get_state()
    conv = fftconv.StreamConvolver(h)
    conv(random(rng, (50,)))
    conv.set_state(fresh)
    assert conv.samples == 0
    x = random(rng, (400,))
    np.testing.assert_allclose(conv(x), lfilter_ref(h, x), rtol=0, atol=1e-12)
    # a state restored into a convolver that has not planned yet adopts the saved plan
    conv2 = fftconv.StreamConvolver(h)
    conv.set_state(conv.get_state())
    saved = conv.get_state()
    conv2.set_state(saved)
    np.testing.assert_array_equal(conv2(x[:77]), conv(x[:77]))


def test_state_keeps_dtype_and_channels(rng):
    """float16 chunks (computed in float32) and a one-filter stream of several channels resume as they were."""
    h = random(rng, (700,), np.float16)
    x = random(rng, (3000, 3), np.float16)
    conv = fftconv.StreamConvolver(h, block_size=128)
    conv(x[:1000])
    state = conv.get_state()
    expected = conv(x[1000:])
    for other in (fftconv.StreamConvolver(h, block_size=128),
                  fftconv.StreamConvolver(h, block_size=128, dtype=np.float16)):
        other.set_state(state)
        y = other(x[1000:])
        assert y.dtype == np.float16 and y.shape == (2000, 3)
        np.testing.assert_array_equal(y, expected)
    mono = fftconv.StreamConvolver(h, block_size=128)
    mono(x[:10, 0])
    with pytest.raises(ValueError, match=r"channels \(3, 3\); this one has dtype float16 and channels \(1, 1\)"):
        mono.set_state(state)


def test_reset_starts_a_new_stream(rng):
    h, x = random(rng, (2000,)), random(rng, (5000,))
    conv = fftconv.StreamConvolver(h, block_size=200)
    first = run_chunks(conv, x, [200] * 25)
    conv.reset()
    assert conv.samples == 0
    np.testing.assert_array_equal(run_chunks(conv, x, [200] * 25), first)


# -- trust rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("plan", [p for _, p in PLANS], ids=[i for i, _ in PLANS])
@pytest.mark.parametrize("kind", ["channel", "mimo"])
def test_nan_stays_within_the_filter_length(plan, kind, rng, monkeypatch):
    taps = plan.taps
    h = random(rng, filter_shape(kind, taps), np.float32)
    x = random(rng, (4000, 2), np.float32)
    where = 1234
    x[where, 0] = np.nan
    conv = make(h, plan, monkeypatch, block_size=plan.block_size)
    y = run_chunks(conv, x, chunk_lengths(rng, 4000, 300))
    fed = [0] if kind == "channel" else list(range(h.shape[2]))
    reach = np.zeros(y.shape, bool)
    reach[where:where + taps, fed] = True
    assert np.isnan(y[reach]).all()
    assert np.isfinite(y[~reach]).all()
    clean = x.copy()
    clean[where, 0] = 0
    expected = lfilter_ref(h, clean)
    assert_close(np.where(reach, 0, y), np.where(reach, 0, expected), np.float32)
    assert_close(y[where + taps:], expected[where + taps:], np.float32)  # later outputs clean again


def test_inf_and_huge_values_follow_lfilter(rng):
    h = random(rng, (500,))
    h[[3, 7]] = 0  # inf * 0 is NaN, as in lfilter
    x = random(rng, (3000,))
    x[100], x[1500] = np.inf, 1e300  # 1e300 is beyond the transforms' limit, its exact sums are finite
    conv = fftconv.StreamConvolver(h, block_size=64)
    y = run_chunks(conv, x, chunk_lengths(rng, 3000, 200))
    with np.errstate(invalid="ignore", over="ignore"):
        expected = scipy.signal.lfilter(h, 1.0, x)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(y), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(y), np.isneginf(expected))
    finite = np.isfinite(expected)
    assert np.isfinite(y[1500:2000]).all()
    np.testing.assert_allclose(y[finite], expected[finite], rtol=1e-9, atol=1e-12 * np.abs(expected[finite]).max())


def test_huge_float32_values_give_finite_outputs(rng):
    h = random(rng, (3000,), np.float32)
    x = random(rng, (8000,), np.float32)
    x[4000] = 3e34  # the 8192-point transforms of the float32 stream could overflow on it
    conv = fftconv.StreamConvolver(h, block_size=256)
    y = run_chunks(conv, x, [256] * 31 + [64])
    expected = lfilter_ref(h, x)
    assert np.isfinite(y).all()
    assert_close(y, expected, np.float32)


@pytest.mark.parametrize("plan", [p for _, p in PLANS], ids=[i for i, _ in PLANS])
def test_zero_windows_give_exact_zeros(plan, rng, monkeypatch):
    taps = plan.taps
    h = random(rng, (taps, 2))
    x = np.zeros((5000, 2))
    x[300:1300] = random(rng, (1000, 2))
    x[2000:2100, 1] = 1.0
    conv = make(h, plan, monkeypatch, block_size=plan.block_size)
    y = run_chunks(conv, x, chunk_lengths(rng, 5000, 400))
    assert (y[:300] == 0).all()
    assert (y[1300 + taps - 1:2000, 0] == 0).all() and (y[1300 + taps - 1:, 0] == 0).all()
    assert (y[2100 + taps - 1:, 1] == 0).all()
    assert_close(y, lfilter_ref(h, x), np.float64)


@pytest.mark.parametrize("plan", [p for _, p in PLANS], ids=[i for i, _ in PLANS])
def test_chunks_untouched_and_outputs_owned(plan, rng, monkeypatch):
    h = random(rng, (plan.taps, 2), np.float32)
    conv = make(h, plan, monkeypatch, block_size=plan.block_size)
    chunks = [random(rng, (n, 2), np.float32) for n in (1, 64, 300, 5)]
    chunks[2][7, 1] = np.nan
    chunks[1] = np.asfortranarray(chunks[1])
    chunks[3].flags.writeable = False
    copies = [c.copy() for c in chunks]
    results = []
    for c in chunks:
        y = conv(c)
        assert y.flags.owndata and y.flags.c_contiguous and y.flags.writeable
        results.append((y, y.copy()))
    for c, copy in zip(chunks, copies):
        np.testing.assert_array_equal(c, copy)
    for y, copy in results:  # later calls left earlier results alone
        np.testing.assert_array_equal(y, copy)
    monkeypatch.undo()
    one = fftconv.StreamConvolver(random(rng, (50,)))
    y = one(np.ones(5))
    assert y.shape == (5,) and y.flags.owndata


# -- plans -------------------------------------------------------------------------------------


@pytest.mark.parametrize("taps", [1, 17, 300, 4096, 4097, 50000, 96000])
@pytest.mark.parametrize("block", [1, 3, 64, 256, 441, 1024, 48000])
@pytest.mark.parametrize("kind, cin, cout", [("single", 1, 1), ("channel", 2, 2), ("mimo", 4, 4)])
def test_plans_cover_the_filter_without_latency(taps, block, kind, cin, cout):
    plan = plan_stream(taps, block, cin, cout, kind, "float32")
    assert plan.taps == taps and plan.block_size == block and plan.seconds_per_call > 0
    covered = plan.head
    for i, level in enumerate(plan.levels):
        assert level.offset == covered, plan  # contiguous
        assert level.partitions >= 1 and level.block >= 1
        if i > 0 or plan.head:
            assert level.offset >= level.block, plan  # its outputs are never due before its block ends
        if i > 0:  # blocks grow (a first level run on every call may be followed by its own size)
            previous = plan.levels[i - 1]
            assert level.block > previous.block or (i == 1 and previous.offset == 0 and level.block == previous.block)
        covered = level.end
    assert covered >= taps
    assert plan.method in ("direct", "partitioned", "direct head + partitioned")
    assert "StreamPlan(" in repr(plan)


def test_planner_picks_direct_for_short_filters_and_partitions_for_long_ones():
    assert plan_stream(16, 256).method == "direct"
    long = plan_stream(96000, 256, 2, 2, "channel", "float32")
    assert long.method == "partitioned" and long.levels[0].block == 256 and len(long.levels) >= 3
    assert long.realtime_factor(48000) > 1
    assert plan_stream(96000, 1, 1, 1).method == "direct head + partitioned"


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("filters, kwargs, error, match", [
    (np.ones((3, 2, 2, 2)), {}, ValueError, r"`filters` must be 1-D"),
    (np.ones((0,)), {}, ValueError, r"at least one tap"),
    (np.ones((4, 0)), {}, ValueError, r"at least one tap"),
    (np.array([1.0, np.nan]), {}, ValueError, r"must be finite"),
    (np.array(["a", "b"]), {}, TypeError, r"`filters`"),
    (np.ones(4), {"block_size": 0}, ValueError, r"`block_size` must be a positive int"),
    (np.ones(4), {"block_size": 2.5}, TypeError, r"`block_size`"),
    (np.ones(4), {"backend": "fftw3"}, ValueError, r"`backend` must be one of"),
    (np.ones(4), {"workers": 0}, ValueError, r"`workers`"),
    (np.ones(4), {"dtype": "U3"}, TypeError, r"`dtype`"),
])
def test_construction_errors(filters, kwargs, error, match):
    with pytest.raises(error, match=match):
        fftconv.StreamConvolver(filters, **kwargs)


def test_chunk_errors():
    conv = fftconv.StreamConvolver(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"`chunk` must have shape \(n, 2\).*got shape \(4, 3\)"):
        conv(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"`chunk` must have shape \(n, 2\).*got shape \(4,\)"):
        conv(np.ones(4))
    with pytest.raises(ValueError, match=r"`chunk` must be 1-D \(n,\) or 2-D"):
        conv(np.ones((4, 2, 1)))
    with pytest.raises(TypeError, match=r"`chunk`"):
        conv(np.array([["a", "b"]]))
    single = fftconv.StreamConvolver(np.ones(5, np.float32))
    single(np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"`chunk` must have shape \(n,\)"):
        single(np.ones((3, 1), np.float32))
    with pytest.raises(TypeError, match=r"dtype float64, but this stream computes in float32"):
        single(np.ones(3))
    integer = fftconv.StreamConvolver(np.ones(5, np.int32))
    integer(np.ones(3, np.int16))
    with pytest.raises(TypeError, match=r"integer float64"):
        integer(np.ones(3))


def test_state_errors(rng):
    h = random(rng, (3000,))
    conv = fftconv.StreamConvolver(h, block_size=256)
    conv(random(rng, (100,)))
    state = conv.get_state()
    with pytest.raises(ValueError, match=r"`state` must be a dict"):
        conv.set_state([1, 2])
    with pytest.raises(ValueError, match=r"other filters"):
        fftconv.StreamConvolver(h * 2, block_size=256).set_state(state)
    other = fftconv.StreamConvolver(h, block_size=64)
    other(random(rng, (10,)))
    with pytest.raises(ValueError, match=r"block_size=256"):
        other.set_state(state)


# -- firfilter -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.complex128, np.complex64,
                                   np.int16, np.int64, bool])
@pytest.mark.parametrize("taps", [1, 4, 150, 600])
def test_firfilter_is_lfilter_on_every_axis(dtype, taps, rng):
    shape = (3, 40, 2)
    x = random(rng, shape, dtype) if np.dtype(dtype).kind in "fc" else rng.integers(-9, 9, shape).astype(dtype)
    b = random(rng, taps, dtype) if np.dtype(dtype).kind in "fc" else rng.integers(-9, 9, taps).astype(dtype)
    for axis in range(-3, 3):
        expected = scipy.signal.lfilter(b, 1.0, x, axis=axis)
        y = fftconv.firfilter(b, x, axis=axis)
        assert y.dtype == expected.dtype and y.shape == expected.shape and y.flags.owndata
        zshape = list(shape)
        zshape[axis] = taps - 1
        zi = random(rng, zshape, np.float64)
        e_y, e_zf = scipy.signal.lfilter(b, 1.0, x, axis=axis, zi=zi)
        y2, zf = fftconv.firfilter(b, x, axis=axis, zi=zi)
        assert (y2.dtype, zf.dtype, zf.shape) == (e_y.dtype, e_zf.dtype, e_zf.shape)
        assert y2.flags.owndata and zf.flags.owndata
        if np.dtype(dtype).kind in "biu":
            np.testing.assert_array_equal(y, expected)
            np.testing.assert_allclose(y2, e_y, rtol=1e-15)
        else:
            assert_close(y, expected, expected.dtype)
            assert_close(y2, e_y, e_y.dtype)
            if taps > 1:
                assert_close(zf, e_zf, e_zf.dtype)


def test_firfilter_blocks_with_state_equal_one_call(rng):
    b, x = random(rng, 3000), random(rng, (2, 20000))
    zi = np.zeros((2, 2999))
    parts = []
    for lo, hi in ((0, 1), (1, 4000), (4000, 4100), (4100, 20000)):
        y, zi = fftconv.firfilter(b, x[:, lo:hi], zi=zi)
        parts.append(y)
    assert_close(np.concatenate(parts, axis=1), scipy.signal.lfilter(b, 1.0, x), np.float64)


def test_firfilter_broadcast_zi_and_empty_signals(rng):
    b, x = random(rng, 5), random(rng, (4, 30))
    zi = random(rng, (1, 4))
    e_y, e_zf = scipy.signal.lfilter(b, 1.0, x, zi=zi)
    y, zf = fftconv.firfilter(b, x, zi=zi)
    assert_close(y, e_y, np.float64)
    assert_close(zf, e_zf, np.float64)
    y, zf = fftconv.firfilter(b, np.zeros((4, 0)), zi=np.ones((4, 4)))  # scipy raises here
    assert y.shape == (4, 0) and np.array_equal(zf, np.ones((4, 4)))
    y, zf = fftconv.firfilter(b, np.ones((4, 2)), zi=np.ones((4, 4)))  # fewer samples than zi
    e_y, e_zf = scipy.signal.lfilter(b, 1.0, np.ones((4, 2)), zi=np.ones((4, 4)))
    assert_close(y, e_y, np.float64)
    assert_close(zf, e_zf, np.float64)


def test_firfilter_short_filters_give_lfilters_ieee_results(rng):
    b, x = random(rng, 9), random(rng, (3, 500))
    b[4] = 0
    x[0, 100], x[1, 200], x[2, 300] = np.nan, np.inf, -np.inf
    with np.errstate(invalid="ignore"):
        expected = scipy.signal.lfilter(b, 1.0, x)
    y = fftconv.firfilter(b, x)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(y) & (y > 0), np.isinf(expected) & (expected > 0))
    finite = np.isfinite(expected)
    assert_close(y[finite], expected[finite], np.float64)


def test_firfilter_nan_is_local_and_inputs_untouched(rng):
    b, x = random(rng, 200), random(rng, 3000)
    x[1000] = np.nan
    x.flags.writeable = False
    copy = x.copy()
    y = fftconv.firfilter(b, x)
    np.testing.assert_array_equal(x, copy)
    assert np.isnan(y[1000:1200]).all() and np.isfinite(y[:1000]).all() and np.isfinite(y[1200:]).all()
    clean = np.where(np.isnan(x), 0, x)
    expected = scipy.signal.lfilter(b, 1.0, clean)
    assert_close(y[1200:], expected[1200:], np.float64)


@pytest.mark.parametrize("args, kwargs, error, match", [
    (([], [1.0]), {}, ValueError, r"`b` must be a non-empty 1-D"),
    (([[1.0, 2.0]], [1.0]), {}, ValueError, r"`b` must be a non-empty 1-D"),
    (([1.0], 3.0), {}, ValueError, r"`x` must be at least 1-D"),
    (([1.0], [1.0, 2.0]), {"axis": 1}, np.exceptions.AxisError, r"`axis` must be from -1 to 0"),
    (([1.0], [1.0, 2.0]), {"axis": 0.5}, TypeError, r"`axis` must be an int"),
    (([1.0, 2.0], np.ones((2, 3))), {"zi": np.ones(1)}, ValueError, r"`zi` must have as many dimensions"),
    (([1.0, 2.0], np.ones((2, 3))), {"zi": np.ones((2, 2))}, ValueError, r"`zi` must have shape \(2, 1\)"),
    (([1.0], np.array(["a"])), {}, TypeError, r"`x`"),
    ((np.ones(2, np.longdouble), [1.0]), {}, TypeError, r"`b`"),
])
def test_firfilter_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        fftconv.firfilter(*args, **kwargs)
    assert issubclass(np.exceptions.AxisError, ValueError)  # scipy raises it too: callers catch ValueError
