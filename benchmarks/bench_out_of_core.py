#!/usr/bin/env python3
"""Out of core: a float32 volume in zarr convolved into another zarr array; peak RSS and throughput.

Run::

    python benchmarks/bench_out_of_core.py                              # 1024^3 (4 GiB), chunks 256^3
    python benchmarks/bench_out_of_core.py --size 2048 --no-in-memory   # the issue's 32 GiB target
    python benchmarks/bench_out_of_core.py --quick                      # 256^3, a smoke run

Workload (issue 30): a ``--size``-cubed float32 volume of random numbers in a
zarr array (zarr's default codec) with chunks ``--chunks`` cubed, a
``--kernel``-cubed float32 kernel, SAME zero padding, written to a new zarr
array with the same chunks. ``--workdir`` holds the arrays (the input is kept
between runs, and made again when its size or chunks differ).

Each candidate runs in a fresh Python process, which reports its wall time and
its peak resident memory (``ru_maxrss``: everything the process held, Python
and the imports included). With ``--reps N`` the first three candidates run in
N interleaved rounds; the table shows each one's median time and its largest
peak:

- ``convolve_zarr``: :func:`fftconv.dask.convolve_zarr` with ``--memory`` and
  ``--workers`` (the resumable run behind ``fftconv convolve``);
- ``resumed``: the same run killed (SIGKILL) once a random fraction of its
  blocks is recorded, then started again; the resumed process's own figures,
  and how many blocks it computed beyond those lost. Its output is compared
  with ``convolve_zarr``'s, chunk by chunk, for equality;
- ``lazy to_zarr``: ``fftconv.dask.conv3d(da.from_zarr(src)).to_zarr(dst)`` on
  dask's threaded scheduler with ``--workers`` threads;
- ``in-memory``: the whole volume read into memory, :func:`fftconv.conv3d`
  (``workers=--workers``), and the output written to zarr; the table shows the
  whole run, and the compute alone as ``in-memory compute``. Skipped with
  ``--no-in-memory`` (it needs about three times the volume in memory).

Exactness: ``--crops`` random crops of ``convolve_zarr``'s output (edges
included) against a float64 reference (:func:`fftconv.conv3d` of the crop's
zero-padded float64 input region with ``padding="VALID"``), relative L2 error.

Peer: with dask-image installed (``pip install 'fftconv[bench]'``),
``dask_image.ndfilters.correlate`` (``mode="constant"``: SAME zero padding) and
``fftconv.dask.conv3d``, both lazy over ``da.from_zarr`` and written with
``to_zarr`` on the same chunks and scheduler, on a smaller volume
(``--peer-size`` cubed, chunks ``--peer-chunks`` cubed): dask-image's direct
correlation costs ``kernel**3`` multiply-adds per voxel, minutes per 256^3
chunk for a 15^3 kernel.

Results: ``benchmarks/results/out_of_core.json``.
"""

from __future__ import annotations

import _timing  # first: pins the thread count before numpy loads

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GiB = 2**30
COLUMNS = [("candidate", "candidate", ""), ("volume", "volume", ""), ("chunks", "chunks", ""),
           ("seconds", "seconds", ""), ("mib_s", "MiB/s", ""), ("peak_gib", "peak RSS GiB", ""),
           ("predicted_gib", "predicted GiB", ""), ("note", "note", "")]


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=1, quick_reps=1, max_seconds=3600.0)  # --reps: interleaved rounds
    parser.add_argument("--size", type=int, default=1024, help="volume side (default 1024: 4 GiB)")
    parser.add_argument("--chunks", type=int, default=256, help="zarr chunk side (default 256)")
    parser.add_argument("--kernel", type=int, default=15, help="kernel side (default 15)")
    parser.add_argument("--memory", default="4GiB", help="convolve_zarr's budget (default 4GiB)")
    parser.add_argument("--workers", type=int, default=2, help="blocks at once (default 2)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fftconv-bench-out-of-core"))
    parser.add_argument("--crops", type=int, default=8, help="crops checked against float64 (default 8)")
    parser.add_argument("--crop", type=int, default=32, help="crop side (default 32)")
    parser.add_argument("--no-in-memory", action="store_true", help="skip the in-memory run")
    parser.add_argument("--no-lazy", action="store_true", help="skip the lazy to_zarr run")
    parser.add_argument("--no-resume", action="store_true", help="skip the killed and resumed run")
    parser.add_argument("--peer-size", type=int, default=256, help="dask-image comparison volume side")
    parser.add_argument("--peer-chunks", type=int, default=128, help="dask-image comparison chunk side")
    parser.add_argument("--no-peer", action="store_true", help="skip the dask-image comparison")
    parser.add_argument("--seed", type=int, default=30)
    parser.add_argument("--child", default=None, help=argparse_hidden())
    parser.add_argument("--spec", default=None, help=argparse_hidden())
    args = _timing.parse_args(parser, argv)
    if args.quick:
        args.size, args.chunks, args.peer_size, args.peer_chunks = 256, 64, 96, 48
    return args


def argparse_hidden():
    import argparse
    return argparse.SUPPRESS


# -- the input ---------------------------------------------------------------------

def make_input(path: Path, size: int, chunks: int, seed: int):
    """A size^3 float32 zarr array of standard normal numbers, written one chunk at a time."""
    import zarr

    try:
        z = zarr.open_array(str(path), mode="r")
        if z.shape == (size,) * 3 and z.chunks == (chunks,) * 3 and z.attrs.get("complete"):
            return z
    except Exception:  # noqa: BLE001 - absent or another array: make it again
        pass
    shutil.rmtree(path, ignore_errors=True)
    z = zarr.create_array(str(path), shape=(size,) * 3, chunks=(chunks,) * 3, dtype="float32")
    t0 = time.perf_counter()
    n = -(-size // chunks)
    for i in range(n):
        for j in range(n):
            for k in range(n):
                rng = np.random.default_rng([seed, i, j, k])
                region = tuple(slice(c * chunks, min((c + 1) * chunks, size)) for c in (i, j, k))
                z[region] = rng.standard_normal([s.stop - s.start for s in region], dtype=np.float32)
    z.attrs["complete"] = True
    print(f"made {path} ({size}^3 float32, {size**3 * 4 / GiB:.2f} GiB) in {time.perf_counter() - t0:.0f} s",
          flush=True)
    return z


def kernel(side: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((side,) * 3).astype(np.float32) / side**1.5


# -- children: one candidate per process -----------------------------------------------

def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def child(kind: str, spec: dict) -> dict:
    import zarr

    import fftconv
    import fftconv.dask

    w = np.load(spec["kernel"])
    src_path, out = spec["src"], spec["out"]
    workers = spec["workers"]
    shutil.rmtree(out, ignore_errors=True) if spec.get("fresh", True) else None
    result = {}
    t0 = time.perf_counter()
    if kind == "convolve_zarr":
        report = fftconv.dask.convolve_zarr(src_path, w, out, padding="SAME", memory=spec["memory"],
                                            workers=workers)
        result.update({k: report[k] for k in ("blocks", "computed", "kept", "recomputed", "predicted_peak",
                                              "shell_reads")})
    elif kind in ("lazy", "peer-fftconv", "peer-dask-image"):
        import dask
        import dask.array as da

        x = da.from_zarr(src_path)
        if kind == "peer-dask-image":
            from dask_image import ndfilters
            y = ndfilters.correlate(x, w, mode="constant", cval=0.0)
        else:
            y = fftconv.dask.conv3d(x[None, ..., None], w[..., None, None], padding="SAME")[0, ..., 0]
        with dask.config.set(scheduler="threads", num_workers=workers):
            y.to_zarr(out, overwrite=True)
    elif kind == "in-memory":
        src = zarr.open_array(src_path)
        x = src[...]
        t1 = time.perf_counter()
        y = fftconv.conv3d(x[None, ..., None], w[..., None, None], padding="SAME", workers=workers)[0, ..., 0]
        result["compute_seconds"] = time.perf_counter() - t1
        del x
        dst = zarr.create_array(out, shape=y.shape, chunks=src.chunks, dtype=y.dtype)
        dst[...] = y
    else:
        raise ValueError(f"unknown child {kind!r}")
    result["seconds"] = time.perf_counter() - t0
    result["peak_rss"] = _peak_rss()
    return result


def run_child(args, kind: str, spec: dict) -> dict:
    cmd = [sys.executable, __file__, "--threads", str(args.threads), "--child", kind, "--spec", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def killed_then_resumed(args, spec: dict, blocks: int) -> dict:
    """Start convolve_zarr, kill it once a random fraction of blocks is recorded, resume it."""
    shutil.rmtree(spec["out"], ignore_errors=True)
    fraction = random.Random(args.seed).uniform(0.2, 0.8)
    target = max(1, int(fraction * blocks))
    cmd = [sys.executable, __file__, "--threads", str(args.threads), "--child", "convolve_zarr", "--spec",
           json.dumps({**spec, "fresh": True})]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = Path(spec["out"]) / ".fftconv" / "done"
    while proc.poll() is None and len(list(done.glob("*.json"))) < target:
        time.sleep(0.05)
    if proc.poll() is not None:
        raise RuntimeError("the run ended before it was killed")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    recorded = len(list(done.glob("*.json")))
    resumed = run_child(args, "convolve_zarr", {**spec, "fresh": False})
    resumed.update(killed_at=recorded, beyond_lost=resumed["computed"] - (blocks - recorded))
    return resumed


# -- checks ----------------------------------------------------------------------------

def same_arrays(a_path, b_path) -> bool:
    """Whether two zarr arrays hold the same values, compared chunk by chunk."""
    import itertools

    import zarr

    a, b = zarr.open_array(str(a_path)), zarr.open_array(str(b_path))
    if a.shape != b.shape:
        return False
    ranges = [range(0, n, c) for n, c in zip(a.shape, a.chunks)]
    for corner in itertools.product(*ranges):
        region = tuple(slice(s, s + c) for s, c in zip(corner, a.chunks))
        if not np.array_equal(a[region], b[region]):
            return False
    return True


def crop_errors(src_path, out_path, w, crops: int, side: int, seed: int) -> list[float]:
    """Relative L2 errors of random output crops against a float64 reference."""
    import zarr

    import fftconv

    src, out = zarr.open_array(str(src_path)), zarr.open_array(str(out_path))
    n, k = src.shape[0], w.shape[0]
    before = (k - 1) // 2  # SAME: the smaller pad first
    rng = np.random.default_rng(seed)
    errors = []
    for c in range(crops):
        corner = [0 if c == 0 else n - side if c == 1 else int(rng.integers(0, n - side + 1)) for _ in range(3)]
        region = np.zeros((side + k - 1,) * 3)
        lo = [a - before for a in corner]
        src_sl = tuple(slice(max(a, 0), min(a + side + k - 1, n)) for a in lo)
        dst_sl = tuple(slice(s.start - a, s.stop - a) for s, a in zip(src_sl, lo))
        region[dst_sl] = src[src_sl]
        ref = fftconv.conv3d(region[None, ..., None], w.astype(np.float64)[..., None, None], padding="VALID")[0, ..., 0]
        got = out[tuple(slice(a, a + side) for a in corner)]
        errors.append(float(np.linalg.norm(got - ref) / np.linalg.norm(ref)))
    return errors


# -- the run ----------------------------------------------------------------------------

def row(name, volume, chunks, res, note=""):
    """A table row; MiB/s counts the output this process computed (a resumed run: its blocks only)."""
    mib = volume**3 * 4 / 2**20 * (res["computed"] / res["blocks"] if res.get("blocks") else 1)
    return {"candidate": name, "volume": f"{volume}^3", "chunks": f"{chunks}^3", "seconds": res["seconds"],
            "mib_s": mib / res["seconds"], "peak_gib": res["peak_rss"] / GiB,
            "predicted_gib": res.get("predicted_peak", float("nan")) / GiB, "note": note, **res}


def median_run(runs: list[dict]) -> dict:
    """The run of median time (the slower middle one for an even count), with the largest peak of all."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    return dict(ordered[len(ordered) // 2], peak_rss=max(r["peak_rss"] for r in runs), repeats=len(runs))


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, json.loads(args.spec))))
        return 0
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    np.save(work / "kernel.npy", kernel(args.kernel, args.seed))
    w = np.load(work / "kernel.npy")
    src = work / f"in-{args.size}-{args.chunks}.zarr"
    make_input(src, args.size, args.chunks, args.seed)
    spec = {"src": str(src), "kernel": str(work / "kernel.npy"), "memory": args.memory, "workers": args.workers}
    rows = []
    kinds = [("convolve_zarr", f"budget {args.memory}")]
    kinds += [] if args.no_lazy else [("lazy", f"{args.workers} threads")]
    kinds += [] if args.no_in_memory else [("in-memory", "read + conv3d + write")]
    runs = {kind: [] for kind, _ in kinds}
    for rep in range(args.reps):  # interleaved: each round runs every candidate once
        for kind, _ in kinds:
            runs[kind].append(run_child(args, kind, {**spec, "out": str(work / f"out-{kind}.zarr")}))
            print(kind, rep, runs[kind][-1], flush=True)
    results = {kind: median_run(r) for kind, r in runs.items()}
    first = results["convolve_zarr"]
    for kind, note in kinds:
        name = {"lazy": "lazy to_zarr"}.get(kind, kind)
        rows.append(row(name, args.size, args.chunks, results[kind], note))
        if kind == "in-memory":
            compute = dict(results[kind], seconds=float(np.median([r["compute_seconds"] for r in runs[kind]])))
            rows.append(row("in-memory compute", args.size, args.chunks, compute, "conv3d alone"))
    errors = crop_errors(src, work / "out-convolve_zarr.zarr", w, args.crops, args.crop, args.seed)
    print(f"crops vs float64: max relative L2 error {max(errors):.2e}", flush=True)
    resume = None
    if not args.no_resume:
        resume = killed_then_resumed(args, {**spec, "out": str(work / "out-resumed.zarr")}, first["blocks"])
        resume["identical"] = same_arrays(work / "out-convolve_zarr.zarr", work / "out-resumed.zarr")
        rows.append(row("resumed", args.size, args.chunks, resume,
                        f"killed at {resume['killed_at']}/{first['blocks']} blocks; resumed run computed "
                        f"{resume['beyond_lost']} beyond those lost; identical: {resume['identical']}"))
        print(rows[-1], flush=True)
    peer = None
    if not args.no_peer:
        try:
            import dask_image  # noqa: F401
        except ImportError:
            print("dask-image is not installed: no peer comparison (pip install 'fftconv[bench]')")
        else:
            psrc = work / f"in-{args.peer_size}-{args.peer_chunks}.zarr"
            make_input(psrc, args.peer_size, args.peer_chunks, args.seed)
            pspec = {**spec, "src": str(psrc)}
            ours = run_child(args, "peer-fftconv", {**pspec, "out": str(work / "peer-fftconv.zarr")})
            theirs = run_child(args, "peer-dask-image", {**pspec, "out": str(work / "peer-dask-image.zarr")})
            import zarr
            a = zarr.open_array(str(work / "peer-fftconv.zarr"))[...]
            b = zarr.open_array(str(work / "peer-dask-image.zarr"))[...].astype(np.float64)
            peer = {"ratio": theirs["seconds"] / ours["seconds"],
                    "rel_error": float(np.linalg.norm(a - b) / np.linalg.norm(b))}
            rows.append(row("peer: fftconv.dask lazy", args.peer_size, args.peer_chunks, ours))
            rows.append(row("peer: dask-image", args.peer_size, args.peer_chunks, theirs,
                            f"{peer['ratio']:.1f}x fftconv's time; rel. diff {peer['rel_error']:.1e}"))
    _timing.print_table(rows, COLUMNS, title=f"out of core: {args.size}^3 float32, {args.kernel}^3 kernel, SAME, "
                        f"{args.workers} workers; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"crops vs float64: max relative L2 error {max(errors):.2e} over {len(errors)} crops of {args.crop}^3")
    path = _timing.write_json("out_of_core", {"rows": rows, "crop_errors": errors, "resume": resume,
                                              "peer": peer, "args": {k: str(v) for k, v in vars(args).items()}},
                              args.out, args.threads)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
