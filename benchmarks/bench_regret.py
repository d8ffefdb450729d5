#!/usr/bin/env python3
"""Planner regret: how much slower ``auto`` is than the faster of ``direct`` and ``fft``.

Run::

    python benchmarks/bench_regret.py                # 48 shapes, 5 repeats
    python benchmarks/bench_regret.py --quick        # the first 16 of them, 3 repeats
    python benchmarks/bench_regret.py --points 60 --seed 1

The grid is drawn deterministically (``--seed``): kernel sizes 3 to 21 in
turn, and for each a random batch (1 to 8), input and output channels (1 to
64), square image (32 to 256), stride (1, or 2 one time in four) and padding
(VALID or SAME), float32. Draws whose direct method needs more than
``--max-macs`` multiply-adds or whose input plus output hold more than
``--max-elements`` values are redrawn, to keep the run short; they are the
shapes where the FFT method wins by far.

At each point ``fftconv.conv2d(method=m)`` for m in auto, direct and fft is
timed side by side (interleaved, median of ``--reps`` after a warm-up). The
``auto`` call is a real ``conv2d`` call, so it includes the plan-cache
lookup. Regret = time(auto) / min(time(direct), time(fft)).

Targets (SPEC): geometric mean <= 1.10 and max <= 1.5. Noise alone pushes
the regret above 1 (the minimum of two noisy medians is biased low), so use
enough repeats on a quiet machine. Results: ``benchmarks/results/regret.json``.
"""

from __future__ import annotations

import math

import _timing  # first: pins the thread count before numpy loads
import _peers
import fftconv
import numpy as np

from _peers import Workload

KERNELS = (3, 5, 7, 9, 11, 13, 15, 17, 19, 21)
BATCHES = (1, 2, 4, 8)
CHANNELS = (1, 3, 4, 8, 16, 32, 64)
SIZES = (32, 48, 64, 96, 128, 192, 256)
TARGET_GMEAN, TARGET_MAX = 1.10, 1.5
COLUMNS = [("i", "#", ""), ("shape", "input * filters", ""), ("method", "plan", ""),
           ("auto", "auto ms", "ms"), ("direct", "direct", "ms"), ("fft", "fft", "ms"),
           ("faster", "faster", ""), ("regret", "regret", "")]


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=5, quick_reps=3, max_seconds=30.0)
    parser.add_argument("--points", type=int, default=None,
                        help="number of shapes (default 48, 16 with --quick)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the grid (default 0)")
    parser.add_argument("--max-macs", type=float, default=2e9,
                        help="redraw shapes whose direct method needs more multiply-adds (default 2e9)")
    parser.add_argument("--max-elements", type=float, default=1.6e7,
                        help="redraw shapes whose input + output hold more values (default 1.6e7)")
    args = _timing.parse_args(parser, argv)
    args.points = args.points or (16 if args.quick else 48)
    return args


def direct_macs(wl: Workload) -> int:
    out = -(-wl.size // wl.stride) if wl.padding == "SAME" else (wl.size - wl.kernel) // wl.stride + 1
    return wl.batch * out * out * wl.c_out * wl.kernel ** 2 * wl.group_in


def elements(wl: Workload) -> int:
    return wl.batch * wl.size ** 2 * (wl.c_in + wl.c_out)


def draw(rng, kernel: int, index: int) -> Workload:
    size = int(rng.choice([s for s in SIZES if s >= kernel]))
    stride = 2 if rng.random() < 0.25 else 1
    padding = "SAME" if rng.random() < 0.5 else "VALID"
    return Workload(f"p{index:02d}", int(rng.choice(BATCHES)), size, int(rng.choice(CHANNELS)),
                    int(rng.choice(CHANNELS)), kernel, stride=stride, padding=padding)


def grid(points: int, seed: int, max_macs: float, max_elements: float) -> list:
    """``points`` workloads, kernel sizes in turn, each redrawn until it fits the limits."""
    rng = np.random.default_rng(seed)
    workloads = []
    for i in range(points):
        while True:
            wl = draw(rng, KERNELS[i % len(KERNELS)], i)
            if direct_macs(wl) <= max_macs and elements(wl) <= max_elements:
                workloads.append(wl)
                break
    return workloads


def measure(wl: Workload, args) -> tuple[dict, dict]:
    """Time auto, direct and fft on one shape; return its table row and JSON record."""
    x, w = wl.inputs()
    plan = fftconv.plan_conv2d(x.shape, w.shape, dtype=x.dtype, **wl.conv_kwargs(args.threads))
    candidates = _peers.fftconv_candidates(fftconv, wl, x, w, args.threads)
    timings = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc=wl.name)
    t = {name: timing.median for name, timing in timings.items()}
    faster = "direct" if t["direct"] < t["fft"] else "fft"
    regret = _timing.ratio(t["auto"], _timing.fastest(t["direct"], t["fft"]))
    row = {"i": wl.name, "shape": wl.describe(), "method": plan.method, **t,
           "faster": faster if plan.method == faster else f"{faster} !", "regret": regret}
    record = {"workload": wl.as_dict(), "method": plan.method, "estimates": plan.estimates,
              "measured_faster": faster, "regret": regret,
              "timings": {name: timing.as_dict() for name, timing in timings.items()}}
    return row, record


def summary(regrets) -> dict:
    values = [r for r in regrets if r == r]
    gmean, worst = _timing.geometric_mean(values), max(values, default=math.nan)
    return {"points": len(values), "gmean": gmean, "max": worst,
            "above_1.5": sum(r > TARGET_MAX for r in values),
            "gmean_ok": gmean <= TARGET_GMEAN, "max_ok": worst <= TARGET_MAX}


def main(argv=None):
    args = parse_args(argv)
    rows, records = [], []
    for wl in grid(args.points, args.seed, args.max_macs, args.max_elements):
        row, record = measure(wl, args)
        rows.append(row)
        records.append(record)
    _timing.print_table(rows, COLUMNS, f"Planner regret, median ms ({args.reps} repeats, "
                                       f"{args.threads} threads; '!': the plan chose the slower)")
    s = summary([r["regret"] for r in rows])
    wrong = sum(r["faster"].endswith("!") for r in rows)
    print(f"\nregret over {s['points']} shapes: geometric mean {s['gmean']:.3f} "
          f"(target <= {TARGET_GMEAN}: {'ok' if s['gmean_ok'] else 'MISS'}), "
          f"max {s['max']:.3f} (target <= {TARGET_MAX}: {'ok' if s['max_ok'] else 'MISS'}); "
          f"{s['above_1.5']} above {TARGET_MAX}; plan picked the slower method at {wrong}")
    path = _timing.write_json("regret", {"reps": args.reps, "quick": args.quick, "seed": args.seed,
                                         "summary": {**s, "wrong_choices": wrong},
                                         "results": records}, args.out, args.threads)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
