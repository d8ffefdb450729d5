"""Out of core: arrays read from storage, a memory bound that does not grow with the array, resumable runs.

* The lazy path (``fftconv.dask.conv*`` on ``da.from_zarr``) equals the in-memory
  functions over the chunkings, paddings, modes, strides and layouts of
  ``test_dask.py``, including chunks smaller than the kernel.
* Its tables: every piece a window takes from a neighbouring chunk lies in that
  chunk's shell (property test over random chunkings).
* Memory: the traced peak of a run does not grow with the array (1x, 2x, 4x
  volumes within 20%) and stays under the predicted bound; each input chunk is
  read about twice.
* ``convolve_zarr``: killed mid-run in a subprocess and resumed, the output is
  bit for bit an uninterrupted run's, and only blocks without a record are
  computed; a torn chunk is detected by its checksum.
* ``chunks_for`` fits the budget; ``fftconv convolve`` runs, resumes and
  reports bad arguments with the library's messages.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")

import dask  # noqa: E402

import fftconv  # noqa: E402
import fftconv.dask as fd  # noqa: E402
from fftconv import _outofcore as oc  # noqa: E402
from fftconv import cli  # noqa: E402

RNG = np.random.default_rng(30)
ROOT = Path(__file__).resolve().parents[1]


def _zarr(x, chunks, path=None):
    """``x`` in a zarr array (in memory, or at ``path``) with storage chunks ``chunks``."""
    store = zarr.storage.MemoryStore() if path is None else str(path)
    z = zarr.create_array(store, shape=x.shape, chunks=chunks, dtype=x.dtype)
    z[...] = x
    return z


def _streamed(lazy):
    """The StreamJob of a lazy result, or None when it took the chunk-exchange graph."""
    jobs = [v for v in dict(lazy.__dask_graph__()).values() if isinstance(v, oc.StreamJob)]
    return jobs[0] if jobs else None


def _close(got, expected, rtol=1e-12):
    assert got.shape == expected.shape and got.dtype == expected.dtype
    scale = max(np.linalg.norm(expected), 1e-300)
    assert np.linalg.norm(got.astype(np.float64) - expected) / scale <= rtol


# -- the lazy path equals the in-memory functions -----------------------------------------------------

CHUNKINGS = [(2, 19, 17, 3), (1, 5, 6, 3), (2, (3, 9, 1, 6), (2, 2, 2, 2, 2, 1, 1, 4, 1), (1, 2)), (1, 2, 3, 1)]


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("padding", ["SAME", "VALID", ((2, 0), (1, 4))])
@pytest.mark.parametrize("strides, dilations", [(1, 1), (2, 1), (3, 2), ((1, 3), 1)])
def test_conv2d_from_zarr_matches_in_memory(chunks, padding, strides, dilations):
    x = RNG.standard_normal((2, 19, 17, 3))
    w = RNG.standard_normal((5, 4, 3, 4))
    lazy = fd.conv2d(da.from_zarr(_zarr(x, (1, 4, 8, 3)), chunks=chunks), w, strides, padding,
                     dilations=dilations)
    assert _streamed(lazy) is not None
    _close(lazy.compute(), fftconv.conv2d(x, w, strides, padding, dilations=dilations))


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "wrap", "edge"])
@pytest.mark.parametrize("chunks", CHUNKINGS[1:])
@pytest.mark.parametrize("padding, strides", [("SAME", 1), ("SAME", 2), (((3, 1), (4, 0)), 1)])
def test_padding_modes_from_zarr(mode, chunks, padding, strides):
    x = RNG.standard_normal((2, 19, 17, 3))
    w = RNG.standard_normal((5, 6, 3, 2))
    lazy = fd.conv2d(da.from_zarr(_zarr(x, (1, 4, 8, 3)), chunks=chunks), w, strides, padding,
                     padding_mode=mode)
    _close(lazy.compute(), fftconv.conv2d(x, w, strides, padding, padding_mode=mode))


def test_layouts_ranks_and_dtypes():
    x = RNG.standard_normal((2, 3, 19, 17)).astype(np.float32)
    w = RNG.standard_normal((5, 4, 3, 4)).astype(np.float32)
    lazy = fd.conv2d(da.from_zarr(_zarr(x, (1, 3, 5, 6))), w, 2, "SAME", data_format="NCHW")
    assert lazy.dtype == np.float32
    _close(lazy.compute(), fftconv.conv2d(x, w, 2, "SAME", data_format="NCHW"), 1e-5)
    dw = RNG.standard_normal((3, 3, 3, 2))
    xd = RNG.standard_normal((1, 12, 10, 3))
    _close(fd.depthwise_conv2d(da.from_zarr(_zarr(xd, (1, 4, 3, 1))), dw, 1, "SAME").compute(),
           fftconv.depthwise_conv2d(xd, dw, 1, "SAME"))
    x1 = RNG.standard_normal((2, 40, 2))
    w1 = RNG.standard_normal((9, 2, 3))
    _close(fd.conv1d(da.from_zarr(_zarr(x1, (1, 7, 2))), w1, 2, "SAME", dilations=2).compute(),
           fftconv.conv1d(x1, w1, 2, "SAME", dilations=2))
    x3 = RNG.standard_normal((1, 14, 13, 12, 2))
    w3 = RNG.standard_normal((5, 3, 4, 1, 4))
    _close(fd.conv3d(da.from_zarr(_zarr(x3, (1, 5, 6, 4, 2))), w3, 1, "SAME", groups=2, flip=True).compute(),
           fftconv.conv3d(x3, w3, 1, "SAME", groups=2, flip=True))
    xi = RNG.integers(-5, 5, (1, 11, 9, 1)).astype(np.int16)
    wi = RNG.integers(-3, 3, (4, 4, 1, 1))
    got = fd.conv2d(da.from_zarr(_zarr(xi, (1, 3, 4, 1))), wi, 1, "SAME").compute()
    np.testing.assert_array_equal(got, fftconv.conv2d(xi, wi, 1, "SAME"))


def test_storage_reads_with_cheap_steps_stream_and_in_memory_arrays_do_not():
    plain = RNG.standard_normal((20, 18)).astype(np.float32)
    z = _zarr(plain, (7, 6))
    w = RNG.standard_normal((5, 5, 1, 1)).astype(np.float32)
    lazy = fd.conv2d(da.from_zarr(z)[None, ..., None].astype(np.float64), w, 1, "SAME")
    assert _streamed(lazy) is not None
    _close(lazy.compute(), fftconv.conv2d(plain[None, ..., None].astype(np.float64), w, 1, "SAME"))
    in_memory = fd.conv2d(da.from_array(plain[None, ..., None], chunks=(1, 7, 6, 1)), w, 1, "SAME")
    assert _streamed(in_memory) is None
    rechunked = fd.conv2d(da.from_zarr(z).rechunk((10, 9))[None, ..., None], w, 1, "SAME")
    assert _streamed(rechunked) is not None  # a few tasks per chunk: still read again inside the task
    _close(rechunked.compute(), fftconv.conv2d(plain[None, ..., None], w, 1, "SAME"), 1e-5)


# -- the tables ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(40))
def test_every_neighbour_piece_lies_in_that_chunks_shell(seed):
    rng = np.random.default_rng(seed)
    chunks = tuple(int(c) for c in rng.integers(1, 9, rng.integers(1, 7)))
    n = sum(chunks)
    k, d, s = int(rng.integers(1, 8)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    eff = (k - 1) * d + 1
    mode = ["constant", "reflect", "symmetric", "wrap", "edge"][seed % 5]
    lo, hi = (int(v) for v in rng.integers(0, eff, 2))
    if mode != "constant":
        lo, hi = min(lo, n - 1), min(hi, n - 1)
    out = (n + lo + hi - eff) // s + 1
    if out <= 0:
        return
    ax = oc.plan_axis(chunks, out, s, eff, (lo, hi), mode)
    assert sum(ax.out_chunks) == out
    for length, home, pieces in ax.windows:
        for k_, dst, src, side, in_slab in pieces:
            data = np.arange(ax.bounds[k_], ax.bounds[k_ + 1])
            expected = data[src]
            if side == oc.LOW:
                got = data[:ax.low[k_]][in_slab]
            elif side == oc.HIGH:
                got = data[len(data) - ax.high[k_]:][in_slab]
            else:
                assert k_ == home
                got = data[in_slab]
            np.testing.assert_array_equal(got, expected)
    assert all(t <= c for t, c in zip(ax.low, chunks)) and all(t <= c for t, c in zip(ax.high, chunks))


# -- memory -----------------------------------------------------------------------------------------

def _traced_peak(run, repeats=1, warm=True):
    """The smallest traced peak of ``repeats`` runs (after a warm one: plans, spectra and imports
    made once). The smallest: the scheduler's timing moves a run's peak up now and then."""
    if warm:
        run()
    peaks = []
    tracemalloc.start()
    try:
        for _ in range(repeats):
            tracemalloc.reset_peak()
            run()
            peaks.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    return min(peaks)


VOLUMES = [(1, 96, 96, 96, 1), (1, 192, 192, 96, 1)]  # 1x and 4x: 8 and 32 blocks
CHUNK = 48


def _grows_by_bookkeeping_only(peaks, volumes, fixed=0, itemsize=4):
    """The traced peak grows with the array by dask's and zarr's per-task bookkeeping (a few KiB a
    task, about what a trivial ``map_blocks(...).to_zarr`` grows by), never by its data: by at most
    a tenth of what the array grows by (the chunk-exchange graph grew by about 44% of it), plus
    ``fixed``, a bounded cache that a small array does not fill (the shells cache).

    Measured with one worker: with two, whether two tasks' transforms overlap is a matter of timing,
    and moves the peak by up to one task's working set from run to run."""
    sizes = [math_prod(v) * itemsize for v in volumes]
    assert max(peaks) - min(peaks) <= fixed + 0.1 * (max(sizes) - min(sizes)), [p / 2**20 for p in peaks]


def test_lazy_to_zarr_peak_does_not_grow_with_the_array(tmp_path, monkeypatch):
    monkeypatch.setattr(oc.shells, "SHELL_CACHE_BYTES", 2**18)  # a small shells cache: the bound is what it says
    w = RNG.standard_normal((9, 9, 9, 1, 1)).astype(np.float32)
    peaks = []
    for i, shape in enumerate(VOLUMES):
        x = RNG.standard_normal(shape, dtype=np.float32)
        src = _zarr(x, (1, CHUNK, CHUNK, CHUNK, 1), tmp_path / f"in{i}.zarr")
        job = _streamed(fd.conv3d(da.from_zarr(src), w, padding="SAME"))
        for workers in (1, 2) if i == len(VOLUMES) - 1 else (1,):
            def run(src=src, i=i, workers=workers):
                y = fd.conv3d(da.from_zarr(src), w, padding="SAME")
                with dask.config.set(scheduler="threads", num_workers=workers):
                    y.to_zarr(str(tmp_path / f"out{i}.zarr"), overwrite=True)
            peak = _traced_peak(run, repeats=2 if workers == 1 else 1, warm=workers == 1)
            assert peak <= oc.predicted_peak(job, workers, oc.shells.SHELL_CACHE_BYTES)["peak"] - oc.BASE_BYTES
            if workers == 1:
                peaks.append(peak)
    _close(zarr.open_array(str(tmp_path / f"out{i}.zarr"))[...], fftconv.conv3d(x, w, padding="SAME"), 1e-5)
    _grows_by_bookkeeping_only(peaks, VOLUMES, fixed=oc.shells.SHELL_CACHE_BYTES)


def test_convolve_zarr_peak_does_not_grow_and_stays_under_the_bound(tmp_path):
    w = RNG.standard_normal((9, 9, 9)).astype(np.float32)
    peaks = []
    for i, shape in enumerate(VOLUMES):
        x = RNG.standard_normal(shape[1:-1], dtype=np.float32)
        src = _zarr(x, (CHUNK,) * 3, tmp_path / f"in{i}.zarr")
        for workers in (1, 2) if i == len(VOLUMES) - 1 else (1,):
            report = {}

            def run(src=src, i=i, workers=workers):
                report.update(fd.convolve_zarr(src, w, tmp_path / f"out{i}.zarr", padding="SAME",
                                               workers=workers, overwrite=True))
            peak = _traced_peak(run, repeats=2 if workers == 1 else 1, warm=workers == 1)
            assert report["computed"] == report["blocks"] == math_prod(s // CHUNK for s in x.shape)
            # each input chunk is read about twice: once as a home, once for its neighbours' halos
            assert report["shell_reads"] <= report["blocks"] + 2
            assert peak <= report["predicted_peak"] - oc.BASE_BYTES
            if workers == 1:
                peaks.append(peak)
    _grows_by_bookkeeping_only(peaks, VOLUMES)


def math_prod(values):
    out = 1
    for v in values:
        out *= v
    return out


def test_shells_cache_keeps_its_budget_and_misses_only_read_again():
    x = RNG.standard_normal((1, 24, 24, 24, 1)).astype(np.float32)
    w = RNG.standard_normal((5, 5, 5, 1, 1)).astype(np.float32)
    z = _zarr(x, (1, 6, 6, 6, 1))
    expected = fftconv.conv3d(x, w, padding="SAME")
    for budget in (0, 2**12, 2**30):
        lazy = fd.conv3d(da.from_zarr(z), w, padding="SAME")
        job = _streamed(lazy)
        job.shells.budget = budget
        _close(lazy.compute(scheduler="threads"), expected, 1e-5)
        assert job.shells.kept_bytes() <= budget
        if budget == 2**30:  # nothing evicted: every slab dropped after its last reader
            assert job.shells.kept_bytes() == 0 and job.shells.reads <= 64


# -- chunks_for -----------------------------------------------------------------------------------------

def test_chunks_for_fits_the_budget_and_grows_with_it():
    sizes = []
    for memory in ("1GiB", "2GiB", "6GiB"):
        chunks, peak = fd.chunks_for((1024, 1024, 1024), (15, 15, 15), memory, workers=2, padding="SAME")
        assert peak <= oc.parse_bytes(memory) and len(chunks) == 3 and len(set(chunks)) == 1
        sizes.append(chunks[0])
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    chunks, _ = fd.chunks_for((1, 3000, 3000, 4), (41, 41, 4, 8), "2GiB", workers=2, strides=2,
                              padding="SAME", storage_chunks=(1, 250, 250, 4))
    assert chunks[0] == 1 and chunks[-1] == 4 and chunks[1] % 250 == 0 and chunks[1] % 2 == 0


def test_chunks_for_errors():
    with pytest.raises(ValueError, match=r"`memory`=100 MiB is too small .* 2 worker\(s\)"):
        fd.chunks_for((512, 512, 512), (15, 15, 15), "100MiB", workers=2)
    with pytest.raises(ValueError, match="`memory` must be a positive number of bytes"):
        fd.chunks_for((512, 512), (3, 3), "-4GiB")
    with pytest.raises(ValueError, match="`filters_shape` must be"):
        fd.chunks_for((512, 512, 3), (3, 3), "4GiB", data_format="NHWC")
    with pytest.raises(ValueError, match="`storage_chunks` must be 2 positive ints"):
        fd.chunks_for((512, 512), (3, 3), "4GiB", storage_chunks=(64,))


# -- convolve_zarr: checks, resume, verification ------------------------------------------------------------

def _volume(tmp_path, shape=(40, 36, 32), chunks=(8, 12, 16)):
    x = RNG.standard_normal(shape).astype(np.float32)
    return x, _zarr(x, chunks, tmp_path / "in.zarr")


def test_convolve_zarr_matches_in_memory_for_each_layout(tmp_path):
    x, src = _volume(tmp_path)
    w = RNG.standard_normal((5, 3, 7)).astype(np.float32)
    for strides, mode in ((1, "constant"), (2, "reflect")):
        report = fd.convolve_zarr(src, w, tmp_path / f"o{strides}.zarr", strides, "SAME", padding_mode=mode,
                                  chunks=(8, 12, 16), workers=3)
        expected = fftconv.conv3d(x[None, ..., None], w[..., None, None], strides, "SAME",
                                  padding_mode=mode)[0, ..., 0]
        out = zarr.open_array(str(tmp_path / f"o{strides}.zarr"))
        assert out.shape == expected.shape and report["shape"] == expected.shape
        _close(out[...], expected, 1e-5)
    xc = RNG.standard_normal((2, 20, 18, 3)).astype(np.float32)
    srcc = _zarr(xc, (1, 7, 9, 3), tmp_path / "nhwc.zarr")
    wc = RNG.standard_normal((5, 5, 3, 4)).astype(np.float32)
    fd.convolve_zarr(srcc, wc, tmp_path / "onhwc.zarr", 1, "VALID")
    _close(zarr.open_array(str(tmp_path / "onhwc.zarr"))[...], fftconv.conv2d(xc, wc, 1, "VALID"), 1e-5)


def test_convolve_zarr_checks_before_any_work(tmp_path):
    _, src = _volume(tmp_path)
    w = np.ones((3, 3, 3), np.float32)
    out = tmp_path / "o.zarr"
    with pytest.raises(ValueError, match="`filters` must be 3-D, 4-D or 5-D"):
        fd.convolve_zarr(src, np.ones((3, 3)), out)
    with pytest.raises(ValueError, match="`strides`"):
        fd.convolve_zarr(src, w, out, strides=0)
    with pytest.raises(ValueError, match="`chunks` must be divisible by the stride"):
        fd.convolve_zarr(src, w, out, strides=2, chunks=(5, 12, 16))
    with pytest.raises(ValueError, match="`chunks` must be 3 positive ints"):
        fd.convolve_zarr(src, w, out, chunks=(8, 8))
    with pytest.raises(ValueError, match=r"`chunks`=\(40, 36, 32\) need about .* more than `memory`"):
        fd.convolve_zarr(src, w, out, chunks=(40, 36, 32), memory="256MiB")  # the process alone takes that
    with pytest.raises(TypeError, match="`source` must be a zarr array"):
        fd.convolve_zarr(3.0, w, out)
    with pytest.raises(ValueError, match="`source` must be a zarr array; could not open"):
        fd.convolve_zarr(tmp_path / "nothing.zarr", w, out)
    assert not out.exists()
    (tmp_path / "taken.zarr").mkdir()
    with pytest.raises(ValueError, match="exists and is not a run of convolve_zarr"):
        fd.convolve_zarr(src, w, tmp_path / "taken.zarr")
    fd.convolve_zarr(src, w, out, padding="SAME")
    with pytest.raises(ValueError, match=r"holds a run with other arguments \(they differ in filters\)"):
        fd.convolve_zarr(src, 2 * w, out, padding="SAME")
    assert fd.convolve_zarr(src, 2 * w, out, padding="SAME", overwrite=True)["computed"] == 30


_KILLED_RUN = """
import sys, time
import numpy as np
import fftconv._outofcore.zarr_run as oc
slow = oc._run_block
def run_block(*args):
    time.sleep(0.05)
    return slow(*args)
oc._run_block = run_block
w = np.load(sys.argv[3])
oc.convolve_zarr(sys.argv[1], w, sys.argv[2], padding="SAME", workers=2)
"""


def test_killed_run_resumes_to_the_uninterrupted_output(tmp_path):
    x, src = _volume(tmp_path, (32, 32, 40), (8, 8, 8))
    w = RNG.standard_normal((5, 5, 5)).astype(np.float32)
    np.save(tmp_path / "w.npy", w)
    whole = fd.convolve_zarr(src, w, tmp_path / "whole.zarr", padding="SAME", workers=2)
    out = tmp_path / "killed.zarr"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, str(tmp_path / "in.zarr"), str(out),
                             str(tmp_path / "w.npy")], env=env)
    done = out / ".fftconv" / "done"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(done.glob("*.json"))) < 20:
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    recorded = len(list(done.glob("*.json")))
    assert 20 <= recorded < whole["blocks"]
    resumed = fd.convolve_zarr(src, w, out, padding="SAME", workers=2)
    assert resumed["kept"] == recorded and resumed["computed"] == whole["blocks"] - recorded
    assert resumed["recomputed"] == 0
    np.testing.assert_array_equal(zarr.open_array(str(out))[...], zarr.open_array(str(tmp_path / "whole.zarr"))[...])
    again = fd.convolve_zarr(src, w, out, padding="SAME")
    assert again["computed"] == 0 and again["kept"] == whole["blocks"]


def test_a_run_that_fails_after_k_blocks_resumes_computing_only_the_others(tmp_path, monkeypatch):
    _, src = _volume(tmp_path)  # 30 blocks
    w = RNG.standard_normal((5, 3, 5)).astype(np.float32)
    whole = fd.convolve_zarr(src, w, tmp_path / "whole.zarr", padding="SAME", workers=2)
    real, calls, computed = oc.zarr_run._run_block, itertools.count(), []

    def fails_after_11(job, dst, records, ib, iout, plain):
        if next(calls) >= 11:
            raise RuntimeError("pre-empted")
        return real(job, dst, records, ib, iout, plain)

    def counted(job, dst, records, ib, iout, plain):
        computed.append((ib, iout))
        return real(job, dst, records, ib, iout, plain)

    out = tmp_path / "o.zarr"
    monkeypatch.setattr(oc.zarr_run, "_run_block", fails_after_11)
    with pytest.raises(RuntimeError, match="pre-empted"):
        fd.convolve_zarr(src, w, out, padding="SAME", workers=2)
    done = {p.name for p in (out / ".fftconv" / "done").glob("*.json")}
    assert len(done) == 11
    monkeypatch.setattr(oc.zarr_run, "_run_block", counted)
    resumed = fd.convolve_zarr(src, w, out, padding="SAME", workers=2)
    assert (resumed["kept"], resumed["computed"], resumed["recomputed"]) == (11, 19, 0)
    assert len(computed) == 19 and not {f"{ib}.{'.'.join(map(str, iout))}.json" for ib, iout in computed} & done
    np.testing.assert_array_equal(zarr.open_array(str(out))[...], zarr.open_array(str(tmp_path / "whole.zarr"))[...])
    assert whole["computed"] == 30


def test_a_torn_chunk_is_detected_and_computed_again(tmp_path):
    _, src = _volume(tmp_path)
    w = RNG.standard_normal((3, 3, 3)).astype(np.float32)
    out = tmp_path / "o.zarr"
    fd.convolve_zarr(src, w, out, padding="SAME")
    good = zarr.open_array(str(out))[...]
    chunk_files = sorted(p for p in (out / "c").rglob("*") if p.is_file())
    victim = chunk_files[len(chunk_files) // 2]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])  # half written
    trusted = fd.convolve_zarr(src, w, out, padding="SAME", verify=False)
    assert trusted["computed"] == 0
    checked = fd.convolve_zarr(src, w, out, padding="SAME")
    assert checked["computed"] == checked["recomputed"] == 1
    np.testing.assert_array_equal(zarr.open_array(str(out))[...], good)
    z = zarr.open_array(str(out), mode="r+")
    z[0, 0, 0] += 1  # changed after it was written: its checksum no longer matches
    assert fd.convolve_zarr(src, w, out, padding="SAME")["recomputed"] == 1
    np.testing.assert_array_equal(zarr.open_array(str(out))[...], good)


def test_convolve_zarr_on_a_distributed_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    x, src = _volume(tmp_path)
    w = RNG.standard_normal((3, 5, 3)).astype(np.float32)
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1,
                            dashboard_address=None) as client:
        report = fd.convolve_zarr(str(tmp_path / "in.zarr"), w, tmp_path / "o.zarr", padding="SAME",
                                  client=client)
        lazy = fd.conv3d(da.from_zarr(str(tmp_path / "in.zarr"))[None, ..., None], w[..., None, None],
                         padding="SAME")
        got_lazy = client.compute(lazy).result()
    expected = fftconv.conv3d(x[None, ..., None], w[..., None, None], padding="SAME")
    assert report["computed"] == report["blocks"]
    _close(zarr.open_array(str(tmp_path / "o.zarr"))[...], expected[0, ..., 0], 1e-5)
    _close(got_lazy, expected, 1e-5)


# -- the command line ---------------------------------------------------------------------------------------

def test_cli_convolve_runs_resumes_and_reports_errors(tmp_path, capsys):
    x, _ = _volume(tmp_path)
    w = np.full((5, 5, 5), 1 / 125, np.float32)
    np.save(tmp_path / "w.npy", w)
    args = ["convolve", str(tmp_path / "in.zarr"), "--filters", str(tmp_path / "w.npy"), "--output",
            str(tmp_path / "o.zarr"), "--padding", "SAME", "--memory", "2GiB", "--workers", "2"]
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    assert "30 computed, 0 kept" in captured.out and "predicted peak" in captured.out
    assert "convolve 30 blocks" in captured.err  # the progress bar
    _close(zarr.open_array(str(tmp_path / "o.zarr"))[...],
           fftconv.conv3d(x[None, ..., None], w[..., None, None], padding="SAME")[0, ..., 0], 1e-5)
    assert cli.main(args + ["--quiet"]) == 0
    assert "0 computed, 30 kept" in capsys.readouterr().out
    for extra, message in [
        (["--padding", "VALID"], "`--output` .* holds a run with other arguments .* or --overwrite"),
        (["--memory", "1MiB"], "`--memory`=1 MiB is too small"),
        (["--chunks", "8x8"], "`--chunks` must be 3 positive ints"),
        (["--workers", "0"], "`--workers` must be"),
    ]:
        assert cli.main(args + extra) == 2
        err = capsys.readouterr().err
        assert err.startswith("fftconv convolve: error: ")
        assert __import__("re").search(message, err), err
    np.save(tmp_path / "bad.npy", np.ones((3, 3)))
    assert cli.main(["convolve", str(tmp_path / "in.zarr"), "--filters", str(tmp_path / "bad.npy"),
                     "--output", str(tmp_path / "p.zarr")]) == 2
    assert "`--filters` must be 3-D, 4-D or 5-D" in capsys.readouterr().err
    assert cli.main(["convolve", str(tmp_path / "in.zarr"), "--filters", str(tmp_path / "none.npy"),
                     "--output", str(tmp_path / "p.zarr")]) == 2
    assert "`--filters` must be a .npy file" in capsys.readouterr().err
    assert cli.main(["convolve", str(tmp_path / "none.zarr"), "--filters", str(tmp_path / "w.npy"),
                     "--output", str(tmp_path / "p.zarr")]) == 2
    assert "`INPUT` must be a zarr array" in capsys.readouterr().err


def test_parse_bytes():
    assert oc.parse_bytes("4GiB") == 4 * 2**30 and oc.parse_bytes("512 mib") == 2**29
    assert oc.parse_bytes("2e9") == 2 * 10**9 and oc.parse_bytes(np.int64(7)) == 7
    for bad in ("", "GiB", "4 GiBs", 0, -3, True, "1.2.3GB"):
        with pytest.raises(ValueError, match="`memory` must be a positive number of bytes"):
            oc.parse_bytes(bad)


def test_blocks_of_the_job_cover_the_output_once():
    x = RNG.standard_normal((2, 13, 11, 2))
    z = _zarr(x, (1, 4, 5, 2))
    job = _streamed(fd.conv2d(da.from_zarr(z), np.ones((3, 3, 2, 1)), 2, "SAME"))
    cover = np.zeros((2, 7, 6, 1), int)
    for b in job.blocks():
        cover[job.block_region(*b)] += 1
    assert (cover == 1).all()
    assert len(list(itertools.islice(job.blocks(), 100))) == 2 * 4 * 3
