#!/usr/bin/env python3
"""The direct method's compiled loops against the peers users call for small kernels.

Run::

    python benchmarks/bench_direct.py                       # every part, 2 threads
    python benchmarks/bench_direct.py --parts image --sizes 1024,4096
    python benchmarks/bench_direct.py --threads 1 --parts fir

Three tables, float32, each candidate timed side by side with its peers
(interleaved, shuffled rounds, median; see ``_timing.py``):

``image``
    One-channel N x N images (``--sizes``, default 1024), kernels 3..15, SAME:
    OpenCV ``filter2D`` (``BORDER_CONSTANT``; ``pip install
    opencv-python-headless``, a benchmark-only extra) against the direct
    method's ``"compiled"`` loops, its numpy ``"taps"`` and fftconv ``auto``.
    Targets: cv2 / compiled >= 0.67, and >= 1.0 from 9x9 up.
``depthwise``
    4x56x56x128 depthwise layers, kernels 3..15, strides 1 and 2, SAME: torch
    (NCHW, padded outside the timing, ``groups=C``) against ``"compiled"``
    and ``auto``. Target: torch / compiled >= 0.67.
``fir``
    One signal of 1e5 samples, 3..63 taps, VALID: ``np.convolve(x, w,
    "valid")`` against ``"compiled"``, the ``"rows"`` strategy (numpy's own
    loop) and ``conv1d`` with ``auto``. Target: np.convolve / compiled >= 1.

Each table gives the compiled loops' multiply-adds per second and their
fraction of the machine's peak: ``threads x 16`` single-precision
multiply-adds per cycle (two 8-lane FMA units per core, AVX2/AVX-512 alike on
AMD Zen 4) at the clock given by ``--ghz`` (default: the CPU's nominal clock
from ``/proc/cpuinfo``, else 2.6). The load average is printed before and
after: on a shared machine the figures move by 2x between runs.
Results: ``benchmarks/results/direct.json``.
"""

from __future__ import annotations

import _timing  # first: pins the thread count before numpy loads
import dataclasses
import math
import os
import re

import _peers
import numpy as np

import fftconv

PARTS = ("image", "depthwise", "fir")
KERNELS = (3, 5, 7, 9, 11, 13, 15)
DEPTHWISE = (4, 56, 128)
FIR_SAMPLES, FIR_TAPS = 100_000, (3, 7, 15, 31, 63)
MACS_PER_CYCLE = 16  # float32 multiply-adds per cycle and core: 2 FMA units x 8 lanes


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=9, quick_reps=3, max_seconds=5.0)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--sizes", default="1024", help="image sizes (default 1024; e.g. 1024,4096)")
    parser.add_argument("--kernels", default=",".join(map(str, KERNELS)), help="kernel sizes")
    parser.add_argument("--ghz", type=float, default=None, help="clock for the fraction of peak")
    return _timing.parse_args(parser, argv)


def nominal_ghz() -> float:
    """The CPU's clock from /proc/cpuinfo (``cpu MHz``, else bogomips / 2), else 2.6."""
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return 2.6
    mhz = re.search(r"cpu MHz\s*:\s*([\d.]+)", text)
    if mhz:
        return float(mhz.group(1)) / 1000
    bogo = re.search(r"bogomips\s*:\s*([\d.]+)", text, re.I)
    return float(bogo.group(1)) / 2000 if bogo else 2.6


def forced(plan, strategy):
    """``plan`` with the direct method's strategy forced."""
    return dataclasses.replace(plan, settings={**plan.settings, "direct": strategy})


def fftconv_candidates(x, w, threads, strides=1, groups=1, padding="SAME", strategies=("compiled", "taps")):
    planner = fftconv.plan_conv1d if x.ndim == 3 else fftconv.plan_conv2d
    common = dict(strides=strides, padding=padding, groups=groups, dtype=x.dtype, workers=threads)
    direct = planner(x.shape, w.shape, method="direct", **common)
    auto = planner(x.shape, w.shape, method="auto", **common)
    out = [_timing.Candidate(s, lambda p=forced(direct, s): p(x, w)) for s in strategies]
    detail = auto.settings.get(auto.method)
    name = f"auto={auto.method}" + (f"/{detail}" if isinstance(detail, str) else "")
    return out + [_timing.Candidate("auto", lambda: auto(x, w))], name


def rates(macs, seconds, threads, ghz):
    gmacs = macs / seconds / 1e9
    return gmacs, gmacs / (threads * MACS_PER_CYCLE * ghz)


def image(args, ghz, cv2):
    rng = np.random.default_rng(0)
    rows = []
    for size in map(int, args.sizes.split(",")):
        x = rng.standard_normal((1, size, size, 1), dtype=np.float32)
        for k in map(int, args.kernels.split(",")):
            w = rng.standard_normal((k, k, 1, 1), dtype=np.float32)
            candidates, chosen = fftconv_candidates(x, w, args.threads)
            if cv2 is not None:
                img, ker = np.ascontiguousarray(x[0, :, :, 0]), np.ascontiguousarray(w[:, :, 0, 0])
                candidates.append(_timing.Candidate(
                    "cv2", lambda: cv2.filter2D(img, -1, ker, borderType=cv2.BORDER_CONSTANT),
                    to_reference=lambda y: y[None, :, :, None]))
            t = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc=f"{size}^2 {k}x{k}",
                                         keep_outputs=True)
            errors = _timing.check_outputs(t, "compiled")
            gmacs, peak = rates(size * size * k * k, t["compiled"].median, args.threads, ghz)
            rows.append({"workload": f"{size}^2 {k}x{k}", "plan": chosen,
                         **{n: v.median for n, v in t.items()}, "GMAC/s": gmacs, "peak": peak,
                         "cv2/compiled": _timing.ratio(t["cv2"].median, t["compiled"].median) if cv2 else math.nan,
                         "cv2/auto": _timing.ratio(t["cv2"].median, t["auto"].median) if cv2 else math.nan,
                         "err": errors.get("cv2", math.nan)})
    cols = [("workload", "workload", ""), ("plan", "auto's plan", ""), ("cv2", "cv2", "ms"),
            ("compiled", "compiled", "ms"), ("taps", "taps", "ms"), ("auto", "auto", "ms"),
            ("GMAC/s", "GMAC/s", ""), ("peak", "of peak", ""), ("cv2/compiled", "cv2/compiled", ""),
            ("cv2/auto", "cv2/auto", "")]
    _timing.print_table(rows, cols, "Single-channel images, SAME, median ms "
                                    "(targets cv2/compiled >= 0.67; >= 1.0 from 9x9)")
    return rows


def depthwise(args, ghz, torch):
    n, size, c = DEPTHWISE
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, size, size, c), dtype=np.float32)
    rows = []
    for stride in (1, 2):
        for k in map(int, args.kernels.split(",")):
            w = rng.standard_normal((k, k, 1, c), dtype=np.float32)
            wl = _peers.Workload(f"dw{k}", n, size, c, c, k, stride=stride, groups=c, padding="SAME")
            candidates, chosen = fftconv_candidates(x, w, args.threads, stride, c, strategies=("compiled",))
            if torch is not None:
                candidates.append(_peers.torch_candidate(torch, wl, x, w))
            t = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc=wl.describe(),
                                         keep_outputs=True)
            errors = _timing.check_outputs(t, "compiled")
            out = -(-size // stride)
            gmacs, peak = rates(n * out * out * c * k * k, t["compiled"].median, args.threads, ghz)
            ref = t["torch"].median if torch is not None else math.nan
            rows.append({"workload": f"{n}x{size}x{size}x{c} {k}x{k} s{stride}", "plan": chosen,
                         **{name: v.median for name, v in t.items()}, "GMAC/s": gmacs, "peak": peak,
                         "torch/compiled": _timing.ratio(ref, t["compiled"].median),
                         "torch/auto": _timing.ratio(ref, t["auto"].median), "err": errors.get("torch", math.nan)})
    cols = [("workload", "workload", ""), ("plan", "auto's plan", ""), ("torch", "torch", "ms"),
            ("compiled", "compiled", "ms"), ("auto", "auto", "ms"), ("GMAC/s", "GMAC/s", ""),
            ("peak", "of peak", ""), ("torch/compiled", "torch/compiled", ""), ("torch/auto", "torch/auto", "")]
    _timing.print_table(rows, cols, "Depthwise layers, SAME, median ms (target torch/compiled >= 0.67)")
    return rows


def fir(args, ghz):
    rng = np.random.default_rng(0)
    signal = rng.standard_normal(FIR_SAMPLES, dtype=np.float32)
    x = signal.reshape(1, -1, 1)
    rows = []
    for taps in FIR_TAPS:
        h = rng.standard_normal(taps, dtype=np.float32)
        w = h.reshape(-1, 1, 1)
        candidates, chosen = fftconv_candidates(x, w, args.threads, padding="VALID",
                                                strategies=("compiled", "rows"))
        flipped = h[::-1].copy()  # np.convolve flips: this gives the same correlation
        candidates.append(_timing.Candidate("np.convolve", lambda: np.convolve(signal, flipped, "valid"),
                                            to_reference=lambda y: y.reshape(1, -1, 1)))
        t = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc=f"fir {taps}",
                                     keep_outputs=True)
        errors = _timing.check_outputs(t, "compiled")
        gmacs, peak = rates((FIR_SAMPLES - taps + 1) * taps, t["compiled"].median, args.threads, ghz)
        rows.append({"workload": f"1e5 samples, {taps} taps", "plan": chosen,
                     **{name: v.median for name, v in t.items()}, "GMAC/s": gmacs, "peak": peak,
                     "np/compiled": _timing.ratio(t["np.convolve"].median, t["compiled"].median),
                     "np/auto": _timing.ratio(t["np.convolve"].median, t["auto"].median),
                     "err": errors.get("np.convolve", math.nan)})
    cols = [("workload", "workload", ""), ("plan", "auto's plan", ""), ("np.convolve", "np.convolve", "ms"),
            ("compiled", "compiled", "ms"), ("rows", "rows", "ms"), ("auto", "auto", "ms"),
            ("GMAC/s", "GMAC/s", ""), ("peak", "of peak", ""), ("np/compiled", "np/compiled", ""),
            ("np/auto", "np/auto", "")]
    _timing.print_table(rows, cols, "1-D FIR, one signal, VALID, median ms (target np/compiled >= 1)")
    return rows


def main(argv=None):
    args = parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise SystemExit(f"--parts accepts {', '.join(PARTS)}; got {', '.join(unknown)}")
    ghz = args.ghz or nominal_ghz()
    print(f"load average before: {os.getloadavg()}; peak {args.threads} x {MACS_PER_CYCLE} x {ghz:.2f} GHz "
          f"= {args.threads * MACS_PER_CYCLE * ghz:.0f} GMAC/s")
    payload = {"ghz": ghz}
    if "image" in parts:
        payload["image"] = image(args, ghz, _peers.cv2_module(args.threads))
    if "depthwise" in parts:
        payload["depthwise"] = depthwise(args, ghz, _peers.torch_module(args.threads))
    if "fir" in parts:
        payload["fir"] = fir(args, ghz)
    print(f"load average after: {os.getloadavg()}")
    path = _timing.write_json("direct", payload, args.out, args.threads)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
