#!/usr/bin/env python3
"""The small end: dense 3x3/5x5 layers, grouped and depthwise layers, short FIR filters.

Run (OpenBLAS at its full rate, see ../shared/SPEC.md)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_small.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_small.py --full
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_small.py --parts dense,fir

Four tables, float32 unless said (issue 19's targets):

``dense``
    3x3 and 5x5 layers (SAME, strides 1 and 2): torch against fftconv ``auto``
    and each registered method. Target: torch / auto >= 0.67 on every layer.
``heldout``
    The same for a few dense layers no cost-model constant was fitted on.
    ``--full`` runs the grid batch {1, 4, 16} x channels {16, 64, 256} x
    size {7, 14, 28, 56, 112} x stride {1, 2} x kernel {3, 5} (skipping layers
    above ``--max-macs``).
``grouped``
    5x5, 64 -> 64 channels on 4x56x56 and 3x3, 128 -> 128 on 8x28x28, with G
    groups: ``auto`` against the faster method (target <= 1.25x) and against
    the ungrouped layer (target: G groups <= 2 / sqrt(G) of its time).
``depthwise``
    4x56x56x128, SAME, kernels 3..15, strides 1 and 2: torch (``groups=C``)
    against ``auto``. Target: torch / auto >= 0.67.
``fir``
    One-channel signals of 2000 and 1e5 samples (``--full``: 1e6 too), 3 and
    15 taps, float64 and float32: ``conv1d`` against ``np.convolve(x, w,
    "valid")`` (timed in blocks of calls, interleaved). Targets: at most 10x
    at 2000 samples, faster from 1e5 up.

Every candidate is timed side by side with its peers (interleaved, shuffled
rounds, median; see ``_timing.py``), and the load average is printed before
and after: on a machine shared with other work, OpenBLAS's two-thread GEMMs
wait for each other; run with ``--threads 1`` to see the one-thread figures.
Results: ``benchmarks/results/small.json``.
"""

from __future__ import annotations

import _timing  # first: pins the thread count before numpy loads
import itertools
import math
import os
import random
import statistics
import time

import _peers
import numpy as np

import fftconv
from _peers import Workload

PARTS = ("dense", "heldout", "grouped", "depthwise", "fir")

DENSE = [  # (batch, size, C_in, C_out, kernel, stride)
    (1, 112, 64, 64, 3, 1), (8, 56, 64, 64, 3, 1), (16, 28, 128, 128, 3, 1), (4, 14, 256, 256, 3, 1),
    (16, 7, 256, 256, 3, 1), (8, 56, 64, 128, 3, 2), (1, 112, 16, 32, 3, 2),
    (4, 56, 32, 32, 5, 1), (8, 28, 64, 64, 5, 1), (1, 14, 128, 128, 5, 1), (4, 56, 32, 64, 5, 2),
]
#: Dense layers that no constant was fitted on (issue 27's held-out check): 3x3 at stride 1 where
#: the Winograd method runs, and a stride-2 and a 5x5 layer where it does not.
HELD_OUT = [  # (batch, size, C_in, C_out, kernel, stride)
    (2, 96, 48, 48, 3, 1), (12, 20, 160, 160, 3, 1), (3, 40, 96, 192, 3, 1), (6, 10, 224, 224, 3, 1),
    (1, 80, 24, 40, 3, 1), (4, 48, 96, 96, 3, 2), (2, 40, 64, 64, 5, 1),
]
GROUPED = [  # (batch, size, channels, kernel, groups...)
    (4, 56, 64, 5, (1, 2, 4, 16)), (8, 28, 128, 3, (1, 4, 32)),
]
DEPTHWISE = (4, 56, 128, (3, 5, 7, 9, 11, 13, 15))
FIR = ((2000, 100_000), (3, 15))


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=7, quick_reps=3, max_seconds=5.0)
    parser.add_argument("--full", action="store_true", help="the full dense grid, and 1e6-sample signals")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--max-macs", type=float, default=4e9, help="skip dense layers above this (default 4e9)")
    return _timing.parse_args(parser, argv)


def methods():
    return ["auto", *sorted(fftconv.METHODS)]


def time_layer(wl: Workload, args, torch, extra=()):
    """Median seconds of torch, fftconv auto and each method on one layer, and auto's plan."""
    x, w = wl.inputs()
    candidates = _peers.fftconv_candidates(fftconv, wl, x, w, args.threads, methods())
    candidates += list(extra)
    if torch is not None:
        candidates.append(_peers.torch_candidate(torch, wl, x, w))
    timings = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc=wl.name)
    plan = fftconv.plan_conv2d(x.shape, w.shape, dtype=x.dtype, **wl.conv_kwargs(args.threads))
    detail = plan.settings.get(plan.method)
    chosen = plan.method + (f"/{detail}" if isinstance(detail, str) else "")
    return {name: t.median for name, t in timings.items()}, chosen


def dense(args, torch, grid=None, title="Dense 3x3/5x5 layers"):
    if grid is not None:
        pass
    elif args.full:
        grid = [(n, s, c, c, k, st) for k in (3, 5) for st in (1, 2) for n in (1, 4, 16)
                for c in (16, 64, 256) for s in (7, 14, 28, 56, 112)]
    else:
        grid = DENSE[:4] + DENSE[7:9] if args.quick else DENSE
    rows = []
    for n, size, ci, co, k, stride in grid:
        if n * size * size * ci * co * k * k / stride ** 2 > args.max_macs:
            continue
        wl = Workload(f"{k}x{k}", n, size, ci, co, k, stride=stride, padding="SAME")
        t, chosen = time_layer(wl, args, torch)
        rows.append({"layer": wl.describe(), "plan": chosen, **t,
                     "torch/auto": _timing.ratio(t.get("torch", math.nan), t["auto"])})
    cols = [("layer", "layer", ""), ("plan", "plan", ""), ("torch", "torch", "ms"), ("auto", "auto", "ms")]
    cols += [(m, m, "ms") for m in methods()[1:]] + [("torch/auto", "torch/auto", "")]
    ratios = [r["torch/auto"] for r in rows]
    _timing.print_table(rows, cols, f"{title}, median ms (target torch/auto >= 0.67)")
    print(f"torch/auto: min {min(ratios, default=math.nan):.2f}, geomean {_timing.geometric_mean(ratios):.2f}, "
          f"below 0.67 at {sum(r < 1 / 1.5 for r in ratios)} of {len(ratios)}")
    return rows


def heldout(args, torch):
    """Dense layers outside the grid the constants were set on (see :data:`HELD_OUT`)."""
    return dense(args, torch, HELD_OUT, "Held-out dense layers")


def grouped(args, torch):
    rows = []
    for n, size, c, k, group_counts in GROUPED[:1] if args.quick else GROUPED:
        base = None
        for g in group_counts:
            wl = Workload(f"g{g}", n, size, c, c, k, groups=g, padding="SAME")
            t, chosen = time_layer(wl, args, torch)
            faster = min(t[m] for m in methods()[1:])
            base = t["auto"] if g == 1 else base
            rows.append({"layer": wl.describe(), "plan": chosen, **t,
                         "auto/faster": t["auto"] / faster,
                         "G/ungrouped": t["auto"] / base if g > 1 else math.nan,
                         "2/sqrt(G)": 2 / math.sqrt(g) if g > 1 else math.nan})
    cols = [("layer", "layer", ""), ("plan", "plan", ""), ("torch", "torch", "ms"), ("auto", "auto", "ms")]
    cols += [(m, m, "ms") for m in methods()[1:]]
    cols += [("auto/faster", "auto/faster", ""), ("G/ungrouped", "G/ungrouped", ""), ("2/sqrt(G)", "target", "")]
    _timing.print_table(rows, cols, "Grouped layers, median ms (targets auto/faster <= 1.25, "
                                    "G/ungrouped <= 2/sqrt(G))")
    return rows


def depthwise(args, torch):
    n, size, c, kernels = DEPTHWISE
    rows = []
    for k, stride in itertools.product(kernels[::2] if args.quick else kernels, (1, 2)):
        wl = Workload(f"dw{k}", n, size, c, c, k, stride=stride, groups=c, padding="SAME")
        t, chosen = time_layer(wl, args, torch)
        rows.append({"layer": wl.describe(), "plan": chosen, **t,
                     "torch/auto": _timing.ratio(t.get("torch", math.nan), t["auto"])})
    cols = [("layer", "layer", ""), ("plan", "plan", ""), ("torch", "torch", "ms"), ("auto", "auto", "ms")]
    cols += [(m, m, "ms") for m in methods()[1:]] + [("torch/auto", "torch/auto", "")]
    _timing.print_table(rows, cols, "Depthwise layers, median ms (target torch/auto >= 0.67)")
    return rows


def time_blocks(candidates: dict, reps: int, budget: float = 0.02) -> dict:
    """Median seconds per call of each candidate, each timed in blocks of calls lasting about
    ``budget`` seconds, the blocks of all candidates interleaved in shuffled rounds."""
    inner = {}
    for name, fn in candidates.items():
        fn()
        t0 = time.perf_counter()
        fn()
        inner[name] = max(1, int(budget / max(time.perf_counter() - t0, 1e-7)))
    times = {name: [] for name in candidates}
    order = random.Random(0)
    for _ in range(reps):
        for name in order.sample(list(candidates), len(candidates)):
            fn, count = candidates[name], inner[name]
            t0 = time.perf_counter()
            for _ in range(count):
                fn()
            times[name].append((time.perf_counter() - t0) / count)
    return {name: statistics.median(ts) for name, ts in times.items()}


def fir(args, torch):
    lengths, taps = FIR
    lengths = (*lengths, 1_000_000) if args.full else lengths
    rng = np.random.default_rng(0)
    rows = []
    for length, k, dtype in itertools.product(lengths, taps, (np.float64, np.float32)):
        x = rng.standard_normal(length).astype(dtype)
        w = rng.standard_normal(k).astype(dtype)
        x3, w3 = x.reshape(1, -1, 1), w[::-1].reshape(-1, 1, 1)  # conv1d correlates: reverse for np.convolve
        cands = {"np.convolve": lambda: np.convolve(x, w, "valid"),
                 "auto": lambda: fftconv.conv1d(x3, w3, workers=args.threads)}
        for m in methods()[1:]:
            cands[m] = lambda m=m: fftconv.conv1d(x3, w3, method=m, workers=args.threads)
        ref = np.convolve(x.astype(np.float64), w.astype(np.float64), "valid")
        err = _timing.relative_error(fftconv.conv1d(x3, w3)[0, :, 0], ref)
        t = time_blocks(cands, max(args.reps, 5))
        plan = fftconv.plan_conv1d(x3.shape, w3.shape, dtype=dtype)
        rows.append({"signal": f"{length} x {k} taps {np.dtype(dtype).name}", "plan": plan.method, **t,
                     "auto/np": t["auto"] / t["np.convolve"], "target": 10.0 if length < 1e5 else 1.0,
                     "error": f"{err:.1e}"})
    cols = [("signal", "signal", ""), ("plan", "plan", ""), ("np.convolve", "np.convolve", "ms"),
            ("auto", "auto", "ms")] + [(m, m, "ms") for m in methods()[1:]]
    cols += [("auto/np", "auto/np", ""), ("target", "target", ""), ("error", "rel. error", "")]
    _timing.print_table(rows, cols, "1-D FIR filters, median ms per call (target auto/np <= 10 at 2000 "
                                    "samples, <= 1 from 1e5)")
    return rows


def main(argv=None):
    args = parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"--parts: unknown {sorted(unknown)}; choose from {', '.join(PARTS)}")
    torch = _peers.torch_module(args.threads)
    load_before = os.getloadavg()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in load_before)}; threads {args.threads}; "
          f"fftconv {fftconv.__file__}")
    results = {part: globals()[part](args, torch) for part in parts}
    load_after = os.getloadavg()
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in load_after)}")
    path = _timing.write_json("small", {"reps": args.reps, "full": args.full, "load_before": load_before,
                                        "load_after": load_after, "results": results}, args.out, args.threads)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
