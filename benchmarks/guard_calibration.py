#!/usr/bin/env python3
"""Does the dynamic-range guard's error model bound the FFT method's error?  (Accuracy, not time.)

Run::

    python benchmarks/guard_calibration.py              # 600 random cases
    python benchmarks/guard_calibration.py --cases 100  # fewer
    python benchmarks/guard_calibration.py --seed 3     # others

Each case draws a geometry (1-D or 2-D, 1-4 channels, groups, kernels of 2-31
taps, strides and dilations of 1-3, SAME or VALID, an FFT tiling from one tile
to many), a kind of data (noise, positive, constant, smooth fields, steps, a
checkerboard, one to many spikes of random size, a faint and a bright half
1e2-1e12 apart, a zero border, a zero half, sparse values on zeros) and a kernel
(a box, a Gaussian, random normal or positive taps, a delta, a Laplacian, a
few sparse taps), in float32 or float64.  It runs the FFT method in the call's
precision and measures every output's error against a reference in long
double (80-bit on x86), then:

- ``model``: the worst, over the outputs, of the error over the guard's bound
  for it, :meth:`fftconv._engine.guards.RangeGuard.error_bound` plus the local
  term ``KAPPA_LOCAL * eps * sqrt(log2 P) * sum |x| |w|``.  The model holds
  where this is at most 1; the constants
  (:data:`~fftconv._engine.guards.KAPPA_RMS`, ``KAPPA_PEAK``, ``KAPPA_LOCAL``)
  were chosen so that the worst case of the sweep stays below 1 with a margin.
- ``auto``: the worst ratio of ``method="auto"``'s error to the direct method's
  own error for that output (floored at ``eps * sum |x| |w|``, with the zeros of
  a window counted at the mean magnitude of its non-zero samples, see
  :doc:`numerics`); the contract is at most 100.
- what ``auto`` ran (``last_run``).

The summary counts the cases where the model does not hold and where ``auto``
breaks the contract (both must be 0), and gives quantiles of ``model``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math

import numpy as np

import fftconv
from fftconv._engine import cells as _cells
from fftconv._engine import guards as _guards
from fftconv.methods import METHODS

KERNELS = ("box", "gauss", "randn", "rand+", "delta", "lap", "sparse")
DATA = ("noise", "positive", "const", "smooth", "steps", "checker", "spikes1", "spikes5", "spikes50",
        "halfbright", "zero-border", "zero-half", "sparse-on-zero", "faint-spikes")


def kernel(kind, shape, rng):
    *taps, cin, cout = shape
    if kind == "box":
        return np.full(shape, 1 / math.prod(taps))
    if kind == "gauss":
        grids = np.meshgrid(*[(np.arange(k) - (k - 1) / 2) / max(k / 5, 0.5) for k in taps], indexing="ij")
        g = np.exp(-sum(a ** 2 for a in grids))
        return np.repeat(np.repeat((g / g.sum())[..., None, None], cin, -2), cout, -1)
    if kind == "randn":
        return rng.standard_normal(shape)
    if kind == "rand+":
        return rng.random(shape)
    w = np.zeros(shape)
    centre = tuple(k // 2 for k in taps)
    if kind == "delta":
        w[centre] = 1
    elif kind == "lap":
        w[centre] = 2 * len(taps)
        for axis, k in enumerate(taps):
            for step in (-1, 1):
                at = list(centre)
                at[axis] = min(max(at[axis] + step, 0), k - 1)
                w[tuple(at)] -= 1
    else:  # sparse
        flat = w.reshape(-1, cin, cout)
        flat[rng.integers(0, len(flat), 3)] = rng.standard_normal((3, cin, cout))
    return w


def data(kind, shape, rng):
    n = shape[1]
    x = rng.standard_normal(shape)
    if kind == "positive":
        return 1 + 0.1 * x
    if kind == "const":
        return np.full(shape, 3.0)
    if kind == "smooth":
        return np.cumsum(np.cumsum(x, 1), -2) if len(shape) == 4 else np.cumsum(x, 1)
    if kind == "steps":
        return np.floor(rng.random(shape) * 4)
    if kind == "checker":
        return (np.indices(shape[1:-1]).sum(0) % 2 * 2.0 - 1)[None, ..., None] * np.ones(shape)
    if kind.startswith("spikes"):
        s = np.zeros(shape)
        m = int(kind[6:])
        s.reshape(-1)[rng.integers(0, s.size, m)] = rng.choice([-1, 1], m) * 10.0 ** rng.uniform(0, 6, m)
        return s + 1e-3 * x
    if kind == "halfbright":
        x[:, n // 2:] *= 10.0 ** rng.uniform(2, 12)
        return x
    if kind == "zero-border":
        x = rng.random(shape)
        border = max(1, n // 8)
        x[:, :border] = 0
        x[:, -border:] = 0
        return x
    if kind == "zero-half":
        x[:, : n // 2] = 0
        return x
    if kind == "sparse-on-zero":
        return np.where(rng.random(shape) < 0.05, x, 0.0)
    if kind == "faint-spikes":
        x *= 1e-6
        x[:, n // 2:] = np.where(rng.random(x[:, n // 2:].shape) < 0.03, 1e3, 1e-6) * rng.standard_normal(x[:, n // 2:].shape)
        return x
    return x


def reference(x, w, geom):
    """The exact sums in long double, by the definition (zero pads)."""
    x = x.astype(np.longdouble)
    w = w.astype(np.longdouble)
    out = np.zeros(geom.output_shape, np.longdouble)
    xp = np.pad(x, [(0, 0), *geom.pads, (0, 0)])
    for tap in np.ndindex(*geom.kernel):
        index = (slice(None), *(slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in
                                zip(tap, geom.dilations, geom.out_spatial, geom.strides)))
        patch = xp[index]
        for g in range(geom.groups):
            cin = slice(g * geom.group_in, (g + 1) * geom.group_in)
            cout = slice(g * geom.group_out, (g + 1) * geom.group_out)
            out[..., cout] += patch[..., cin] @ w[tap][:, cout]
    return out


def draw(rng):
    nd = int(rng.choice([1, 2], p=[0.3, 0.7]))
    n = int(rng.integers(40, 400)) if nd == 1 else int(rng.integers(24, 90))
    k = int(rng.integers(2, 32 if nd == 1 else 16))
    groups = int(rng.choice([1, 1, 2]))
    cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    strides, dilations = int(rng.choice([1, 1, 2, 3])), int(rng.choice([1, 1, 2]))
    padding = str(rng.choice(["SAME", "VALID"]))
    dtype = rng.choice([np.float32, np.float64])
    return nd, (1, *(n,) * nd, cin), (*(k,) * nd, cin // groups, cout), dict(strides=strides, dilations=dilations,
                                                                            padding=padding, groups=groups), dtype


def floor_scale(x, w, geom, dtype):
    """``eps * sum |x| |w|`` per output, the zeros of a window counted at the mean magnitude of its
    non-zero samples (the contract's scale for the direct method's error)."""
    ax, aw = np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64))
    s = reference(ax, aw, geom).astype(np.float64)
    nz = reference((x != 0).astype(np.float64), aw, geom).astype(np.float64)
    full = aw.reshape(-1, aw.shape[-1]).sum(axis=0)  # sum |w| of each output channel
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(nz > 0, s * full / nz, 0.0)
    return np.finfo(dtype).eps * scale


def run_case(rng):
    nd, xs, ws, options, dtype = draw(rng)
    planner = {1: fftconv.plan_conv1d, 2: fftconv.plan_conv2d}[nd]
    try:
        plan = planner(xs, ws, dtype=dtype, method="fft", **options)
    except ValueError:
        return None
    if plan.geometry.is_empty:
        return None
    geom = plan.geometry
    length = [int(rng.integers(q + 1, max(q + 2, o + q))) for q, o in zip(plan.layout.phase_kernel, geom.out_spatial)]
    layout = METHODS["fft"].settings(geom, {"fft_shape": tuple(length)})
    plan = dataclasses.replace(plan, settings={**plan.settings, "fft": layout})
    kk, dk = str(rng.choice(KERNELS)), str(rng.choice(DATA))
    w = kernel(kk, ws, rng).astype(dtype)
    x = data(dk, xs, rng).astype(dtype)
    exact = reference(x, w, geom)
    fft_bound = plan.bind(w)
    y = fft_bound(x).astype(np.longdouble)
    err = np.abs(y - exact).astype(np.float64)
    auto_bound = dataclasses.replace(plan, requested="auto").bind(w)
    guard = auto_bound._range_guard("fft")
    stats = _cells.cell_stats(x, geom)
    tiles = guard.tile_stats(stats)
    eps = np.finfo(dtype).eps
    s = reference(np.abs(x.astype(np.float64)), np.abs(w.astype(np.float64)), geom).astype(np.float64)
    bound = guard.error_bound(tiles, dtype) + _guards.KAPPA_LOCAL * eps * guard.log * s
    with np.errstate(divide="ignore", invalid="ignore"):
        model = float(np.max(np.where(bound > 0, err / bound, np.where(err > 0, np.inf, 0.0))))
    ya = auto_bound(x).astype(np.longdouble)
    direct = fftconv.conv1d if nd == 1 else fftconv.conv2d
    yd = direct(x, w, method="direct", **options).astype(np.longdouble)
    floor = np.maximum(np.abs(yd - exact).astype(np.float64), floor_scale(x, w, geom, dtype))
    auto_err = np.abs(ya - exact).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        auto = float(np.max(np.where(floor > 0, auto_err / floor, np.where(auto_err > 0, np.inf, 0.0))))
    run = auto_bound.last_run
    label = f"{nd}d {np.dtype(dtype).name} {xs}x{ws} {options} fft{layout.fft_shape} {kk} {dk}"
    return label, model, auto, run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=15, help="print the cases with the largest model ratio")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    rows = []
    while len(rows) < args.cases:
        row = run_case(rng)
        if row is not None:
            rows.append(row)
    rows.sort(key=lambda r: -r[1])
    for label, model, auto, run in rows[: args.show]:
        print(f"model {model:7.3f}  auto {auto:8.3g}  {label}\n    ran {run['method']} {run['dtype']}: {run['why']}")
    models = np.array([r[1] for r in rows])
    broken = [r for r in rows if r[2] > _guards.ACCURACY_FACTOR]
    print(f"\n{len(rows)} cases (seed {args.seed}): the model does not hold in {int((models > 1).sum())}; auto breaks "
          f"the contract in {len(broken)}")
    for label, model, auto, run in broken:
        print(f"  BROKEN auto {auto:.3g}: {label} ({run})")
    q = np.quantile(models, [0.5, 0.9, 0.99, 1.0])
    print("model ratio quantiles (median, 90%, 99%, max): " + ", ".join(f"{v:.3f}" for v in q))
    flagged = sum(1 for r in rows if r[3]["why"] != "as planned" and "zero guard" not in r[3]["why"])
    print(f"auto ran something else than the planned transforms in {flagged} cases")


if __name__ == "__main__":
    main()
