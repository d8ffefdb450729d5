"""Each strategy of the direct method against the naive float64 reference.

The registry-driven tests (``test_invariants.py``) run every strategy on a
few geometries each; here every strategy that fits meets odd, even and prime
sizes, strides, dilations, padding modes, depthwise multipliers, groups and
every input dtype the engine takes, including the ones that only exist on
some installations (``"compiled"`` needs numba).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from conftest import assert_close, grid, random, ref

import fftconv
from fftconv.methods import direct

#: ``(ndim, input shape NHWC, filters HWIO, options)``: sizes odd, even and prime.
CASES = {
    "1d-fir-3": (1, (1, 97, 1), (3, 1, 1), {}),
    "1d-fir-8-same": (1, (2, 64, 1), (8, 1, 1), dict(padding="SAME")),
    "1d-fir-15-reflect": (1, (1, 101, 1), (15, 1, 1), dict(padding="SAME", padding_mode="reflect")),
    "1d-fir-long": (1, (1, 70001, 1), (5, 1, 1), dict(padding="SAME")),
    "1d-fir-long-threads": (1, (1, 30001, 1), (19, 1, 1), dict(padding="VALID")),
    "1d-fir-strided-dilated": (1, (2, 211, 1), (7, 1, 1), dict(strides=3, dilations=2, padding="SAME")),
    "1d-depthwise-stride-dilation": (1, (2, 53, 4), (5, 1, 8), dict(strides=2, dilations=3)),
    "2d-one-row": (2, (1, 1, 9, 1), (1, 3, 1, 1), dict(padding="SAME")),
    "2d-one-sample": (2, (1, 1, 1, 1), (1, 1, 1, 1), dict(padding="SAME")),
    "2d-row-kernel": (2, (2, 7, 41, 1), (1, 6, 1, 1), dict(strides=(2, 1), padding=((1, 2), (4, 3)))),
    "2d-depthwise-3": (2, (2, 13, 16, 5), (3, 3, 1, 5), dict(padding="SAME")),
    "2d-depthwise-7-wrap": (2, (1, 17, 12, 3), (7, 7, 1, 3), dict(padding="SAME", padding_mode="wrap")),
    "2d-depthwise-multiplier": (2, (1, 19, 23, 3), (5, 4, 1, 6), dict(strides=(2, 3), dilations=(1, 2))),
    "2d-depthwise-15-edge": (2, (1, 31, 29, 2), (15, 15, 1, 2), dict(padding="SAME", padding_mode="edge")),
    "2d-single-channel": (2, (3, 11, 14, 1), (4, 5, 1, 1), dict(padding=((2, 1), (0, 3)))),
    "2d-single-channel-strided": (2, (2, 23, 37, 1), (5, 3, 1, 1), dict(strides=(2, 3), dilations=(1, 2),
                                                                         padding="SAME", padding_mode="reflect")),
    "2d-wide-rows": (2, (1, 4, 2100, 1), (2, 3, 1, 1), dict(padding="SAME")),
    "2d-depthwise-channels-last": (2, (2, 11, 13, 17), (3, 5, 1, 34), dict(strides=(1, 2), dilations=(2, 1),
                                                                           padding="SAME")),
    "2d-grouped": (2, (2, 15, 14, 8), (3, 5, 2, 12), dict(padding="SAME", strides=(1, 2))),
    "2d-grouped-dilated": (2, (1, 23, 22, 6), (3, 3, 3, 4), dict(dilations=2, padding="SAME", padding_mode="symmetric")),
    "2d-dense": (2, (2, 12, 11, 3), (3, 3, 3, 4), dict(padding="SAME")),
    "3d-depthwise": (3, (1, 7, 8, 9, 2), (3, 2, 3, 1, 4), dict(padding="SAME")),
    # a kernel along one leading axis, strides on the others (the low-rank method's passes)
    "2d-column-kernel-strided": (2, (2, 30, 17, 3), (7, 1, 1, 6), dict(strides=(2, 3), dilations=(2, 1),
                                                                       padding="SAME")),
    "3d-middle-axis-mixed": (3, (1, 6, 20, 7, 4), (1, 5, 1, 2, 4), dict(strides=(2, 1, 3))),
}

#: Input dtype (the filters' too, int8 with uint8 inputs) -> the result's dtype (the spec's rules).
DTYPES = {"float16": "float16", "float32": "float32", "float64": "float64", "int32": "float64",
          "uint8": "float64", "bool": "float64", "complex64": "complex64", "complex128": "complex128"}


PLANNERS = {1: fftconv.plan_conv1d, 2: fftconv.plan_conv2d, 3: fftconv.plan_conv3d}


def _direct_plan(strategy, case, dtype):
    """The direct plan of ``case`` (a name of CASES) computing in ``dtype``, forced onto
    ``strategy``; None where that strategy cannot run its shapes."""
    nd, x_shape, w_shape, options = CASES[case]
    plan = PLANNERS[nd](x_shape, w_shape, dtype=np.dtype(dtype), method="direct", **options)
    if not direct.fits(strategy, plan.run_geometry):
        return None
    return dataclasses.replace(plan, settings={**plan.settings, "direct": strategy})


def _run(strategy, case, dtype, rng):
    nd, x_shape, w_shape, options = CASES[case]
    dtype = np.dtype(dtype)
    if dtype.kind in "iub":
        x = rng.integers(0, 2 if dtype.kind == "b" else 50, x_shape).astype(dtype)
        w = rng.integers(-3, 4, w_shape).astype(dtype if dtype.kind != "u" else np.int8)
    else:
        x, w = random(rng, x_shape, dtype), random(rng, w_shape, dtype)
    plan = _direct_plan(strategy, case, dtype)
    assert plan is not None, f"{strategy} cannot run {case}: the grid should not have made this test"
    return plan(x, w), x, w, options


@pytest.mark.parametrize(*grid(lambda **c: _direct_plan(**c) is not None, strategy=direct.STRATEGIES,
                               case=list(CASES), dtype=list(DTYPES)))
def test_strategy_matches_the_reference(strategy, case, dtype, rng):
    y, x, w, options = _run(strategy, case, dtype, rng)
    expected = ref(x, w, **options)
    assert_close(y, expected, DTYPES[dtype])
    if np.dtype(dtype).kind in "iub":  # exact integers
        np.testing.assert_array_equal(y, expected)


#: A 2-D case each strategy runs, for the NaN and Inf test.
NONFINITE_CASES = {s: next(c for c in ("2d-depthwise-multiplier", "2d-row-kernel", "2d-dense", "2d-grouped")
                           if _direct_plan(s, c, np.float64) is not None) for s in direct.STRATEGIES}


@pytest.mark.parametrize("strategy", direct.STRATEGIES)
def test_strategy_keeps_nonfinite_values_local(strategy, rng):
    """A NaN and an Inf reach exactly the outputs whose windows hold them, with no warning."""
    nd, x_shape, w_shape, options = CASES[NONFINITE_CASES[strategy]]
    x, w = random(rng, x_shape), random(rng, w_shape)
    x[0, 3, 4, 0], x[-1, -2, -3, -1] = np.nan, np.inf
    plan = _direct_plan(strategy, NONFINITE_CASES[strategy], np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NaN and Inf are the caller's: no RuntimeWarning about them
        y = plan(x, w)
    expected = ref(x, w, **options)
    reached = ref((~np.isfinite(x)).astype(float), np.ones_like(w), **options) > 0
    np.testing.assert_array_equal(~np.isfinite(y), reached)
    np.testing.assert_allclose(y[np.isfinite(expected)], expected[np.isfinite(expected)], rtol=1e-12, atol=1e-12)


# -- fftconv's own thread pool ------------------------------------------------------------------

def test_pieces_run_on_the_pool_from_inside_it_without_waiting_forever():
    """A call made on one of the pool's threads (a plan run on the pool, say) runs its pieces
    there: waiting for the pool from inside it deadlocked once every thread waited."""
    import concurrent.futures as cf

    from fftconv._runtime.threads import executor, run_pieces

    def outer(_):
        done = []
        run_pieces(done.append, 4)
        return sorted(done)

    futures = [executor().submit(outer, i) for i in range(2 * fftconv._checks.CPUS)]
    finished, pending = cf.wait(futures, timeout=30)
    assert not pending, "run_pieces waited for the pool from inside it"
    assert all(f.result() == [0, 1, 2, 3] for f in finished)


@pytest.mark.skipif("compiled" not in direct.STRATEGIES, reason="numba is not installed, or FFTCONV_DISABLE turns it off")
def test_compiled_plan_runs_on_the_pool_threads():
    import concurrent.futures as cf

    from fftconv._runtime.threads import executor

    x = np.ones((1, 64, 64, 64), np.float32)
    w = np.ones((3, 3, 1, 64), np.float32)  # depthwise, as groups of one channel
    plan = fftconv.plan_conv2d(x.shape, w.shape, 1, "SAME", groups=64, method="direct", workers=2)
    plan = dataclasses.replace(plan, settings={**plan.settings, "direct": "compiled"})
    expected = plan(x, w)
    futures = [executor().submit(plan, x, w) for _ in range(2)]
    finished, pending = cf.wait(futures, timeout=60)
    assert not pending, "the compiled loops waited for the pool from inside it"
    for f in finished:
        np.testing.assert_array_equal(f.result(), expected)


# -- the compiled loops' own paths ---------------------------------------------------------------

needs_numba = pytest.mark.skipif("compiled" not in direct.STRATEGIES,
                                 reason="numba is not installed, or FFTCONV_DISABLE turns it off")


@needs_numba
@pytest.mark.parametrize("case", ["2d-depthwise-channels-last", "2d-single-channel-strided", "2d-wide-rows",
                                  "1d-fir-long-threads", "2d-depthwise-multiplier"])
def test_compiled_keeps_nonfinite_values_local(case, rng):
    """Each of the compiled loops' paths (channels innermost, one channel in column phases, row
    blocks, a row cut between threads, channels apart): NaN and Inf reach exactly the outputs whose
    windows hold them, and the finite outputs match the reference."""
    nd, x_shape, w_shape, options = CASES[case]
    x, w = random(rng, x_shape), random(rng, w_shape)
    flat = x.reshape(-1)
    flat[[7, flat.size // 2, -5]] = np.nan, np.inf, -np.inf
    planner = {1: fftconv.plan_conv1d, 2: fftconv.plan_conv2d}[nd]
    plan = planner(x_shape, w_shape, dtype=np.float64, method="direct", workers=2, **options)
    plan = dataclasses.replace(plan, settings={**plan.settings, "direct": "compiled"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = plan(x, w)
    expected = ref(x, w, **options)
    reached = ref((~np.isfinite(x)).astype(float), np.ones_like(w), **options) > 0
    np.testing.assert_array_equal(~np.isfinite(y), reached)
    np.testing.assert_allclose(y[np.isfinite(expected)], expected[np.isfinite(expected)], rtol=1e-12, atol=1e-12)


@needs_numba
@pytest.mark.parametrize("case", ["1d-fir-long-threads", "2d-depthwise-channels-last", "2d-wide-rows"])
@pytest.mark.parametrize("workers", [1, 2])
def test_compiled_threads_follow_the_calls_workers(case, workers, rng, monkeypatch):
    """The loops run on ``workers`` threads (fixed pieces: rows, or a single row's columns; or
    ranges of rows taken one by one along the channels), with equal results."""
    from fftconv.methods import _compiled

    counts = []
    real, shared = _compiled.run_pieces, _compiled.run_shared
    monkeypatch.setattr(_compiled, "MIN_PIECE_WORK", 1)
    monkeypatch.setattr(_compiled, "run_pieces", lambda piece, count: (counts.append(count), real(piece, count)))
    monkeypatch.setattr(_compiled, "run_shared", lambda piece, count, threads: (
        counts.append(min(count, threads)), shared(piece, count, threads)))
    nd, x_shape, w_shape, options = CASES[case]
    x, w = random(rng, x_shape, "float32"), random(rng, w_shape, "float32")
    planner = {1: fftconv.plan_conv1d, 2: fftconv.plan_conv2d}[nd]
    plan = planner(x_shape, w_shape, dtype=np.float32, method="direct", workers=workers, **options)
    plan = dataclasses.replace(plan, settings={**plan.settings, "direct": "compiled"})
    y = plan(x, w)
    assert counts == [workers]
    assert_close(y, ref(x, w, **options), "float32")


#: One-channel geometries whose windows reach into the pads on every side (and past the input:
#: a kernel wider than a short row, pads wider than the kernel), for the loop's unpadded reads.
def _compiled_case(nd, x_shape, w_shape, options, dtype, rng, **plan_options):
    """``(plan, x, w)``: a direct plan forced onto the compiled loops, and random data of
    ``dtype`` (small integers for int32)."""
    x = (rng.integers(-9, 9, x_shape) if dtype == "int32" else random(rng, x_shape)).astype(dtype)
    w = (rng.integers(-9, 9, w_shape) if dtype == "int32" else random(rng, w_shape)).astype(dtype)
    plan = PLANNERS[nd](x_shape, w_shape, dtype=dtype, method="direct", workers=2, **plan_options, **options)
    return dataclasses.replace(plan, settings={**plan.settings, "direct": "compiled"}), x, w


def _check_compiled_case(plan, x, w, options, dtype, where, values):
    """The plan's output is the reference (exactly for int32) and leaves ``x`` as it was; with
    the non-finite ``values`` put at the flat positions ``where``, exactly the outputs whose
    windows reach them are not finite."""
    before = x.copy()
    y = plan(x, w)
    np.testing.assert_array_equal(x, before)
    expected = ref(x, w, **options)
    if dtype == "int32":
        np.testing.assert_array_equal(y, expected)
    else:
        assert_close(y, expected, dtype)
    x = x.astype(float)
    x.reshape(-1)[where] = values
    y = plan(x.astype(dtype if dtype != "int32" else "float64"), w)
    reached = ref(~np.isfinite(x), np.ones_like(w, dtype=float), **options) > 0
    np.testing.assert_array_equal(~np.isfinite(y), reached)


UNPADDED = {
    "1d-same": (1, (2, 37, 1), (6, 1, 1), dict(padding="SAME")),
    "1d-dilated-wide-pads": (1, (1, 9, 1), (4, 1, 1), dict(dilations=3, padding=((7, 2),))),
    "2d-same-3": (2, (2, 9, 21, 1), (3, 3, 1, 1), dict(padding="SAME")),
    "2d-kernel-past-the-row": (2, (1, 5, 4, 1), (3, 7, 1, 1), dict(padding="SAME")),
    "2d-strided-dilated": (2, (2, 17, 19, 1), (4, 3, 1, 1), dict(strides=(3, 1), dilations=(2, 3),
                                                                  padding=((4, 1), (0, 6)))),
    "2d-valid-rows-unread": (2, (1, 13, 16, 1), (2, 5, 1, 1), dict(strides=(4, 1), padding="VALID")),
}


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("case", sorted(UNPADDED) + ["1d-fir-long", "2d-wide-rows", "2d-row-kernel",
                                                     "2d-single-channel"])
@pytest.mark.parametrize("unpadded", [True, False], ids=["unpadded", "padded-copy"])
def test_compiled_reads_the_unpadded_input(case, dtype, unpadded, rng, monkeypatch):
    """The single-channel loop reading the unpadded input (the taps on pads skipped, the edge
    columns one at a time) and reading a padded copy give the reference, keep NaN local and
    leave the input as it was; both ways are forced whatever the edge work would choose."""
    from fftconv.methods import _compiled

    monkeypatch.setattr(_compiled, "EDGE_WORK_PER_SAMPLE", np.inf if unpadded else -1.0)
    _compiled.reads_unpadded.cache_clear()
    try:
        nd, x_shape, w_shape, options = {**CASES, **UNPADDED}[case]
        plan, x, w = _compiled_case(nd, x_shape, w_shape, options, dtype, rng)
        assert _compiled.reads_unpadded(plan.run_geometry) is unpadded
        _check_compiled_case(plan, x, w, options, dtype, [0, x.size // 3, -1], [np.nan, np.inf, np.nan])
    finally:
        _compiled.reads_unpadded.cache_clear()


@needs_numba
@pytest.mark.parametrize("case", ["2d-same-3", "1d-same", "2d-kernel-past-the-row"])
def test_compiled_unpadded_keeps_zero_times_inf_of_the_pads(case, rng, monkeypatch):
    """Filters holding Inf or NaN: a padding zero times such a tap is NaN in the reference, so
    the loop that would skip the pads reads a padded copy instead. (The method is called
    directly: the engine's overflow guard does not take infinite filters.)"""
    from fftconv.methods import _compiled

    monkeypatch.setattr(_compiled, "EDGE_WORK_PER_SAMPLE", np.inf)
    _compiled.reads_unpadded.cache_clear()
    try:
        nd, x_shape, w_shape, options = UNPADDED[case]
        x, w = random(rng, x_shape), random(rng, w_shape)
        w.reshape(-1)[0] = np.inf
        geom = PLANNERS[nd](x_shape, w_shape, dtype=np.float64, method="direct", **options).run_geometry
        assert _compiled.reads_unpadded(geom)
        with np.errstate(invalid="ignore"):
            y = direct.execute(x, direct.prepare(w, geom, np.float64), geom, strategy="compiled")
            expected = ref(x, w, **options)
        np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
        np.testing.assert_array_equal(np.isinf(y), np.isinf(expected))
    finally:
        _compiled.reads_unpadded.cache_clear()


#: Channels-last geometries (16 channels and more, after a multiplier) for the register blocks of the
#: loop along the channels: every stride/dilation pairing it blocks (unit step 1 or 2, phases of a
#: dilation) and one it does not (stride 3), windows past the input on every side, sizes odd,
#: even and prime, a channel count no vector width divides, a channel multiplier, padding modes;
#: and the square kernels whose whole window one pass adds (3, 5 and 7, unit steps 1 and 2, a
#: dilation's phases), beside the blocks that reach a pad and take a pass per kernel row.
CHANNEL_CASES = {
    "same-3": (2, (2, 9, 13, 16), (3, 3, 1, 16), dict(padding="SAME")),
    "valid-7-prime": (2, (1, 13, 17, 19), (7, 7, 1, 19), dict()),
    "same-15-past-the-row": (2, (1, 11, 10, 16), (15, 15, 1, 16), dict(padding="SAME")),
    "stride-2-same-5": (2, (2, 12, 23, 17), (5, 5, 1, 17), dict(strides=2, padding="SAME")),
    "stride-2-explicit-9": (2, (1, 16, 18, 16), (9, 9, 1, 16), dict(strides=2, padding=((0, 3), (5, 1)))),
    "dilation-2-same": (2, (1, 14, 19, 16), (3, 5, 1, 16), dict(dilations=2, padding="SAME")),
    "stride-2-dilation-2": (2, (1, 15, 20, 16), (3, 3, 1, 16), dict(strides=2, dilations=2, padding="SAME")),
    "stride-4-dilation-2": (2, (1, 15, 29, 16), (3, 4, 1, 16), dict(strides=4, dilations=2, padding="SAME")),
    "stride-3-unblocked": (2, (1, 14, 25, 16), (4, 4, 1, 16), dict(strides=(2, 3), padding="SAME")),
    "wide-kernel-row-of-11": (2, (1, 6, 40, 24), (2, 11, 1, 24), dict(padding="SAME")),
    "multiplier-2": (2, (1, 11, 12, 8), (5, 3, 1, 16), dict(strides=(1, 2), padding="SAME")),
    "reflect-7": (2, (1, 12, 11, 16), (7, 7, 1, 16), dict(padding="SAME", padding_mode="reflect")),
    "1d-stride-2": (1, (2, 41, 16), (6, 1, 16), dict(strides=2, padding="SAME")),
    "whole-3-stride-2": (2, (1, 13, 22, 16), (3, 3, 1, 16), dict(strides=2)),
    "whole-5-dilation-2": (2, (1, 17, 21, 18), (5, 5, 1, 18), dict(dilations=2, padding="SAME")),
    "whole-7-stride-2-same": (2, (2, 19, 24, 20), (7, 7, 1, 20), dict(strides=2, padding="SAME")),
}


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "int32"])
@pytest.mark.parametrize("case", sorted(CHANNEL_CASES))
@pytest.mark.parametrize("unpadded", [True, False], ids=["unpadded", "padded-copy"])
def test_channel_loop_blocks_match_the_reference(case, dtype, unpadded, rng, monkeypatch):
    """The loop along the channels (register blocks of outputs, the others one at a time),
    reading the unpadded input (the taps on pads skipped) or a padded copy: the reference,
    exact integers, the input left as it was, NaN and Inf local."""
    from fftconv.methods import _compiled

    if not unpadded:
        monkeypatch.setattr(_compiled, "reads_unpadded", lambda geom: False)
    nd, x_shape, w_shape, options = CHANNEL_CASES[case]
    plan, x, w = _compiled_case(nd, x_shape, w_shape, options, dtype, rng, groups=x_shape[-1])
    geom = plan.run_geometry
    assert geom.groups * geom.group_out >= _compiled.CHANNELS_LAST_MIN
    constant = geom.padding_mode == "constant" and geom.group_out == 1
    assert _compiled.reads_unpadded(geom) is (unpadded and constant)
    _check_compiled_case(plan, x, w, options, dtype, [0, x.size // 3, x.size // 2 + 5, -1],
                         [np.nan, np.inf, -np.inf, np.nan])


@needs_numba
def test_channel_loop_unpadded_keeps_zero_times_inf_of_the_pads(rng):
    """Filters holding Inf, 16 channels: a padding zero times that tap is NaN in the reference, so
    the loop reads a padded copy rather than skip the pads."""
    from fftconv.methods import _compiled

    nd, x_shape, w_shape, options = CHANNEL_CASES["stride-2-same-5"]
    x, w = random(rng, x_shape), random(rng, w_shape)
    w[0, 0, 0, 3] = np.inf
    geom = PLANNERS[nd](x_shape, w_shape, dtype=np.float64, method="direct", groups=x_shape[-1],
                        **options).run_geometry
    assert _compiled.reads_unpadded(geom)
    with np.errstate(invalid="ignore"):
        y = direct.execute(x, direct.prepare(w, geom, np.float64), geom, strategy="compiled")
        expected = ref(x, w, **options)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(y), np.isinf(expected))


# -- BLAS's threads and the GEMM strategies' chunks on fftconv's pool ---------------------------

GEMM_CASES = ["2d-dense", "2d-grouped", "2d-grouped-dilated", "2d-single-channel", "1d-fir-long-threads",
              "2d-depthwise-multiplier", "3d-depthwise"]


@pytest.mark.parametrize(*grid(lambda **c: _direct_plan(c["strategy"], c["case"], "float64") is not None,
                               strategy=["shifted", "im2col"], case=GEMM_CASES))
def test_gemm_chunks_shared_between_threads_match_the_reference(strategy, case, rng, monkeypatch):
    """With small chunks and every layer large enough to share them, the shifted and im2col
    strategies run their chunks on two threads, with the reference's results."""
    from fftconv._runtime import threads

    monkeypatch.setattr(direct, "CHUNK_BYTES", 16384)
    monkeypatch.setattr(threads, "CHUNK_THREADS_MIN_FLOPS", 0)
    shared = []
    real = direct.run_shared
    monkeypatch.setattr(direct, "run_shared", lambda piece, count, n: (shared.append(n), real(piece, count, n)))
    nd, x_shape, w_shape, options = CASES[case]
    plan = PLANNERS[nd](x_shape, w_shape, dtype=np.float64, method="direct", workers=2, **options)
    plan = dataclasses.replace(plan, settings={**plan.settings, "direct": strategy})
    x, w = random(rng, x_shape), random(rng, w_shape)
    assert_close(plan(x, w), ref(x, w, **options), "float64")
    if fftconv._checks.CPUS > 1 and case in ("2d-dense", "2d-single-channel", "1d-fir-long-threads"):
        assert shared == [2]


def _blas_counts():
    from threadpoolctl import threadpool_info

    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


@pytest.mark.parametrize("strategy", ["shifted", "im2col"])
@pytest.mark.parametrize("workers", [1, 2])
def test_gemms_run_on_one_blas_thread_and_the_limits_are_restored(strategy, workers, rng, monkeypatch):
    """Inside the GEMM strategies BLAS runs on one thread, whatever ``workers`` is (fftconv's own
    threads share the chunks); its thread counts are restored after the call, and after an
    exception inside it."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    plan = fftconv.plan_conv2d((2, 12, 11, 3), (5, 5, 3, 4), padding="SAME", method="direct", workers=workers)
    plan = dataclasses.replace(plan, settings={**plan.settings, "direct": strategy})
    x, w = random(rng, (2, 12, 11, 3), "float32"), random(rng, (5, 5, 3, 4), "float32")
    inside = []
    real = direct._RUN[strategy]

    def spy(*args):
        inside.append(_blas_counts())
        return real(*args)

    monkeypatch.setitem(direct._RUN, strategy, spy)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = _blas_counts()
        assert before, "threadpoolctl finds no BLAS"
        y = plan(x, w)
        assert inside == [[1] * len(before)]
        assert _blas_counts() == before
        assert_close(y, ref(x, w, padding="SAME"), "float32")

        def fails(*args):
            inside.append(_blas_counts())
            raise RuntimeError("inside the GEMMs")

        monkeypatch.setitem(direct._RUN, strategy, fails)
        with pytest.raises(RuntimeError, match="inside the GEMMs"):
            plan(x, w)
        assert inside[-1] == [1] * len(before)
        assert _blas_counts() == before


def test_blas_threads_nest_across_threads_and_restore_the_counts():
    """Blocks in several threads at once: each holds BLAS to the fewest threads any running block
    asks for, never more than it had; the last to leave restores the counts."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import threading

    from fftconv._runtime.threads import blas_threads

    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = _blas_counts()
        entered, release, seen = threading.Event(), threading.Event(), []

        def other():
            with blas_threads(1):
                entered.set()
                release.wait(10)

        t = threading.Thread(target=other)
        with blas_threads(4):
            assert _blas_counts() == before  # never more than it had
            t.start()
            entered.wait(10)
            seen.append(_blas_counts())
            release.set()
            t.join(10)
            seen.append(_blas_counts())  # the other block left: back to this one's
        assert seen == [[1] * len(before), before]
        assert _blas_counts() == before
