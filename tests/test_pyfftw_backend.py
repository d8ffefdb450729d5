"""The pyFFTW backend: scipy's results, untouched inputs, ``out=``, plan cache, threads, wisdom.

Most tests use an ``FFTW_ESTIMATE`` instance so that planning is instant; the
registered instance (``FFTW_MEASURE``) is exercised on small shapes.  The last
test runs fftconv in a subprocess where ``import pyfftw`` fails.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import numpy as np
import pytest
import scipy.fft

pyfftw = pytest.importorskip("pyfftw")
from fftconv._runtime.switches import DISABLED  # noqa: E402

if "pyfftw" in DISABLED:
    pytest.skip("FFTCONV_DISABLE turns the pyFFTW backend off", allow_module_level=True)

import fftconv  # noqa: E402
from fftconv._runtime import arrays as _arrays  # noqa: E402
from fftconv.backends import BACKENDS, _pyfftw  # noqa: E402
from fftconv.backends._pyfftw import PyFFTWBackend, load_wisdom, save_wisdom  # noqa: E402

#: (shape, axes): fftconv's layouts (transform over the leading axes, batch and
#: channels behind) in 1-D, 2-D and 3-D, plus trailing and unordered axes.
LAYOUTS = [
    ((33, 4, 3), (0,)),
    ((16, 15, 2, 3), (0, 1)),
    ((12, 10, 7, 1, 1), (0, 1)),
    ((8, 9, 6, 2, 2), (0, 1, 2)),
    ((5, 18), (1,)),
    ((6, 7, 4), (2, 0)),
]
TOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-14}


@pytest.fixture(scope="module")
def backend():
    """A quickly planning instance; the planning code paths are the same."""
    return PyFFTWBackend(planner_effort="FFTW_ESTIMATE")


@pytest.fixture
def wisdom_dir(tmp_path, monkeypatch):
    """Point the calibration (and so the wisdom) file into ``tmp_path``."""
    monkeypatch.setenv("FFTCONV_CALIBRATION", str(tmp_path / "calibration.json"))
    return tmp_path


def relative_error(y, ref):
    """``||y - ref|| / ||ref||`` for real or complex arrays, in double precision."""
    y, ref = np.asarray(y, dtype=np.complex128), np.asarray(ref, dtype=np.complex128)
    return float(np.linalg.norm((y - ref).ravel()) / np.linalg.norm(ref.ravel()))


def lines(wisdom):
    """The entries of FFTW wisdom text, as a set (FFTW exports them in hash order)."""
    text = wisdom.decode() if isinstance(wisdom, bytes) else wisdom
    return set(text.splitlines()[1:])


def lengths(shape, axes):
    return [shape[ax] for ax in axes]


def test_registered():
    assert isinstance(BACKENDS["pyfftw"], PyFFTWBackend)
    assert BACKENDS["pyfftw"].planner_effort == "FFTW_MEASURE"
    assert fftconv.backends.get_backend("pyfftw") is BACKENDS["pyfftw"]


@pytest.mark.parametrize("shape, axes", LAYOUTS)
def test_matches_scipy(backend, shape, axes, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    spectrum = backend.rfftn(x, axes=axes, workers=2)
    expected = scipy.fft.rfftn(x, axes=axes)
    assert spectrum.dtype == expected.dtype and spectrum.shape == expected.shape
    assert relative_error(spectrum, expected) <= TOL[dtype]
    y = backend.irfftn(spectrum.copy(), lengths(shape, axes), axes=axes, workers=2)
    assert y.dtype == dtype and y.shape == shape
    assert relative_error(y, scipy.fft.irfftn(expected, s=lengths(shape, axes), axes=axes)) <= TOL[dtype]
    assert relative_error(y, x) <= TOL[dtype]


@pytest.mark.parametrize("shape, axes", LAYOUTS[:4])
def test_registered_measure_backend(shape, axes, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    spectrum = BACKENDS["pyfftw"].rfftn(x, axes=axes, workers=1)
    assert relative_error(spectrum, scipy.fft.rfftn(x, axes=axes)) <= 1e-6
    y = BACKENDS["pyfftw"].irfftn(spectrum, lengths(shape, axes), axes=axes, workers=1)
    assert relative_error(y, x) <= 1e-6


@pytest.mark.parametrize("length", [7, 8])
def test_irfftn_pads_or_cuts_like_scipy(backend, rng, length):
    spectrum = (rng.standard_normal((6, 5, 3)) + 1j * rng.standard_normal((6, 5, 3))).astype(np.complex64)
    got = backend.irfftn(spectrum.copy(), (length, 9), axes=(1, 0), workers=1)
    expected = scipy.fft.irfftn(spectrum, s=(length, 9), axes=(1, 0))
    assert got.dtype == np.float32 and relative_error(got, expected) <= 1e-6


def odd_layouts(x):
    """The same data as strided, Fortran, reversed, read-only and big-endian arrays."""
    readonly = x.copy()
    readonly.flags.writeable = False
    return {
        "strided": np.repeat(x, 2, axis=1)[:, ::2],
        "fortran": np.asfortranarray(x),
        "reversed": x[::-1, ::-1][::-1, ::-1],
        "negative": x[::-1].copy()[::-1],
        "readonly": readonly,
        "bigendian": x.astype(x.dtype.newbyteorder(">")),
        "offset": np.frombuffer(b"\0" * 4 + x.tobytes(), dtype=x.dtype, offset=4).reshape(x.shape),
    }


@pytest.mark.parametrize("kind", list(odd_layouts(np.zeros((2, 2, 2)))))
def test_rfftn_any_layout_and_input_untouched(backend, rng, dtype, kind):
    x = rng.standard_normal((10, 12, 3)).astype(dtype)
    a = odd_layouts(x)[kind]
    before = a.copy()
    got = backend.rfftn(a, axes=(0, 1), workers=2)
    np.testing.assert_array_equal(a, before)
    assert relative_error(got, scipy.fft.rfftn(x, axes=(0, 1))) <= TOL[dtype]


def test_irfftn_leaves_readonly_input_alone(backend, rng):
    spectrum = scipy.fft.rfftn(rng.standard_normal((10, 12, 3)), axes=(0, 1))
    spectrum.flags.writeable = False
    before = spectrum.copy()
    y = backend.irfftn(spectrum, (10, 12), axes=(0, 1), workers=1)
    np.testing.assert_array_equal(spectrum, before)
    assert relative_error(y, scipy.fft.irfftn(before, s=(10, 12), axes=(0, 1))) <= 1e-14


@pytest.mark.parametrize("dtype_in, dtype_out", [
    (np.float16, np.complex64), (np.int32, np.complex128), (np.bool_, np.complex128)])
def test_rfftn_promotes_like_scipy(backend, dtype_in, dtype_out):
    x = (np.arange(60).reshape(10, 6) % 3).astype(dtype_in)
    got = backend.rfftn(x, axes=(0,), workers=1)
    assert got.dtype == dtype_out
    assert relative_error(got, scipy.fft.rfftn(x, axes=(0,))) <= 1e-6


def test_outputs_are_fresh_and_plans_hold_no_arrays(backend, rng):
    x = rng.standard_normal((16, 8, 2)).astype(np.float32)
    first = backend.rfftn(x, axes=(0,), workers=1)
    kept = first.copy()
    second = backend.rfftn(2 * x, axes=(0,), workers=1)
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, kept)
    inp, out = weakref.ref(x), weakref.ref(second)
    del x, second
    gc.collect()
    assert inp() is None and out() is None, "a cached plan keeps a caller's array alive"


def test_cache_is_bounded_lru():
    small = PyFFTWBackend(planner_effort="FFTW_ESTIMATE", cache_size=3)
    for n in range(4, 9):
        small.rfftn(np.ones((n, 2)), axes=(0,), workers=1)
    assert small.cache_info() == {"size": 3, "maxsize": 3, "hits": 0, "misses": 5}
    small.rfftn(np.ones((8, 2)), axes=(0,), workers=1)  # most recent: still cached
    small.rfftn(np.ones((4, 2)), axes=(0,), workers=1)  # oldest: evicted
    assert small.cache_info()["hits"] == 1 and small.cache_info()["misses"] == 6
    small.clear_cache()
    assert small.cache_info()["size"] == 0


def test_cache_is_keyed_by_thread_and_workers():
    fresh = PyFFTWBackend(planner_effort="FFTW_ESTIMATE")
    x = np.ones(2**16, dtype=np.float32)  # a lone transform, large enough for FFTW's threads
    fresh.rfftn(x, axes=(0,), workers=1)
    worker = threading.Thread(target=fresh.rfftn, args=(x, (0,), 1))
    worker.start()
    worker.join()
    assert fresh.cache_info()["size"] == 2, "another thread must get its own plan"
    fresh.rfftn(x, axes=(0,), workers=1)
    assert fresh.cache_info()["hits"] == 1
    fresh.rfftn(x, axes=(0,), workers=2)
    assert fresh.cache_info()["size"] == 3


#: (shape, axes) of batches large enough to be cut into pieces for threads: odd
#: batch and transform lengths, so that the pieces must be rounded to stay on
#: 16-byte boundaries; batch axes behind, between or around the transformed ones.
BATCHES = [
    ((33, 3, 27, 27), (2, 3)),
    ((1, 37, 45, 41), (2, 3)),  # the outermost batch axis has one entry
    ((27, 25, 5, 21), (0, 1)),  # batch axes last
    ((41, 7, 15, 17), (3, 0)),  # a batch axis between the transformed ones
    ((3, 37, 17, 39), (1, 3)),  # 3 cannot be cut on 16-byte boundaries in float32: 17 can
]


@pytest.mark.parametrize("shape, axes", BATCHES)
def test_threads_cut_batches_into_pieces(backend, shape, axes, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    one = backend.rfftn(x, axes=axes, workers=1)
    two = backend.rfftn(x, axes=axes, workers=2)
    assert relative_error(two, one) <= TOL[dtype]
    assert relative_error(two, scipy.fft.rfftn(x, axes=axes)) <= TOL[dtype]
    n = lengths(shape, axes)
    y_one = backend.irfftn(one.copy(), n, axes=axes, workers=1)
    y_two = backend.irfftn(one.copy(), n, axes=axes, workers=2)
    assert y_two.dtype == dtype and relative_error(y_two, y_one) <= TOL[dtype]
    assert relative_error(y_two, scipy.fft.irfftn(one, s=n, axes=axes)) <= TOL[dtype]


@pytest.mark.parametrize("shape, axes", BATCHES)
@pytest.mark.parametrize("workers", [2, 3, 8])
def test_pieces_share_one_alignment(shape, axes, workers, dtype):
    x = _pyfftw._empty(shape, dtype)
    *n, last = lengths(shape, axes)
    out = _pyfftw._empty(_arrays.resized(shape, axes, (*n, last // 2 + 1)), np.result_type(dtype, 1j))
    x[...], out[...] = 0, 0
    piece_axes, pieces = _pyfftw._split(x, out, axes, workers)
    assert 2 <= len(pieces) <= workers
    assert len({xi.shape for xi, _ in pieces}) <= 2, "equal pieces and a remainder"
    for xi, outi in pieces:
        assert [xi.shape[ax] for ax in piece_axes] == lengths(shape, axes)
        assert xi.ctypes.data % 16 == 0 and outi.ctypes.data % 16 == 0
        xi += 1
        outi += 1
    assert (x == 1).all() and (out == 1).all(), "the pieces cover the arrays once"


def test_pieces_run_on_persistent_single_threaded_plans(rng):
    fresh = PyFFTWBackend(planner_effort="FFTW_ESTIMATE")
    x = rng.standard_normal((64, 3, 27, 27)).astype(np.float32)
    for _ in range(20):
        fresh.rfftn(x, axes=(2, 3), workers=2)
    threads = {key[-1] for key in fresh._cache}  # keys end with (FFTW's threads, calling thread)
    assert {key[-2] for key in fresh._cache} == {1}
    assert 2 <= len(threads) <= 1 + os.cpu_count(), "the pool's threads are kept"
    assert fresh.cache_info()["misses"] == len(threads)  # one plan per thread, one piece shape


def test_batched_threads_are_not_pathological(rng):
    """FFTW's threaded plan of this batch (its estimate) ran 1000x slower than one thread."""
    fast = PyFFTWBackend(planner_effort="FFTW_ESTIMATE")
    x = rng.standard_normal((64, 1, 32, 27, 27)).astype(np.float32)

    def seconds(workers):
        fast.rfftn(x, axes=(3, 4), workers=workers)  # planned
        start = time.perf_counter()
        fast.rfftn(x, axes=(3, 4), workers=workers)
        return time.perf_counter() - start

    one, two = seconds(1), seconds(2)
    assert two < 0.25 + 10 * one, f"{two:.3f} s with 2 workers, {one:.3f} s with 1"


@pytest.mark.parametrize("workers", [1, 2])
def test_out_is_written_and_returned(backend, rng, dtype, workers):
    shape, axes = BATCHES[0]
    x = rng.standard_normal(shape).astype(dtype)
    expected = scipy.fft.rfftn(x, axes=axes)
    out = np.empty_like(expected)
    assert backend.rfftn(x, axes=axes, workers=workers, out=out) is out
    assert relative_error(out, expected) <= TOL[dtype]
    y = np.empty_like(x)
    assert backend.irfftn(expected.copy(), lengths(shape, axes), axes, workers, out=y) is y
    assert relative_error(y, x) <= TOL[dtype]


@pytest.mark.parametrize("workers", [1, 2])
def test_out_off_16_byte_boundaries(backend, rng, workers):
    shape, axes = BATCHES[1]
    x = rng.standard_normal(shape).astype(np.float32)
    expected = scipy.fft.rfftn(x, axes=axes)
    raw = pyfftw.empty_aligned(expected.nbytes + x.nbytes + 64, dtype=np.uint8, n=64)
    out = raw[8:8 + expected.nbytes].view(np.complex64).reshape(expected.shape)  # 8 past 16 bytes
    assert backend.rfftn(x, axes=axes, workers=workers, out=out) is out
    assert relative_error(out, expected) <= 1e-6
    y = raw[4:4 + x.nbytes].view(np.float32).reshape(shape)  # 4 past 16 bytes
    assert backend.irfftn(expected, lengths(shape, axes), axes, workers, out=y) is y
    assert relative_error(y, x) <= 1e-6


def test_bad_out(backend):
    x = np.ones((6, 8), dtype=np.float32)
    good = np.empty((6, 5), dtype=np.complex64)
    bad = {
        "shape \\(6, 4\\)": np.empty((6, 4), dtype=np.complex64),
        "dtype complex128": np.empty((6, 5), dtype=np.complex128),
        "not C-contiguous": np.empty((5, 6), dtype=np.complex64).T,
        "read-only": np.broadcast_to(good, good.shape),
        "list": [[0j] * 5] * 6,
    }
    for got, out in bad.items():
        with pytest.raises(ValueError, match=f"`out` .* shape \\(6, 5\\) and dtype complex64; got .*{got}"):
            backend.rfftn(x, axes=(0, 1), workers=1, out=out)
    with pytest.raises(ValueError, match="`out` .* shape \\(6, 8\\) and dtype float32; got .*float64"):
        backend.irfftn(good, (6, 8), axes=(0, 1), workers=1, out=np.empty((6, 8)))
    overlapping = good.view(np.float32).ravel()[:48].reshape(6, 8)
    with pytest.raises(ValueError, match="`out` must not overlap"):
        backend.irfftn(good, (6, 8), axes=(0, 1), workers=1, out=overlapping)


def test_eight_threads_mixed_shapes(rng):
    shared = PyFFTWBackend(planning_timelimit=0.05, cache_size=8)  # FFTW_MEASURE, evictions
    cases = []
    for i, (shape, axes) in enumerate(LAYOUTS[:4]):
        for dtype in (np.float32, np.float64):
            x = rng.standard_normal(shape).astype(dtype)
            cases.append((x, axes, scipy.fft.rfftn(x, axes=axes)))
    barrier, errors = threading.Barrier(8), []

    def work(k):
        barrier.wait()
        for step in range(12):
            x, axes, expected = cases[(k + step) % len(cases)]
            spectrum = shared.rfftn(x, axes=axes, workers=1 + step % 2)
            y = shared.irfftn(spectrum.copy(), lengths(x.shape, axes), axes=axes, workers=1)
            tol = TOL[x.dtype]
            if relative_error(spectrum, expected) > tol or relative_error(y, x) > tol:
                errors.append((k, step, x.shape, x.dtype))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert shared.cache_info()["size"] <= 8


def test_conv2d_through_pyfftw(rng, monkeypatch):
    monkeypatch.setitem(BACKENDS, "pyfftw", PyFFTWBackend(planning_timelimit=0.2))  # bounded planning
    x = rng.standard_normal((2, 37, 41, 3)).astype(np.float32)
    w = rng.standard_normal((15, 9, 3, 4)).astype(np.float32)
    plan = fftconv.plan_conv2d(x.shape, w.shape, strides=2, padding="SAME", method="fft")
    expected = plan(x, w)
    got = dataclasses.replace(plan, backend="pyfftw")(x, w)
    assert got.dtype == np.float32 and relative_error(got, expected) <= 1e-5


def test_bad_arguments(backend):
    with pytest.raises(ValueError, match="planner_effort.*'FFTW_MEASURE'.*got 'FAST'"):
        PyFFTWBackend(planner_effort="FAST")
    with pytest.raises(ValueError, match="planning_timelimit.*got -1"):
        PyFFTWBackend(planning_timelimit=-1)
    with pytest.raises(ValueError, match="cache_size.*got 0"):
        PyFFTWBackend(cache_size=0)
    with pytest.raises(TypeError, match="real .* array; got dtype complex128"):
        backend.rfftn(np.ones((4, 2), dtype=complex), axes=(0,), workers=1)
    with pytest.raises(ValueError, match="distinct axes of a 2-D array; got \\(0, 2\\)"):
        backend.rfftn(np.ones((4, 2)), axes=(0, 2), workers=1)
    with pytest.raises(ValueError, match="`workers`"):
        backend.rfftn(np.ones((4, 2)), axes=(0,), workers=0)


# -- wisdom ---------------------------------------------------------------------

def test_wisdom_round_trip(wisdom_dir):
    PyFFTWBackend().rfftn(np.ones((18, 5), dtype=np.float32), axes=(0,), workers=1)
    exported = pyfftw.export_wisdom()
    path = save_wisdom()
    assert path == wisdom_dir / "fftw_wisdom.json"
    assert json.loads(path.read_text())["fftw"]["single"] == exported[1].decode()
    pyfftw.forget_wisdom()
    assert load_wisdom() is True
    assert [lines(w) for w in pyfftw.export_wisdom()] == [lines(w) for w in exported]


def test_wisdom_is_imported_at_first_plan(wisdom_dir, monkeypatch):
    PyFFTWBackend().rfftn(np.ones((22, 3)), axes=(0,), workers=1)
    saved = json.loads(save_wisdom().read_text())["fftw"]["double"]
    assert lines(saved), "planning with FFTW_MEASURE gathered no wisdom"
    pyfftw.forget_wisdom()
    monkeypatch.setattr(_pyfftw, "_wisdom_loaded", False)
    PyFFTWBackend(planner_effort="FFTW_ESTIMATE").rfftn(np.ones((6, 2)), axes=(0,), workers=1)
    assert lines(saved) <= lines(pyfftw.export_wisdom()[0])


def wisdom_json(single):
    return json.dumps({"format": "fftconv-fftw-wisdom", "version": 1,
                       "fftw": {"double": "", "single": single, "longdouble": ""}})


CORRUPT = {
    "not json": "(fftw-3.3.5 fftwf_wisdom",
    "json list": "[1, 2, 3]",
    "other format": json.dumps({"format": "pickle", "version": 1}),
    "wrong version": json.dumps({"format": "fftconv-fftw-wisdom", "version": 99, "fftw": {}}),
    "missing precision": json.dumps({"format": "fftconv-fftw-wisdom", "version": 1, "fftw": {"single": ""}}),
    "number for text": wisdom_json(5),
    "python code": wisdom_json("__import__('os').system('echo pwned')"),
    "code inside wisdom": wisdom_json("(fftw-3.3.5 fftwf_wisdom #x0\n (x \"; rm -rf /\")\n)"),
    "rejected by fftw": wisdom_json("(fftw-3.3.5 fftwf_wisdom #x0 #x0 #x0 #x0\n (garbage 1 2 3)\n)\n"),
}


@pytest.mark.parametrize("content", [*CORRUPT.values(), b"\xff\xfe\x00binary"], ids=[*CORRUPT, "binary"])
def test_corrupt_wisdom_warns_and_is_ignored(wisdom_dir, content, rng):
    path = wisdom_dir / "fftw_wisdom.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.warns(RuntimeWarning, match="wisdom"):
        assert load_wisdom() is False
    x = rng.standard_normal((10, 4))
    y = PyFFTWBackend(planner_effort="FFTW_ESTIMATE").rfftn(x, axes=(0,), workers=1)
    assert relative_error(y, scipy.fft.rfftn(x, axes=(0,))) <= 1e-14


def test_oversized_wisdom_file_is_not_read(wisdom_dir, monkeypatch):
    monkeypatch.setattr(_pyfftw, "_MAX_WISDOM_BYTES", 100)
    (wisdom_dir / "fftw_wisdom.json").write_text(wisdom_json("(fftw-3.3.5 fftwf_wisdom" + " " * 200 + ")"))
    with pytest.warns(RuntimeWarning, match="larger than 100 bytes"):
        assert load_wisdom() is False


def test_missing_wisdom_file_is_silent(wisdom_dir, recwarn):
    assert load_wisdom() is False
    assert not recwarn.list


# -- without pyFFTW ---------------------------------------------------------------

def test_fftconv_works_without_pyfftw_or_ducc0():
    code = textwrap.dedent("""
        import importlib, sys
        sys.modules["pyfftw"] = sys.modules["ducc0"] = None  # their imports now raise ImportError
        import numpy as np
        import fftconv, fftconv.backends
        backends = importlib.reload(fftconv.backends)
        assert list(backends.BACKENDS) == ["scipy"], backends.BACKENDS
        assert backends.DEFAULT_BACKEND == "scipy"
        from fftconv.backends import _pyfftw
        assert not _pyfftw.HAVE_PYFFTW
        try:
            _pyfftw.PyFFTWBackend()
        except ImportError as exc:
            assert "pip install pyfftw" in str(exc)
        else:
            raise AssertionError("PyFFTWBackend() without pyFFTW must raise ImportError")
        x = np.ones((1, 24, 24, 2), np.float32)
        w = np.ones((11, 11, 2, 3), np.float32)
        y = fftconv.conv2d(x, w, padding="SAME", method="fft")
        assert y.shape == (1, 24, 24, 3) and y.dtype == np.float32
        assert abs(float(y[0, 12, 12, 0]) - 242.0) < 1e-3
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_openmp_threads_sleep_and_environment_is_restored():
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env["OMP_DISPLAY_ENV"] = "TRUE"  # libgomp prints its settings when it loads
    code = "import os, fftconv; print('OMP_WAIT_POLICY' in os.environ)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False", "OMP_WAIT_POLICY must not leak into the environment"
    if "OMP_WAIT_POLICY" not in done.stderr:
        pytest.skip("this pyFFTW build does not run its threads on libgomp")
    assert "OMP_WAIT_POLICY = 'PASSIVE'" in done.stderr


# -- planning never lands on a call: estimate unless wisdom knows the problem -----------------

def _plan_flags(backend, shape):
    a = np.ones(shape, np.float32)
    backend.rfftn(a, axes=(1, 2), workers=1)
    plan = next(iter(backend._cache.values()))
    return plan.fftw.flags


def test_new_problems_are_estimated_not_measured(wisdom_dir):
    backend = PyFFTWBackend()  # planner_effort FFTW_MEASURE, planning "wisdom"
    assert "FFTW_ESTIMATE" in _plan_flags(backend, (3, 37, 41))


def test_wisdom_makes_later_plans_measured(wisdom_dir):
    PyFFTWBackend(planning="always").rfftn(np.ones((3, 43, 29), np.float32), axes=(1, 2), workers=1)
    fresh = PyFFTWBackend()
    flags = _plan_flags(fresh, (3, 43, 29))
    assert "FFTW_MEASURE" in flags and "FFTW_ESTIMATE" not in flags


def test_planning_policy_is_checked():
    with pytest.raises(ValueError, match=r"`planning` must be one of 'wisdom', 'always'; got 'never'"):
        PyFFTWBackend(planning="never")
