#!/usr/bin/env python3
"""fftconv.dask against dask-image on the same scheduler and chunks.

Run::

    python benchmarks/bench_dask.py                     # threaded scheduler, 3000^2, 41x41
    python benchmarks/bench_dask.py --distributed       # a LocalCluster of processes
    python benchmarks/bench_dask.py --size 1500 --kernel 21 --chunks 500 --reps 5

Workload (issue 7): one ``--size`` x ``--size`` float32 image, a ``--kernel``
square float32 filter, SAME padding, the image chunked ``--chunks`` square.

Candidates, each building its graph and computing it inside the timed call
(median of ``--reps`` after a warm-up, interleaved round-robin):

- ``fftconv``: :func:`fftconv.dask.conv2d` on the image viewed as NHWC
  ``(1, size, size, 1)``;
- ``dask-image``: :func:`dask_image.ndfilters.correlate` with
  ``mode="constant", cval=0``, which is SAME zero padding; for an odd
  kernel its default ``origin=0`` centres the kernel where SAME does.

Both run on dask's threaded scheduler with ``--threads`` threads, or with
``--distributed`` on a ``LocalCluster`` of ``--threads`` single-threaded worker
processes (the image is persisted on the workers before timing, as if it had
been loaded there, and each timed call gathers the result back to the
client). The outputs are compared (relative L2 error and max abs error);
the table shows the medians and ``dask-image / fftconv`` (target >= 10).
Results: ``benchmarks/results/dask.json``, which keeps the latest run of each
scheduler (``runs.threads`` and ``runs.distributed``).
"""

from __future__ import annotations

import _timing  # first: pins the thread count before numpy loads

import contextlib
import datetime
import json
import sys
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from dask_image import ndfilters

import fftconv.dask

TARGET = 10.0
COLUMNS = [("scheduler", "scheduler", ""), ("size", "image", ""), ("kernel", "kernel", ""),
           ("chunks", "chunks", ""), ("fftconv", "fftconv ms", "ms"),
           ("dask-image", "dask-image ms", "ms"), ("ratio", "dask-image/fftconv", ""),
           ("rel_error", "rel. L2 error", ""), ("verdict", "target >=10x", "")]


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=3, quick_reps=2, max_seconds=600.0)
    parser.add_argument("--size", type=int, default=3000, help="image side (default 3000)")
    parser.add_argument("--kernel", type=int, default=41, help="odd kernel side (default 41)")
    parser.add_argument("--chunks", type=int, default=1000, help="chunk side (default 1000)")
    parser.add_argument("--distributed", action="store_true",
                        help="run both on a dask.distributed LocalCluster of --threads processes")
    args = _timing.parse_args(parser, argv)
    if args.quick:
        args.size, args.chunks = min(args.size, 1000), min(args.chunks, 500)
    if args.kernel % 2 == 0:
        parser.error(f"--kernel must be odd (SAME and ndimage centre even kernels differently); "
                     f"got {args.kernel}")
    return args


@contextlib.contextmanager
def scheduler(args):
    """The threaded scheduler with ``--threads`` threads, or a LocalCluster client."""
    if not args.distributed:
        with dask.config.set(scheduler="threads", num_workers=args.threads):
            yield f"threads x{args.threads}", None
        return
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=args.threads, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield f"LocalCluster {args.threads}x1", client


def candidates(image, weights, chunks, client):
    """Both candidates on the same chunked image (held by the workers on a cluster)."""
    x2 = da.from_array(image, chunks=chunks)
    if client is not None:  # as if loaded on the workers: do not time shipping the input
        x2 = client.persist(x2)
        distributed_wait(x2)
    x4 = x2[None, :, :, None]
    w4 = weights[:, :, None, None]
    return [
        _timing.Candidate("fftconv", lambda: fftconv.dask.conv2d(x4, w4, padding="SAME")
                          .compute()[0, :, :, 0]),
        _timing.Candidate("dask-image", lambda: ndfilters.correlate(
            x2, weights, mode="constant", cval=0.0).compute()),
    ]


def merged_runs(args, run) -> dict:
    """This run under its scheduler's name, plus the other scheduler's last run from the JSON."""
    mode = "distributed" if args.distributed else "threads"
    path = Path(args.out) / "dask.json"
    try:
        runs = json.loads(path.read_text()).get("runs", {})
    except (OSError, ValueError, AttributeError):
        runs = {}
    runs = {k: v for k, v in runs.items() if k in ("threads", "distributed") and k != mode}
    return {mode: {"date": datetime.datetime.now().isoformat(timespec="seconds"), **run}, **runs}


def distributed_wait(x):
    from distributed import wait
    wait(x)


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    image = rng.standard_normal((args.size, args.size), dtype=np.float32)
    weights = rng.standard_normal((args.kernel, args.kernel), dtype=np.float32)
    with scheduler(args) as (where, client):
        timings = _timing.time_interleaved(candidates(image, weights, args.chunks, client),
                                           args.reps, args.max_seconds, desc="dask",
                                           keep_outputs=True)
    ours, theirs = timings["fftconv"].output, timings["dask-image"].output
    rel_error = _timing.relative_error(ours, theirs)
    max_abs = float(np.max(np.abs(ours.astype(np.float64) - theirs)))
    ratio = _timing.ratio(timings["dask-image"].median, timings["fftconv"].median)
    row = {"scheduler": where, "size": f"{args.size}^2", "kernel": f"{args.kernel}^2",
           "chunks": f"{args.chunks}^2", "fftconv": timings["fftconv"].median,
           "dask-image": timings["dask-image"].median, "ratio": ratio,
           "rel_error": f"{rel_error:.1e}", "verdict": "ok" if ratio >= TARGET else "MISS"}
    _timing.print_table([row], COLUMNS, f"Median ms ({args.reps} repeats), float32, SAME")
    if not rel_error <= 1e-5:
        print(f"WARNING: outputs differ: relative L2 error {rel_error:.2e}")
    run = {"scheduler": where, "workload": {"size": args.size, "kernel": args.kernel,
                                            "chunks": args.chunks, "dtype": "float32",
                                            "padding": "SAME"},
           "reps": args.reps, "timings": {name: t.as_dict() for name, t in timings.items()},
           "ratio_dask_image_over_fftconv": ratio, "target": TARGET,
           "relative_l2_error": rel_error, "max_abs_error": max_abs,
           "versions": {"dask": dask.__version__}, "argv": sys.argv}
    path = _timing.write_json("dask", {"runs": merged_runs(args, run)}, args.out, args.threads)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
