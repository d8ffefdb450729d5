#!/usr/bin/env python3
"""The cost of ``auto``'s dynamic-range guard on ordinary inputs.

Run::

    python benchmarks/bench_guard.py          # 15 repeats
    python benchmarks/bench_guard.py --quick

For each workload (float32, standard normal data: an ordinary input, on which
the guard must not fire), one bound plan is timed two ways, side by side:

- ``guarded``: as ``method="auto"`` runs it, with the dynamic-range guard
  (:class:`fftconv._engine.guards.RangeGuard`: one pass over the input for block
  sums of ``x**2``, which also stands in for the NaN/overflow scan);
- ``unguarded``: the same plan marked as ``method="fft"``, which skips the
  guard and runs the plain minimum/maximum scan instead.

The guard's cost is ``guarded / unguarded - 1``. Target (issue 14): at most 5%.
Results: ``benchmarks/results/guard.json``.
"""

from __future__ import annotations

import dataclasses
import functools

import _timing  # first: pins the thread count before numpy loads
import fftconv

from _peers import Workload

TARGET = 0.05
WORKLOADS = [
    Workload("filterbank-31x31", 4, 256, 3, 16, 31),
    Workload("manychannel-21x21", 1, 128, 32, 32, 21),
    Workload("deblur-101x101", 1, 512, 1, 1, 101, padding="SAME"),
    Workload("bigimage-63x63", 1, 1024, 1, 4, 63),
    Workload("depthwise-31x31", 2, 128, 32, 32, 31, groups=32, padding="SAME"),
    Workload("stride2-31x31", 2, 384, 4, 32, 31, stride=2, padding="SAME"),
]
COLUMNS = [("workload", "workload", ""), ("guarded", "guarded ms", "ms"), ("unguarded", "unguarded ms", "ms"),
           ("cost", "cost", ""), ("risk", "risk", ""), ("ok", "<=5%", "")]


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=15, quick_reps=5)
    return _timing.parse_args(parser, argv)


def measure(wl: Workload, args):
    x, w = wl.inputs()
    plan = fftconv.plan_conv2d(x.shape, w.shape, dtype=x.dtype, **wl.conv_kwargs(args.threads))
    assert plan.method == "fft", f"{wl.name}: auto picked {plan.method}"
    guarded = plan.bind(w)
    unguarded = dataclasses.replace(plan, requested="fft").bind(w)
    guard = guarded._range_guard("fft")
    risk = guard.risk(guard.squares(x), guarded._spread)
    timings = _timing.time_interleaved([_timing.Candidate("guarded", functools.partial(guarded, x)),
                                        _timing.Candidate("unguarded", functools.partial(unguarded, x))],
                                       args.reps, args.max_seconds, desc=wl.name)
    t = {name: timing.median for name, timing in timings.items()}
    cost = t["guarded"] / t["unguarded"] - 1
    row = {"workload": wl.name, **t, "cost": f"{cost:+.1%}", "risk": f"{risk:.2f}",
           "ok": "ok" if cost <= TARGET else "MISS"}
    return row, {"workload": wl.as_dict(), "cost": cost, "risk": risk,
                 "timings": {name: timing.as_dict() for name, timing in timings.items()}}


def main(argv=None):
    args = parse_args(argv)
    workloads = [wl.shrunk() for wl in WORKLOADS] if args.quick else WORKLOADS
    rows, records = zip(*(measure(wl, args) for wl in workloads))
    _timing.print_table(rows, COLUMNS, f"auto's dynamic-range guard on ordinary inputs, median ms "
                                       f"({args.reps} repeats, {args.threads} threads)")
    path = _timing.write_json("guard", {"reps": args.reps, "target": TARGET, "results": list(records)},
                              args.out, args.threads)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
