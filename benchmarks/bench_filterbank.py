#!/usr/bin/env python3
"""Issue 4's target: a fixed filter bank on a stream of inputs against one-shot conv2d.

Run::

    python benchmarks/bench_filterbank.py            # 4x256x256x3 * 31x31x3x16, 7 repeats
    python benchmarks/bench_filterbank.py --quick    # 3 repeats (same shapes)
    python benchmarks/bench_filterbank.py --padding SAME --frames 4

A stream of ``--frames`` distinct 4x256x256x3 inputs goes through

- ``conv2d``: ``fftconv.conv2d(frame, filters)`` every time (``method="auto"``),
- ``filterbank``: one ``fftconv.FilterBank(filters)``, called once beforehand
  so that it has planned and kept the filters' spectrum,

with 31x31x3x16 filters, one frame per call, the two timed side by side
(interleaved, median of ``--reps`` after a warm-up, float32, ``--threads``
threads). Target (SPEC): conv2d / filterbank >= 1.5 per call where the FFT
method is chosen (the plan's method is printed). Results:
``benchmarks/results/filterbank.json``.
"""

from __future__ import annotations

import dataclasses
import itertools

import _timing  # first: pins the thread count before numpy loads
import fftconv
import numpy as np

from _peers import Workload

WORKLOAD = Workload("filterbank-31x31", 4, 256, 3, 16, 31)
TARGET = 1.5


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=7, quick_reps=3)
    parser.add_argument("--padding", choices=("VALID", "SAME"), default="VALID",
                        help="padding of the convolution (default VALID, as in peers.py)")
    parser.add_argument("--frames", type=int, default=3, help="distinct inputs in the stream (default 3)")
    return _timing.parse_args(parser, argv)


def stream(frames):
    """A callable returning the next frame of an endless cycle over ``frames``."""
    return itertools.cycle(frames).__next__


def main(argv=None):
    args = parse_args(argv)
    wl = dataclasses.replace(WORKLOAD, padding=args.padding)
    x, w = wl.inputs()
    rng = np.random.default_rng(1)
    frames = [x] + [rng.standard_normal(x.shape, dtype=np.float32) for _ in range(args.frames - 1)]
    kwargs = wl.conv_kwargs(args.threads)
    bank = fftconv.FilterBank(w, **kwargs)
    bank(frames[0])  # plans and keeps the spectrum: the stream's steady state is what is timed
    one_shot_next, bank_next = stream(frames), stream(frames)
    candidates = [_timing.Candidate("conv2d", lambda: fftconv.conv2d(one_shot_next(), w, **kwargs)),
                  _timing.Candidate("filterbank", lambda: bank(bank_next()))]
    timings = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc="filterbank",
                                       keep_outputs=True)
    errors = _timing.check_outputs(timings, "conv2d")
    plan = fftconv.plan_conv2d(x.shape, w.shape, dtype=x.dtype, **kwargs)
    t_conv, t_bank = timings["conv2d"].median, timings["filterbank"].median
    speedup = _timing.ratio(t_conv, t_bank)
    print(f"\nFilter bank: {wl.describe()}, stream of {args.frames} frames, plan {plan.method!r}, "
          f"median of {args.reps}")
    print(f"  one-shot conv2d: {t_conv * 1e3:.1f} ms/call   FilterBank: {t_bank * 1e3:.1f} ms/call   "
          f"speed-up {speedup:.2f}x (target >= {TARGET}"
          + (f": {'ok' if speedup >= TARGET else 'MISS'})" if plan.method == "fft"
             else "; applies where the FFT method is chosen)"))
    path = _timing.write_json("filterbank", {
        "reps": args.reps, "workload": wl.as_dict(), "frames": args.frames, "plan": repr(plan),
        "speedup": speedup, "target": TARGET, "relative_errors": errors,
        "timings": {n: t.as_dict() for n, t in timings.items()}}, args.out, args.threads)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
