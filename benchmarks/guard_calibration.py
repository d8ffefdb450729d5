#!/usr/bin/env python3
"""How well ``auto``'s dynamic-range guard predicts the FFT's per-output error (accuracy, not time).

Run::

    python benchmarks/guard_calibration.py          # 256x256 images
    python benchmarks/guard_calibration.py --quick  # 128x128

For 12 kinds of float32 data (noise, offsets, photos, smooth fields; images
with a faint and a bright half, a bright star, a zero background) and 6
kernels (Gaussians, a box, a random kernel, a zero-sum Laplacian of
Gaussian, a near-delta), each with SAME padding and with VALID stride 2, it
prints:

- ``measured``: the worst ratio, over the outputs, of the float32 FFT's error
  to the direct method's (floored at ``eps * (|x| * |w|)``, the direct
  method's rounding scale), both against a float64 reference;
- ``risk``: what :class:`fftconv._engine.guards.RangeGuard` predicts from shapes and
  block sums;
- ``auto``: the same ratio for ``method="auto"``.

A case is a miss if ``measured > 100`` but the risk stays at or below
:data:`fftconv._engine.guards.DYNAMIC_RANGE_LIMIT` (the guard would not fire), and
a false alarm if the guard fires on an ordinary kind of data with
``measured <= 100``. The summary gives both counts and the quantiles of
``measured / risk``, which is how the limit was chosen.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy.ndimage import gaussian_filter

import fftconv
from fftconv._engine import guards as _guards
from fftconv.testing import reference_conv

EPS = np.finfo(np.float32).eps
ORDINARY = ("normal", "positive", "offset", "photo", "smooth")


def gauss(k, sigma):
    g = np.exp(-((np.arange(k) - k // 2) / sigma) ** 2)
    g = np.outer(g, g)
    return (g / g.sum())[..., None, None].astype(np.float32)


def kernels(rng):
    near_delta = np.full((11, 11, 1, 1), 1e-3, np.float32)
    near_delta[5, 5] = 1
    log = gauss(9, 2)
    return {"gauss31": gauss(31, 6), "box9": np.full((9, 9, 1, 1), 1 / 81, np.float32),
            "gauss15": gauss(15, 3), "rand21": rng.standard_normal((21, 21, 1, 1)).astype(np.float32),
            "lap9": log - log.mean(), "near-delta11": near_delta}


def data(kind, n, rng):
    base = (1 + 0.1 * rng.standard_normal((1, n, n, 1))).astype(np.float32)
    if kind == "normal":
        return rng.standard_normal((1, n, n, 1)).astype(np.float32)
    if kind == "positive":
        return base
    if kind == "offset":
        return (1000 + rng.standard_normal((1, n, n, 1))).astype(np.float32)
    if kind == "smooth":
        return gaussian_filter(rng.standard_normal((1, n, n, 1)), (0, 8, 8, 0)).astype(np.float32)
    if kind == "photo":
        a = gaussian_filter(rng.random((1, n, n, 1)), (0, 4, 4, 0))
        return (255 * (a - a.min()) / (a.max() - a.min())).astype(np.float32)
    if kind.startswith("hdr"):
        base[:, :, n // 2:] *= float(kind[3:])
        return base
    if kind.startswith("star"):
        base[0, n // 3, n // 3] = float(kind[4:])
        return base
    if kind == "zero-background":
        base[:, : n // 2] = 0
        return base
    raise ValueError(kind)


KINDS = ("normal", "positive", "offset", "smooth", "photo", "hdr10", "hdr100", "hdr1e3", "hdr1e4",
         "star1e3", "star1e5", "zero-background")


def worst_ratio(y, ref, direct, scale):
    floor = np.maximum(np.abs(direct - ref), EPS * scale)
    return float(np.max(np.abs(y - ref) / np.where(floor > 0, floor, np.inf)))


def case(x, w, options):
    plan = fftconv.plan_conv2d(x.shape, w.shape, method="fft", **options)
    bound = plan.bind(w)
    fft = bound._run(x, "fft", np.float32)
    ref = reference_conv(x.astype(np.float64), w.astype(np.float64), **options)
    scale = reference_conv(np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64)), **options)
    direct = fftconv.conv2d(x, w, method="direct", **options)
    auto = fftconv.conv2d(x, w, **options)
    risk = _guards.dynamic_range_risk(x, plan.geometry, plan.layout, _guards.filter_spread(w), w)
    return worst_ratio(fft, ref, direct, scale), risk, worst_ratio(auto, ref, direct, scale)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="128x128 images instead of 256x256")
    args = parser.parse_args(argv)
    n = 128 if args.quick else 256
    rng = np.random.default_rng(1)
    ks = kernels(rng)
    rows = []
    print(f"{'data':16s} {'kernel':13s} {'geometry':16s} {'measured':>9s} {'risk':>9s} {'auto':>7s}")
    for kind in KINDS:
        x = data(kind, n, rng)
        for name, w in ks.items():
            for label, options in (("SAME", dict(padding="SAME")), ("VALID stride 2", dict(strides=2))):
                measured, risk, auto = case(x, w, options)
                flag = "fires" if risk > _guards.DYNAMIC_RANGE_LIMIT else ""
                print(f"{kind:16s} {name:13s} {label:16s} {measured:9.3g} {risk:9.3g} {auto:7.3g} {flag}",
                      flush=True)
                rows.append((kind, measured, risk))
    limit = _guards.DYNAMIC_RANGE_LIMIT
    misses = [r for r in rows if r[1] > 100 and r[2] <= limit]
    alarms = [r for r in rows if r[0] in ORDINARY and r[1] <= 100 and r[2] > limit]
    ratios = sorted(m / r for _, m, r in rows if r > 0 and math.isfinite(r))
    quantiles = [ratios[int(q * (len(ratios) - 1))] for q in (0, 0.1, 0.5, 0.9, 1)]
    print(f"\nlimit {limit}: {len(misses)} misses (measured > 100, guard silent), {len(alarms)} false alarms "
          f"on ordinary data, of {len(rows)} cases")
    print("measured / risk quantiles (min, 10%, median, 90%, max): " + ", ".join(f"{q:.2f}" for q in quantiles))


if __name__ == "__main__":
    main()
