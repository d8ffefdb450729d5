"""Reliability: non-finite inputs stay local, integers are exact, memory is bounded,
threads are safe, bad parameters only ever raise ValueError or TypeError."""

import concurrent.futures
import json
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fftconv
from fftconv import backends, calibration
from fftconv.testing import reference_conv, relative_error

GEOMETRIES = [
    dict(strides=1, padding="SAME", dilations=1),
    dict(strides=2, padding="VALID", dilations=2),
    dict(strides=(3, 1), padding=((3, 0), (1, 2)), dilations=1),
]


@pytest.mark.parametrize("params", GEOMETRIES, ids=["same", "stride2-dil2", "explicit"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_inputs_stay_local(method, params, bad):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 40, 37, 4))
    w = rng.standard_normal((7, 5, 2, 6))  # groups = 2
    x[0, 10, 10, 1] = bad
    x[1, 3, 30, 3] = bad
    y = fftconv.conv2d(x, w, method=method, **params)
    clean = np.where(np.isfinite(x), x, 0.0)
    ref = reference_conv(clean, w, params["strides"], params["padding"], params["dilations"])
    touched = reference_conv(~np.isfinite(x) * 1.0, np.ones_like(w), params["strides"],
                             params["padding"], params["dilations"]) > 0
    assert touched.any() and not touched.all()
    assert not np.isfinite(y[touched]).any()
    assert relative_error(y[~touched], ref[~touched]) <= 1e-12


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nonfinite_filters_poison_every_method_alike(method, bad, dtype):
    """A NaN or an infinity in a filter makes its output channel non-finite, every method
    alike (an infinity once made the overflow limit 0, and the guards divided by it)."""
    x = np.random.default_rng(5).standard_normal((1, 8, 8, 1)).astype(dtype)
    w = np.ones((3, 3, 1, 2), dtype)
    w[1, 1, 0, 0] = bad
    y = fftconv.conv2d(x, w, method=method, padding="SAME")
    assert not np.isfinite(y[..., 0]).any() and np.isfinite(y[..., 1]).all()


@pytest.mark.parametrize("requested", ["auto", "method"])
@pytest.mark.parametrize("groups", [1, 2])
def test_the_other_channels_of_nonfinite_filters_keep_every_guard(method, requested, groups):
    """Filters holding an Inf in one output channel's weights (a fresh review's case): that
    channel is not finite, and every other channel keeps the guards as if they were finite: a
    NaN of the input stays in the outputs whose windows hold it, windows of zeros give exactly
    0, and the rest match the reference."""
    rng = np.random.default_rng(0)
    x = np.zeros((1, 96, 96, 2))
    x[:, 24:72, 24:72] = rng.standard_normal((1, 48, 48, 2))
    x[0, 48, 48, :] = np.nan
    w = rng.standard_normal((15, 15, 2 // groups, 2))
    w[7, 7, 0, 0] = np.inf
    chosen = "auto" if requested == "auto" else method
    x_before, w_before = x.copy(), w.copy()
    with np.errstate(invalid="ignore", over="ignore"):
        y = fftconv.conv2d(x, w, padding="SAME", groups=groups, method=chosen)
    np.testing.assert_array_equal(x, x_before)  # the inputs untouched, the result its own
    np.testing.assert_array_equal(w, w_before)
    assert y.flags.owndata
    assert not np.isfinite(y[..., 0]).any()
    # channel 1 reads input channel 1 (groups=2) or both (groups=1)
    reads = x[..., 1:] if groups == 2 else x
    taps = np.ones((15, 15, reads.shape[-1], 1))
    touched = reference_conv(np.isnan(reads) * 1.0, taps, 1, "SAME")[..., 0] > 0
    np.testing.assert_array_equal(~np.isfinite(y[..., 1]), touched)
    zero = reference_conv((reads != 0) * 1.0, taps, 1, "SAME")[..., 0] == 0
    assert zero.any() and (y[..., 1][zero] == 0).all()
    ref = reference_conv(np.nan_to_num(reads), w[..., 1:], 1, "SAME")[..., 0]
    assert relative_error(y[..., 1][~touched], ref[~touched]) <= 1e-12


@pytest.mark.parametrize("dilation, padding", [(3, "VALID"), (3, "SAME"), (7, "SAME")])
def test_folded_taps_keep_an_infinity_an_infinity(method, dilation, padding):
    """Taps that a large dilation folds into one (they read the same samples) are added up
    alone: an Inf among them stays an Inf (as in the reference and tf.nn.convolution), not the
    NaN that 0 * Inf from the other taps' weights would make (a fresh review's case). The same
    outputs are not finite under every method; a local one gives the reference's Inf and NaN."""
    x = np.array([1.0, 2, 3, 4]).reshape(1, 4, 1)
    w = np.array([1.0, np.inf]).reshape(2, 1, 1)
    with np.errstate(invalid="ignore", over="ignore"):
        y = fftconv.conv1d(x, w, dilations=dilation, padding=padding, method=method)
        ref = reference_conv(x, w, 1, padding, dilation)
    np.testing.assert_array_equal(np.isfinite(y), np.isfinite(ref))
    if fftconv.METHODS[method].local:
        np.testing.assert_array_equal(np.isinf(y), np.isinf(ref))


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int64, bool])
def test_integers_are_exact(method, dtype):
    rng = np.random.default_rng(5)
    hi = 2 if dtype is bool else 100
    x = rng.integers(0, hi, (2, 50, 45, 3)).astype(dtype)
    w = rng.integers(-hi + 1, hi, (15, 9, 3, 2)).astype(dtype if dtype is not np.uint8 else np.int16)
    y = fftconv.conv2d(x, w, padding="SAME", method=method)
    exact = reference_conv(x.astype(np.int64), w.astype(np.int64), 1, "SAME")
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, exact)


def test_large_integers_fall_back_to_direct():
    rng = np.random.default_rng(6)
    x = rng.integers(-2**35, 2**35, (1, 64, 64, 2))
    w = rng.integers(-2**10, 2**10, (21, 21, 2, 1))
    assert fftconv.plan_conv2d(x.shape, w.shape, dtype=x.dtype).method == "fft"
    y = fftconv.conv2d(x, w)
    np.testing.assert_array_equal(y, fftconv.conv2d(x, w, method="direct"))


def test_memory_stays_bounded():
    """The issue's target: a 4096^2 image, 63x63 filter, SAME, peaks at <= 1.5 (in + out)."""
    shape, kernel = (1, 4096, 4096, 1), (63, 63, 1, 1)
    tracemalloc.start()
    try:
        x = np.ones(shape, np.float32)
        w = np.ones(kernel, np.float32)
        y = fftconv.conv2d(x, w, padding="SAME", method="fft")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert y.shape == (1, 4096, 4096, 1)
    assert peak <= 1.5 * (x.nbytes + y.nbytes), peak / (x.nbytes + y.nbytes)


def _job(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(9, 40))
    k = int(rng.integers(1, 9))
    x = rng.standard_normal((2, n, n + 3, 3)).astype(np.float32)
    w = rng.standard_normal((k, k, 3, 4)).astype(np.float32)
    method = ("direct", "fft", "auto")[seed % 3]
    y = fftconv.conv2d(x, w, padding="SAME", strides=1 + seed % 2, method=method)
    return relative_error(y, reference_conv(x, w, 1 + seed % 2, "SAME"))


def test_eight_threads_mixed_shapes():
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        errors = list(pool.map(_job, range(48)))
    assert max(errors) <= 1e-5


# -- fuzzing: invalid parameters give ValueError or TypeError, nothing else ------------------

_junk = st.one_of(
    st.integers(-3, 5), st.floats(allow_nan=True), st.text(max_size=4), st.none(), st.booleans(),
    st.lists(st.integers(-2, 4), max_size=5),
    st.lists(st.lists(st.integers(-2, 4), max_size=3), max_size=5),
    st.dictionaries(st.integers(0, 2), st.integers(0, 2), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(strides=_junk, padding=_junk, dilations=_junk, groups=_junk, method=_junk,
       data_format=_junk, workers=_junk)
def test_fuzzed_parameters_raise_only_value_or_type_errors(strides, padding, dilations, groups,
                                                            method, data_format, workers):
    x = np.ones((1, 6, 5, 2), np.float32)
    w = np.ones((3, 2, 2, 2), np.float32)
    try:
        fftconv.conv2d(x, w, strides=strides, padding=padding, dilations=dilations,
                       groups=groups, method=method, data_format=data_format, workers=workers)
    except (ValueError, TypeError):
        pass


@settings(max_examples=60, deadline=None)
@given(x_shape=st.lists(st.integers(0, 5), max_size=6), w_shape=st.lists(st.integers(0, 5), max_size=6))
def test_fuzzed_shapes_raise_only_value_or_type_errors(x_shape, w_shape):
    try:
        fftconv.conv2d(np.ones(x_shape), np.ones(w_shape))
    except (ValueError, TypeError):
        pass


# -- untrusted calibration files -----------------------------------------------------------

@pytest.mark.parametrize("content", [
    "{not json", "[]", '{"constants": {"fft_flops": -1}}', '{"constants": {"os.system": 1}}',
    '{"constants": {"fft_flops": "1e9"}}', '{"constants": {"fft_flops": Infinity}}',
    "\x80\x81binary", '{"constants": {}, "backends": {"pyfftw": -1}}', '{"constants": {}, "backends": [1]}',
], ids=["corrupt", "list", "negative", "unknown-key", "string", "infinite", "binary", "negative-backend",
        "backend-list"])
def test_bad_calibration_file_warns_and_uses_defaults(tmp_path, monkeypatch, content):
    path = tmp_path / "calibration.json"
    path.write_bytes(content.encode("latin-1"))
    monkeypatch.setenv(calibration.ENV_VAR, str(path))
    calibration.clear_cache()
    try:
        with pytest.warns(RuntimeWarning, match="ignoring the fftconv calibration file"):
            constants = calibration.load_constants()
        assert constants == fftconv._engine.costs.DEFAULT_CONSTANTS
        assert calibration.backend_ratios() == fftconv._engine.constants.DEFAULT_BACKEND_RATIOS
    finally:
        calibration.clear_cache()


def test_calibration_round_trips(tmp_path, monkeypatch):
    path = tmp_path / "calibration.json"
    constants = {**fftconv._engine.costs.DEFAULT_CONSTANTS, "fft_flops": 1.5e9}
    path.write_text(json.dumps({"version": 1, "constants": constants}))
    monkeypatch.setenv(calibration.ENV_VAR, str(path))
    calibration.clear_cache()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert calibration.load_constants()["fft_flops"] == 1.5e9
        assert calibration.calibration_path() == path
    finally:
        calibration.clear_cache()


@pytest.mark.parametrize("ratios, available, expected", [
    ({"scipy": 1.0, "pyfftw": 0.5}, ("scipy", "pyfftw"), "pyfftw"),
    ({"scipy": 1.0, "pyfftw": 0.95}, ("scipy", "pyfftw"), "scipy"),   # within the margin
    ({"scipy": 1.0, "pyfftw": 0.5}, ("scipy",), "scipy"),             # calibrated, since uninstalled
    ({}, ("scipy", "pyfftw"), "scipy"),
])
def test_auto_backend_follows_the_calibration(tmp_path, monkeypatch, ratios, available, expected):
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"version": 1, "constants": {}, "backends": ratios}))
    monkeypatch.setenv(calibration.ENV_VAR, str(path))
    calibration.clear_cache()
    try:
        assert calibration.preferred_backend(available) == expected
        if "pyfftw" in backends.available_backends():
            plan = fftconv.plan_conv2d((1, 64, 64, 3), (21, 21, 3, 4))
            assert plan.backend == calibration.preferred_backend(backends.available_backends(),
                                                                 backends.DEFAULT_BACKEND)
            assert fftconv.plan_conv2d((1, 64, 64, 3), (21, 21, 3, 4), backend="scipy").backend == "scipy"
    finally:
        calibration.clear_cache()


def test_backends_are_calibrated_against_scipy():
    case = ((1, 24, 24, 2), (9, 9, 2, 2), 1, "SAME", 1)
    scipy_seconds = calibration.measure_point(*case, "fft", repeats=1)[2]
    ratios = calibration.calibrate_backends({case: scipy_seconds}, repeats=1, progress=False)
    assert set(ratios) == set(backends.available_backends()) and ratios["scipy"] == 1.0
    assert all(0 < r < 1e3 for r in ratios.values())


def test_missing_calibration_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv(calibration.ENV_VAR, str(tmp_path / "absent.json"))
    calibration.clear_cache()
    try:
        assert calibration.load_constants() == fftconv._engine.costs.DEFAULT_CONSTANTS
    finally:
        calibration.clear_cache()
