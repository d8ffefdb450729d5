#!/usr/bin/env python3
"""The FFT method against its bare transforms at the same sizes, on the same engine.

Run::

    python benchmarks/bench_floor.py                 # 5 repeats
    python benchmarks/bench_floor.py --quick         # smaller images, 3 repeats
    python benchmarks/bench_floor.py --workloads filterbank,stride

For each workload, ``plan_conv2d(..., method="fft")`` gives the tile layout
(``plan.layout``: FFT shape, tiles per image, polyphase count). Its floor is
the time of the bare transforms that the method cannot avoid, run by the
plan's FFT backend (the engine ``auto`` chose) with the plan's workers:

- forward: ``N * tiles * phases * C_in`` real transforms of the FFT shape;
- inverse: ``N * tiles * C_out`` complex-to-real transforms;
- filters: ``phases * C_in/groups * C_out`` forward transforms (paid by the
  first call with a set of filters; later calls, and a ``FilterBank``, find
  their spectrum kept).

Every transform writes into an output kept between calls, as the method's
own do.  Each kind is timed with the batch axis first (``(count, *L)``, transforms
over the last axes) and last (``(*L, count)``), full (unpruned), and the faster
counts: the floor is the cheapest plain way to do those transforms. Timed
side by side with

- ``fft``: a one-shot ``fftconv.conv2d(..., method="fft")`` in a loop with the
  same filters (their spectrum found kept), against forward + inverse;
- ``fft-cold``: the same with every kept spectrum dropped before each call,
  against forward + inverse + filters.

So the ratios count everything the method does besides the transforms:
gathering tiles, channel mixing, writing the output, the guards and the
call's overhead. Target (issue 15): both ratios <= 1.25. Workloads: those of
peers.py with kernels of 21 and up, the stride-2 case and a RepLKNet-style
31x31 depthwise layer. Results: ``benchmarks/results/floor.json``.
"""

from __future__ import annotations

import functools
import math

import _timing  # first: pins the thread count before numpy loads
import _peers
import fftconv
import numpy as np
import scipy.fft

from _peers import Workload

TARGET = 1.25
EXTRA_WORKLOADS = [
    Workload("stride2-31x31", 2, 384, 4, 32, 31, stride=2, padding="SAME"),
    Workload("replk-dw-31x31", 1, 56, 64, 64, 31, groups=64, padding="SAME"),
]
COLUMNS = [("workload", "workload", ""), ("backend", "engine", ""),
           ("layout", "fft shape x count (fwd/inv/filt)", ""),
           ("fft", "fft ms", "ms"), ("fft-cold", "cold", "ms"), ("forward", "fwd", "ms"),
           ("inverse", "inv", "ms"), ("filters", "filt", "ms"),
           ("fft/floor", "fft/floor", ""), ("cold/floor", "cold/floor", ""), ("ok", "<=1.25", "")]


def backend_of(plan):
    """The FFT backend the plan runs on (fftconv's backend interface)."""
    from fftconv.backends import get_backend
    return get_backend(plan.backend)


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=5, quick_reps=3)
    parser.add_argument("--workloads", default="",
                        help="comma-separated name filters (default: all)")
    return _timing.parse_args(parser, argv)


def workloads(quick: bool, patterns: str) -> list:
    large = [wl for wl in _peers.peer_workloads() if wl.kernel >= 21]
    chosen = _peers.select(large + EXTRA_WORKLOADS, patterns)
    return [wl.shrunk() for wl in chosen] if quick else chosen


def transform_counts(wl: Workload, layout) -> dict:
    """Number of transforms of each kind the FFT method needs for one call."""
    per_image = layout.n_tiles
    return {"forward": wl.batch * per_image * layout.phases * wl.c_in,
            "inverse": wl.batch * per_image * wl.c_out,
            "filters": layout.phases * wl.group_in * wl.c_out}


def transform_candidates(kind: str, count: int, shape, backend, workers: int) -> list:
    """Bare transforms of ``kind`` in both batch layouts, as timing candidates."""
    nd = len(shape)
    candidates = []
    for first in (True, False):
        full = (count, *shape) if first else (*shape, count)
        axes = tuple(range(1, nd + 1)) if first else tuple(range(nd))
        name = f"{kind}-{'first' if first else 'last'}"
        rng = np.random.default_rng(0)
        real = rng.standard_normal(full, dtype=np.float32)
        pristine = backend.rfftn(real, axes, workers)
        if kind != "inverse":  # into a kept output, as the method does: no page faults
            candidates.append(_timing.Candidate(name, functools.partial(
                backend.rfftn, real, axes, workers, out=np.empty_like(pristine))))
            continue
        work = np.empty_like(pristine)
        # irfftn may overwrite its input: restore it before every call, outside the timing
        candidates.append(_timing.Candidate(
            name, functools.partial(backend.irfftn, work, tuple(shape), axes, workers, out=real),
            setup=functools.partial(np.copyto, work, pristine)))
    return candidates


def measure(wl: Workload, args) -> tuple[dict, dict]:
    x, w = wl.inputs()
    kwargs = wl.conv_kwargs(args.threads)
    plan = fftconv.plan_conv2d(x.shape, w.shape, dtype=x.dtype, method="fft", **kwargs)
    layout, backend = plan.layout, backend_of(plan)
    counts = transform_counts(wl, layout)
    conv = functools.partial(fftconv.conv2d, x, w, method="fft", **kwargs)
    candidates = [_timing.Candidate("fft", conv),
                  _timing.Candidate("fft-cold", conv, setup=fftconv.clear_spectrum_cache)]
    for kind, count in counts.items():
        candidates += transform_candidates(kind, count, layout.fft_shape, backend, plan.workers)
    timings = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc=wl.name)
    t = {name: timing.median for name, timing in timings.items()}
    floors = {kind: _timing.fastest(t[f"{kind}-first"], t[f"{kind}-last"]) for kind in counts}
    fft_ratio = _timing.ratio(t["fft"], floors["forward"] + floors["inverse"])
    cold_ratio = _timing.ratio(t["fft-cold"], sum(floors.values()))
    layout_text = ("x".join(map(str, layout.fft_shape)) + " x "
                   + "/".join(str(counts[kind]) for kind in ("forward", "inverse", "filters")))
    row = {"workload": wl.name, "backend": plan.backend, "layout": layout_text,
           "fft": t["fft"], "fft-cold": t["fft-cold"], **floors, "fft/floor": fft_ratio,
           "cold/floor": cold_ratio, "ok": "ok" if max(fft_ratio, cold_ratio) <= TARGET else "MISS"}
    record = {"workload": wl.as_dict(), "plan": repr(plan), "backend": getattr(backend, "name", "?"),
              "fft_shape": layout.fft_shape, "n_tiles": layout.n_tiles, "phases": layout.phases,
              "counts": counts, "floors_s": floors, "fft_over_floor": fft_ratio,
              "cold_over_floor": cold_ratio, "elements_per_transform": math.prod(layout.fft_shape),
              "timings": {name: timing.as_dict() for name, timing in timings.items()}}
    return row, record


def main(argv=None):
    args = parse_args(argv)
    rows, records = [], []
    for wl in workloads(args.quick, args.workloads):
        row, record = measure(wl, args)
        rows.append(row)
        records.append(record)
        print(f"{wl.name:20s} {wl.describe():45s} fft/floor {row['fft/floor']:.2f}  "
              f"cold/floor {row['cold/floor']:.2f}", flush=True)
    _timing.print_table(rows, COLUMNS, f"FFT method against its bare transforms, median ms "
                                       f"({args.reps} repeats, {args.threads} threads)")
    path = _timing.write_json("floor", {"reps": args.reps, "quick": args.quick, "target": TARGET,
                                        "results": records}, args.out, args.threads)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
