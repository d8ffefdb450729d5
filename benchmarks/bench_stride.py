#!/usr/bin/env python3
"""Issue 3's targets: strided FFT convolution, and large depthwise kernels against torch.

Run::

    python benchmarks/bench_stride.py               # 7 repeats
    python benchmarks/bench_stride.py --quick       # 3 repeats (same shapes)

1. **Stride.** A 2x384x384x4 input with 31x31x4x32 filters under SAME:
   ``fftconv.conv2d(..., method="fft")`` at stride 2 and at stride 1, side by
   side. Target: time(stride 2) / time(stride 1) <= 0.6 (stride 2 has a
   quarter of the outputs; the polyphase FFT should cost about that much).
2. **Depthwise.** A 31x31 depthwise kernel on 1x56x56x64 (SAME, as in
   RepLKNet): ``fftconv.depthwise_conv2d`` (auto, direct, fft) against
   ``torch.nn.functional.conv2d`` with ``groups=C`` and the scipy broadcasts.
   Target (SPEC, large kernels): torch / auto >= 4.

Candidates are timed interleaved, median of ``--reps`` after a warm-up,
float32, ``--threads`` threads. Results: ``benchmarks/results/stride.json``.
"""

from __future__ import annotations

import dataclasses
import functools

import _timing  # first: pins the thread count before numpy loads
import _peers
import fftconv

from _peers import Workload

STRIDE_WORKLOAD = Workload("stride", 2, 384, 4, 32, 31, padding="SAME")
DEPTHWISE_WORKLOAD = Workload("depthwise-31x31", 1, 56, 64, 64, 31, groups=64, padding="SAME")
STRIDE_TARGET, DEPTHWISE_TARGET = 0.6, 4.0


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=7, quick_reps=3, max_seconds=10.0)
    return _timing.parse_args(parser, argv)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def stride_ratio(args) -> dict:
    """fft time at stride 2 over stride 1 on :data:`STRIDE_WORKLOAD`."""
    x, w = STRIDE_WORKLOAD.inputs()
    candidates, plans = [], {}
    for stride in (1, 2):
        kwargs = dataclasses.replace(STRIDE_WORKLOAD, stride=stride).conv_kwargs(args.threads)
        fn = functools.partial(fftconv.conv2d, x, w, method="fft", **kwargs)
        candidates.append(_timing.Candidate(f"fft-s{stride}", fn))
        plans[f"stride{stride}"] = repr(fftconv.plan_conv2d(x.shape, w.shape, method="fft", **kwargs))
    timings = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc="stride")
    t1, t2 = timings["fft-s1"].median, timings["fft-s2"].median
    r = _timing.ratio(t2, t1)
    print(f"\nStride: {STRIDE_WORKLOAD.describe()}, method='fft', median of {args.reps}")
    print(f"  stride 1: {t1 * 1e3:.1f} ms   stride 2: {t2 * 1e3:.1f} ms   "
          f"ratio s2/s1 = {r:.3f} (target <= {STRIDE_TARGET}: {verdict(r <= STRIDE_TARGET)})")
    return {"workload": STRIDE_WORKLOAD.as_dict(), "ratio": r, "target": STRIDE_TARGET,
            "plans": plans, "timings": {n: t.as_dict() for n, t in timings.items()}}


def depthwise_candidates(wl: Workload, x, w, threads: int, torch) -> list:
    """``fftconv.depthwise_conv2d`` with each method, then the peers (torch ``groups=C``, scipy)."""
    depthwise_filter = w.reshape(wl.kernel, wl.kernel, wl.c_in, wl.c_out // wl.c_in)
    candidates = []
    for method in ("auto", "direct", "fft"):
        fn = functools.partial(fftconv.depthwise_conv2d, x, depthwise_filter, padding=wl.padding,
                               method=method, workers=threads)
        candidates.append(_timing.Candidate(method, fn))
    return candidates + _peers.peer_candidates(wl, x, w, threads, torch)


def depthwise_speedup(args, torch) -> dict:
    """torch (``groups=C``) and scipy against ``fftconv.depthwise_conv2d`` on :data:`DEPTHWISE_WORKLOAD`."""
    wl = DEPTHWISE_WORKLOAD
    x, w = wl.inputs()
    timings = _timing.time_interleaved(depthwise_candidates(wl, x, w, args.threads, torch),
                                       args.reps, args.max_seconds, desc="depthwise", keep_outputs=True)
    errors = _timing.check_outputs(timings, "auto")
    medians = {n: t.median for n, t in timings.items()}
    ratios = {f"{n}/auto": _timing.ratio(m, medians["auto"]) for n, m in medians.items() if n != "auto"}
    plan = fftconv.plan_depthwise_conv2d(x.shape, (wl.kernel, wl.kernel, wl.c_in, 1), padding=wl.padding,
                                         workers=args.threads)
    rows = [{"candidate": n, "ms": m, "ratio": ratios.get(f"{n}/auto", 1.0)} for n, m in medians.items()]
    _timing.print_table(rows, [("candidate", "candidate", ""), ("ms", "median ms", "ms"),
                               ("ratio", "x / auto", "")],
                        f"Depthwise: {wl.describe()}, plan {plan.method!r}, median of {args.reps}")
    r = ratios.get("torch/auto", float("nan"))
    print(f"  torch/auto = {r:.2f} (target >= {DEPTHWISE_TARGET}: {verdict(r >= DEPTHWISE_TARGET)})")
    return {"workload": wl.as_dict(), "plan": repr(plan), "ratios": ratios, "relative_errors": errors,
            "target_torch_over_auto": DEPTHWISE_TARGET,
            "timings": {n: t.as_dict() for n, t in timings.items()}}


def main(argv=None):
    args = parse_args(argv)
    torch = _peers.torch_module(args.threads)
    payload = {"reps": args.reps, "stride": stride_ratio(args),
               "depthwise": depthwise_speedup(args, torch)}
    path = _timing.write_json("stride", payload, args.out, args.threads)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
