#!/usr/bin/env python3
"""The cost of ``auto``'s accuracy guard (issue 23: at most 5% of a call).

Run::

    python benchmarks/bench_guard.py              # 9 repeats
    python benchmarks/bench_guard.py --quick      # smaller images, 3 repeats

For each workload one bound plan running the FFT method is timed three ways,
side by side (interleaved rounds, medians):

- ``auto``: as ``method="auto"`` runs it, under every guard: the one pass of
  cell statistics (:func:`fftconv._engine.cells.cell_stats`: NaN, Inf, huge
  values, zeros and the dynamic-range statistics at once), the per-tile bound
  (:class:`fftconv._engine.guards.RangeGuard`) and whatever it decides;
- ``fft``: the same plan as ``method="fft"`` runs it (the same pass of cell
  statistics for the NaN, Inf and zero guards; no dynamic-range bound);
- ``unguarded``: the same bound plan's call with its guards bypassed (checks,
  layout and the returned copy as in a call; the method run as planned);
- ``bare``: the FFT method alone (:meth:`fftconv.methods.base.Method.execute`
  on the prepared spectrum), nothing else.

``cost`` is ``auto / unguarded - 1``: what the guards add to a call;
``vs bare`` is ``auto / bare - 1``, which also counts the call's own
checks and copies. The
ordinary workloads are float32 standard-normal data, on which the guard must
not fire; ``zero-border`` is the issue's trap (a 512x512 image in a 25-pixel
zero frame, 41x41 box), where outputs whose window barely reaches the data
are summed directly (``why`` says what the guard did), and the same with a
disc of diameter 41 (a filter with gaps: every window that meets the frame is
judged by its faintest sample or ``|y|``); ``full`` is scipy's
``mode="full"`` (pads of the kernel's size less one) on a positive image,
where the outputs along the rims read a few samples each and their band is
computed again. Results:
``benchmarks/results/guard.json``.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import _timing  # first: pins the thread count before numpy loads
import numpy as np

import fftconv
from fftconv.backends import get_backend
from fftconv.methods import METHODS

TARGET = 0.05


@dataclass
class Case:
    name: str
    x_shape: tuple
    w_shape: tuple
    options: dict = field(default_factory=dict)
    data: str = "normal"
    dtype: type = np.float32

    def shrunk(self) -> "Case":
        spatial = tuple(max(4 * k, n // 4) for n, k in zip(self.x_shape[1:-1], self.w_shape[:-2]))
        return dataclasses.replace(self, x_shape=(self.x_shape[0], *spatial, self.x_shape[-1]))

    def inputs(self):
        rng = np.random.default_rng(0)
        x = rng.standard_normal(self.x_shape).astype(self.dtype)
        if self.data in ("zero-border", "zero-border-disc"):
            inner = (slice(None), *(slice(25, n - 25) for n in self.x_shape[1:-1]), slice(None))
            x = np.zeros_like(x)
            x[inner] = rng.random(x[inner].shape)
            w = np.full(self.w_shape, 1 / np.prod(self.w_shape[:-2]), self.dtype)
            if self.data == "zero-border-disc":  # a disc's weights: gaps inside the box of its taps
                g = np.indices(self.w_shape[:-2]) - (np.array(self.w_shape[:-2])[:, None, None] - 1) / 2
                disc = (np.hypot(*g) <= (self.w_shape[0] - 1) / 2).astype(self.dtype)
                w = np.broadcast_to((disc / disc.sum())[..., None, None], self.w_shape).copy()
        elif self.data == "positive":  # an image blurred by a box, scipy's "full" mode
            x = rng.random(self.x_shape).astype(self.dtype)
            w = np.full(self.w_shape, 1 / np.prod(self.w_shape[:-2]), self.dtype)
        else:
            w = rng.standard_normal(self.w_shape).astype(self.dtype)
        return x, w


CASES = [
    Case("bigimage-4096-15x15", (1, 4096, 4096, 1), (15, 15, 1, 1), dict(padding="SAME")),
    Case("depthwise-21x21", (2, 96, 96, 32), (21, 21, 1, 32), dict(padding="SAME", groups=32)),
    Case("filterbank-31x31", (4, 256, 256, 3), (31, 31, 3, 16)),
    Case("signal-1d-501", (1, 1_000_000, 1), (501, 1, 1), dict(padding="SAME")),
    Case("small-64-9x9", (1, 64, 64, 3), (9, 9, 3, 8), dict(padding="SAME")),
    Case("full-512-31x31", (1, 512, 512, 1), (31, 31, 1, 1), dict(padding=[(30, 30), (30, 30)]), data="positive"),
    Case("zero-border-512-41x41", (1, 512, 512, 1), (41, 41, 1, 1), dict(padding="SAME"), data="zero-border"),
    Case("zero-border-disc-512-41", (1, 512, 512, 1), (41, 41, 1, 1), dict(padding="SAME"), data="zero-border-disc"),
]
PLANNERS = {1: fftconv.plan_conv1d, 2: fftconv.plan_conv2d, 3: fftconv.plan_conv3d}
COLUMNS = [("workload", "workload", ""), ("auto", "auto ms", "ms"), ("fft", "fft ms", "ms"),
           ("unguarded", "unguarded ms", "ms"), ("bare", "bare ms", "ms"), ("cost", "cost", ""),
           ("vs bare", "vs bare", ""), ("ok", "<=5%", ""), ("why", "auto ran", "")]


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=9, quick_reps=3)
    return _timing.parse_args(parser, argv)


def measure(case: Case, args):
    x, w = case.inputs()
    plan = PLANNERS[len(case.x_shape) - 2](x.shape, w.shape, dtype=x.dtype, method="fft", workers=args.threads,
                                           **case.options)
    auto = dataclasses.replace(plan, requested="auto").bind(w)
    fft = plan.bind(w)
    unguarded = plan.bind(w)
    object.__setattr__(unguarded, "_guarded", lambda a: unguarded._run(a, "fft", plan.real_dtype))
    method = METHODS["fft"]
    prepared = fft.prepared("fft", plan.real_dtype)
    backend = get_backend(plan.backend)

    def bare():
        return method.execute(x, prepared, plan.run_geometry, plan.settings["fft"], backend, plan.workers,
                              plan.real_dtype)

    timings = _timing.time_interleaved([_timing.Candidate("auto", functools.partial(auto, x)),
                                        _timing.Candidate("fft", functools.partial(fft, x)),
                                        _timing.Candidate("unguarded", functools.partial(unguarded, x)),
                                        _timing.Candidate("bare", bare)],
                                       args.reps, args.max_seconds, desc=case.name)
    t = {name: timing.median for name, timing in timings.items()}
    cost = t["auto"] / t["unguarded"] - 1
    run = auto.last_run
    why = f"{run['method']} {run['dtype']}: {run['why']}"
    row = {"workload": case.name, **t, "cost": f"{cost:+.1%}", "vs bare": f"{t['auto'] / t['bare'] - 1:+.1%}", "ok": "ok" if cost <= TARGET else "MISS",
           "why": why}
    return row, {"workload": {"name": case.name, "input": case.x_shape, "filters": case.w_shape,
                              "options": case.options, "data": case.data},
                 "cost": cost, "last_run": {k: str(v) for k, v in run.items()},
                 "timings": {name: timing.as_dict() for name, timing in timings.items()}}


def main(argv=None):
    args = parse_args(argv)
    cases = [c.shrunk() for c in CASES] if args.quick else CASES
    rows, records = zip(*(measure(c, args) for c in cases))
    _timing.print_table(rows, COLUMNS, f"auto's guards against the FFT method alone, median ms "
                                       f"({args.reps} repeats, {args.threads} threads)")
    path = _timing.write_json("guard", {"reps": args.reps, "target": TARGET, "results": list(records)},
                              args.out, args.threads)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
