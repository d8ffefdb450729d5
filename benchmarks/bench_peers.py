#!/usr/bin/env python3
"""fftconv against its peers on the public workloads, with planning timed apart.

Run::

    python benchmarks/bench_peers.py                  # every workload, 5 repeats
    python benchmarks/bench_peers.py --quick          # smaller images, 3 repeats
    python benchmarks/bench_peers.py --workloads 31x31,deblur --reps 7

Workloads: the ``WORKLOADS`` of ``../shared/bench/peers.py`` (VALID, stride 1;
its depthwise rows with ``groups=C``), plus a RepLKNet-style depthwise 31x31
on 64 channels (1x56x56x64, SAME), a stride-2 31x31 layer and a
single-channel 2048x2048 image with a 63x63 kernel.

Candidates, timed side by side (interleaved round-robin, median of
``--reps`` after a warm-up, float32, ``--threads`` threads):

- ``auto``, ``direct``, ``fft``: ``fftconv.conv2d(..., method=...)``;
- ``exec``: a ready ``plan(x, w)`` (``auto``'s plan, made beforehand);
- ``plan-cold`` / ``plan-cached``: ``fftconv.plan_conv2d`` with an empty plan
  cache and from the cache (timed in a separate round, shapes only);
- peers, each called its fastest fair way (see ``_peers.py``): ``torch`` (on a
  pre-padded contiguous NCHW tensor, no ``padding=``), ``fcp``
  (fft-conv-pytorch, if installed), ``cv2`` (OpenCV ``filter2D`` with
  ``BORDER_CONSTANT``, single-channel images, if installed), ``scipy-fft`` and
  ``scipy-oa`` (peers.py's broadcast with ``fftconvolve`` / ``oaconvolve``).

Every output is checked against ``auto``'s. The ratios table shows
``peer / auto`` (above 1: fftconv is faster) and the SPEC targets that apply:
multichannel kernels of 21 and up: torch/auto >= 4 in geometric mean and
>= 1.5 each; depthwise 31x31: torch/auto >= 2; depthwise 3x3-15x15 and dense
3x3/5x5: torch/auto >= 1/1.5; single-channel images: the best of cv2 and
scipy over auto >= 1.5. Run it with ``env -u OPENBLAS_CORETYPE -u
OPENBLAS_L2_SIZE`` so that numpy's BLAS runs its native kernels.
Results: ``benchmarks/results/peers.json``.
"""

from __future__ import annotations

import _timing  # first: pins the thread count before numpy loads
import _peers
import fftconv

from _peers import Workload

EXTRA_WORKLOADS = [
    Workload("replk-dw-31x31", 1, 56, 64, 64, 31, groups=64, padding="SAME"),
    Workload("stride2-31x31", 2, 384, 4, 32, 31, stride=2, padding="SAME"),
    Workload("single-2048-63x63", 1, 2048, 1, 1, 63),
]
PEERS = ("torch", "fcp", "cv2", "scipy-fft", "scipy-oa")
TIME_COLUMNS = [("workload", "workload", ""), ("method", "plan", ""), ("auto", "auto ms", "ms"),
                ("direct", "direct", "ms"), ("fft", "fft", "ms"), ("exec", "exec", "ms"),
                ("plan-cold", "plan cold", "ms"), ("plan-cached", "plan cached", "ms"),
                ("torch", "torch", "ms"), ("fcp", "fcp", "ms"), ("cv2", "cv2", "ms"),
                ("scipy-fft", "scipy-fft", "ms"), ("scipy-oa", "scipy-oa", "ms")]
RATIO_COLUMNS = [("workload", "workload", ""), ("direct/auto", "direct/auto", ""),
                 ("fft/auto", "fft/auto", ""), ("torch/auto", "torch/auto", ""),
                 ("fcp/auto", "fcp/auto", ""), ("cv2/auto", "cv2/auto", ""),
                 ("scipy-fft/auto", "scipy-fft/auto", ""), ("scipy-oa/auto", "scipy-oa/auto", ""),
                 ("targets", "targets", "")]


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=5)
    parser.add_argument("--workloads", default="",
                        help="comma-separated name filters, e.g. '31x31,deblur' (default: all)")
    return _timing.parse_args(parser, argv)


def workloads(quick: bool, patterns: str) -> list:
    chosen = _peers.select(_peers.peer_workloads() + EXTRA_WORKLOADS, patterns)
    return [wl.shrunk() for wl in chosen] if quick else chosen


def kind(wl: Workload) -> str:
    """Which SPEC target family ``wl`` belongs to."""
    if wl.c_in == 1 and wl.groups == 1:
        return "single-channel"
    if wl.group_in == 1:
        return "depthwise"
    return "multichannel"


def spec_targets(wl: Workload, ratios: dict) -> list:
    """The SPEC performance targets that apply to ``wl``, as ``(label, value, threshold)``."""
    targets, torch = [], ratios.get("torch/auto")
    family = kind(wl)
    if family == "multichannel" and wl.kernel >= 21:
        targets.append(("torch>=1.5", torch, 1.5))  # and >= 4 in geometric mean, over these rows
    if family == "multichannel" and wl.kernel <= 5:
        targets.append(("torch>=0.67", torch, 1 / 1.5))
    if family == "depthwise" and wl.kernel >= 31:
        targets.append(("torch>=2", torch, 2.0))
    if family == "depthwise" and 3 <= wl.kernel <= 15:
        targets.append(("torch>=0.67", torch, 1 / 1.5))
    if family == "single-channel":
        peers = [ratios.get(f"{p}/auto", float("nan")) for p in ("cv2", "scipy-fft", "scipy-oa")]
        best = min((v for v in peers if v == v), default=float("nan"))
        targets.append(("best>=1.5", best, 1.5))
    return targets


def format_targets(targets) -> str:
    def verdict(value, threshold):
        return "?" if value is None or value != value else ("ok" if value >= threshold else "MISS")
    return " ".join(f"{label}:{verdict(v, t)}" for label, v, t in targets) or "-"


def run_workload(wl: Workload, args, torch, cv2) -> dict:
    """Time every candidate of one workload; return its row and record."""
    x, w = wl.inputs()
    kwargs = wl.conv_kwargs(args.threads)
    plan = fftconv.plan_conv2d(x.shape, w.shape, dtype=x.dtype, method="auto", **kwargs)
    candidates = (_peers.fftconv_candidates(fftconv, wl, x, w, args.threads)
                  + [_timing.Candidate("exec", lambda: plan(x, w))]
                  + _peers.peer_candidates(wl, x, w, args.threads, torch, cv2))
    timings = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc=wl.name,
                                       keep_outputs=True)
    errors = _timing.check_outputs(timings, "auto")
    timings.update(_timing.time_interleaved(
        _peers.planning_candidates(fftconv, wl, x, w, args.threads), args.reps, desc="planning"))
    medians = {name: t.median for name, t in timings.items()}
    ratios = {f"{name}/auto": _timing.ratio(medians.get(name, float("nan")), medians["auto"])
              for name in ("direct", "fft", *PEERS) if name in medians}
    targets = spec_targets(wl, ratios)
    row = {"workload": wl.name, "method": plan.method, **medians, **ratios,
           "targets": format_targets(targets)}
    record = {"workload": wl.as_dict(), "plan": {"method": plan.method, "estimates": plan.estimates,
                                                 "repr": repr(plan)},
              "timings": {name: t.as_dict() for name, t in timings.items()},
              "relative_errors": errors, "ratios": ratios,
              "targets": [{"target": label, "value": v, "threshold": t} for label, v, t in targets]}
    return row, record


def main(argv=None):
    args = parse_args(argv)
    torch, cv2 = _peers.torch_module(args.threads), _peers.cv2_module(args.threads)
    rows, records = [], []
    for wl in workloads(args.quick, args.workloads):
        row, record = run_workload(wl, args, torch, cv2)
        rows.append(row)
        records.append(record)
        print(f"{wl.name:20s} {wl.describe():40s} auto {_timing.fmt(row['auto'], 'ms')} ms "
              f"({row['method']})", flush=True)
    _timing.print_table(rows, TIME_COLUMNS, f"Median ms ({args.reps} repeats, {args.threads} threads)")
    _timing.print_table(rows, RATIO_COLUMNS, "Ratios peer / auto (above 1: fftconv faster)")
    chosen = workloads(args.quick, args.workloads)
    large = [r["torch/auto"] for wl, r in zip(chosen, rows)
             if kind(wl) == "multichannel" and wl.kernel >= 21 and r.get("torch/auto") == r.get("torch/auto")
             and "torch/auto" in r]
    if large:
        print(f"\nmultichannel kernels >= 21: torch/auto geometric mean {_timing.geometric_mean(large):.2f} "
              f"(target >= 4), lowest {min(large):.2f} (target >= 1.5)")
    path = _timing.write_json("peers", {"reps": args.reps, "quick": args.quick, "results": records},
                              args.out, args.threads)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
