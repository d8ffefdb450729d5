#!/usr/bin/env python3
"""The first call of a new shape in a fresh process, against the same call warm.

Run::

    python benchmarks/bench_first_call.py                 # 3 fresh processes per workload
    python benchmarks/bench_first_call.py --processes 5 --workloads deblur,manychannel

For each workload of ``../shared/bench/peers.py`` (float32, VALID, 2 threads),
a new Python process imports fftconv and numpy, makes the input and filters,
and times:

- ``first``: the first ``fftconv.conv2d(x, w, method="auto")`` of the process:
  planning, the filters' transform, FFT plans and scratch memory all paid here;
- ``warm``: the median of 7 later calls with new filters of the same shape
  (``fftconv.clear_spectrum_cache()`` before each, so that a warm call still
  transforms its filters, as a first call must) and of 7 with the same filters.

The ratio ``first / warm`` is the figure of issue 15's target (at most 2.5,
against the warm call with new filters). Import time is reported apart: it
is paid once per process, not per shape. Each workload runs in
``--processes`` fresh processes, one after another; the table shows medians.
No calibration file is read (``FFTCONV_CALIBRATION=none``), so the figures
are those of a user's first session. Results: ``benchmarks/results/first_call.json``.
"""

from __future__ import annotations

import _timing  # first: pins the thread count before numpy loads
import json
import os
import statistics
import subprocess
import sys

from _peers import peer_workloads, select

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np, fftconv
t_import = time.perf_counter() - t0
n, h, c_in, c_out, k, groups = map(int, sys.argv[1:7])
rng = np.random.default_rng(0)
x = rng.standard_normal((n, h, h, c_in), dtype=np.float32)
w = rng.standard_normal((k, k, c_in // groups, c_out), dtype=np.float32)
t0 = time.perf_counter(); y = fftconv.conv2d(x, w); first = time.perf_counter() - t0
method = fftconv.plan_conv2d(x.shape, w.shape).method
new, same = [], []
for i in range(7):
    w2 = rng.standard_normal(w.shape, dtype=np.float32)
    fftconv.clear_spectrum_cache()
    t0 = time.perf_counter(); fftconv.conv2d(x, w2); new.append(time.perf_counter() - t0)
    t0 = time.perf_counter(); fftconv.conv2d(x, w2); same.append(time.perf_counter() - t0)
med = lambda v: sorted(v)[len(v) // 2]
print(json.dumps(dict(import_s=t_import, first=first, warm_new=med(new), warm_same=med(same),
                      method=method)))
"""


def _one(workload, threads: int) -> dict:
    env = {**os.environ, "FFTCONV_CALIBRATION": "none"}
    args = [str(v) for v in (workload.batch, workload.size, workload.c_in, workload.c_out,
                             workload.kernel, workload.groups)]
    out = subprocess.run([sys.executable, "-c", CHILD, *args], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = _timing.common_parser(__doc__)
    parser.add_argument("--processes", type=int, default=3, help="fresh processes per workload")
    parser.add_argument("--workloads", default="", help="comma-separated name filters")
    args = _timing.parse_args(parser)
    rows = []
    for workload in select(peer_workloads(), args.workloads):
        runs = [_one(workload, args.threads) for _ in range(args.processes)]
        med = {key: statistics.median(r[key] for r in runs)
               for key in ("import_s", "first", "warm_new", "warm_same")}
        rows.append(dict(workload=workload.name, method=runs[0]["method"], **med,
                         first_over_warm=med["first"] / med["warm_new"],
                         first_over_warm_same=med["first"] / med["warm_same"]))
    _timing.print_table(rows, [("workload", "workload", ""), ("method", "auto runs", ""),
                               ("import_s", "import ms", "ms"), ("first", "first ms", "ms"),
                               ("warm_new", "warm, new filters ms", "ms"),
                               ("warm_same", "warm, same filters ms", "ms"),
                               ("first_over_warm", "first / warm new", ""),
                               ("first_over_warm_same", "first / warm same", "")],
                        f"first call in a fresh process, medians of {args.processes} processes")
    path = _timing.write_json("first_call", {"processes": args.processes, "results": rows},
                              args.out, args.threads)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
