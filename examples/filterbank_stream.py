#!/usr/bin/env python3
"""Orientation analysis of a video stream with ``fftconv.FilterBank``: fixed filters, many frames.

What a FilterBank is for: the same filters applied to frame after frame. The
bank -- 4 orientations x 2 wavelengths = 8 Gabor filters of 31 x 31 -- is
built once; its first call plans the frame shape and transforms the filters,
and every later frame reuses both, so a frame costs the transforms of the
frame and the products only.

The synthetic frames (numpy) hold a grating that turns through a half circle
over the stream, a moving blob and noise. For each frame the script reports
which orientation responds most, at frames spread over the whole turn, and
counts how often that is the grating's own orientation (the nearest of the
four).

It times, per frame, side by side in one loop (medians):

* the bank;
* a one-shot ``fftconv.conv2d`` that transforms the filters afresh, as a call
  that cannot reuse anything does (the kept spectra are cleared before each
  one);
* a plain one-shot ``fftconv.conv2d`` with the same filters: fftconv keeps a
  spectrum for filters it has just seen (bit-for-bit equal), so such a loop
  gets most of the bank's gain without asking, and the bank then saves only
  the checks and that comparison.

Run::

    python examples/filterbank_stream.py            # 24 frames of 256 x 256
    python examples/filterbank_stream.py --quick    # 12 frames of 128 x 128
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import fftconv


def gabor_bank(size: int, orientations: int, wavelengths) -> tuple[np.ndarray, list]:
    """Zero-mean Gabor filters as HWIO ``(size, size, 1, n)``, and their (theta, wavelength)."""
    r = size // 2
    y, x = np.mgrid[-r:r + 1, -r:r + 1].astype(float)
    filters, labels = [], []
    for lam in wavelengths:
        sigma = 0.5 * lam
        for k in range(orientations):
            theta = np.pi * k / orientations
            u = x * np.cos(theta) + y * np.sin(theta)
            v = -x * np.sin(theta) + y * np.cos(theta)
            g = np.exp(-(u ** 2 + v ** 2) / (2 * sigma ** 2)) * np.cos(2 * np.pi * u / lam)
            g -= g.mean()
            filters.append(g / np.abs(g).sum())
            labels.append((round(np.degrees(theta)), lam))
    return np.stack(filters, axis=-1)[:, :, None, :].astype(np.float32), labels


def frames(count: int, size: int, seed: int = 0):
    """Synthetic frames ``(1, size, size, 1)``: a grating whose orientation turns, plus a blob."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(float)
    for t in range(count):
        theta = np.pi * t / count
        grating = np.cos(2 * np.pi * (x * np.cos(theta) + y * np.sin(theta)) / 12 + t)
        cx, cy = size * (0.2 + 0.6 * t / count), size / 2
        blob = 2 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * (size / 20) ** 2))
        noise = 0.2 * rng.standard_normal((size, size))
        yield (grating + blob + noise).astype(np.float32)[None, :, :, None], np.degrees(theta)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller frames")
    parser.add_argument("--frames", type=int, default=None, help="frames (default 24; 12 quick)")
    parser.add_argument("--size", type=int, default=None, help="frame side (default 256; 128 quick)")
    parser.add_argument("--kernel", type=int, default=31, help="filter side, odd (default 31)")
    args = parser.parse_args(argv)
    count = args.frames or (12 if args.quick else 24)
    size = args.size or (128 if args.quick else 256)
    if count < 4:
        parser.error("--frames must be at least 4")

    orientations = 4
    w, labels = gabor_bank(args.kernel | 1, orientations=orientations, wavelengths=(8, 12))
    bank = fftconv.FilterBank(w, padding="SAME")
    print(f"bank: {w.shape[-1]} Gabor filters of {w.shape[0]} x {w.shape[1]} "
          f"({orientations} orientations x 2 wavelengths); {count} frames of {size} x {size}")

    times = {"bank": [], "fresh": [], "oneshot": []}
    shown = {round(i * (count - 1) / 5) for i in range(6)}  # six frames spread over the whole turn
    hits, worst = 0, 0.0
    def fresh(frame):
        fftconv.clear_spectrum_cache()  # nothing kept: this call transforms the filters again
        t0 = time.perf_counter()
        return fftconv.conv2d(frame, w, padding="SAME"), t0

    def oneshot(frame):  # the spectrum that fresh()'s call made is kept for it
        t0 = time.perf_counter()
        return fftconv.conv2d(frame, w, padding="SAME"), t0

    def banked(frame):
        t0 = time.perf_counter()
        return bank(frame), t0

    calls = {"bank": banked, "fresh": fresh, "oneshot": oneshot}
    for i, (frame, theta) in enumerate(frames(count, size)):
        order = list(calls)[i % 3:] + list(calls)[:i % 3]  # each goes first as often as the others
        results = {}
        for name in order:
            results[name], t0 = calls[name](frame)
            times[name].append(time.perf_counter() - t0)
        y, y_fresh = results["bank"], results["fresh"]
        worst = max(worst, float(np.linalg.norm(y - y_fresh) / np.linalg.norm(y_fresh)))
        energy = np.square(y[0]).mean(axis=(0, 1))
        best = labels[int(np.argmax(energy))]
        nearest = round(theta / (180 / orientations)) % orientations * (180 // orientations)
        hits += best[0] == nearest
        if i in shown:
            print(f"  frame {i:2d}: grating at {theta:5.1f} deg -> strongest filter {best[0]:3d} deg, "
                  f"wavelength {best[1]}")
    print(f"the strongest filter had the grating's nearest orientation in {hits} of {count} frames")

    plan = bank.plan_for((1, size, size, 1))  # the plan the bank made at its first call
    print(f"the bank runs method {plan.method!r} (predicted {plan.speedup:.1f}x faster than the other)")
    first = times["bank"][0]
    bank_t, fresh, oneshot = (statistics.median(times[k][1:]) for k in ("bank", "fresh", "oneshot"))
    print(f"FilterBank: first call {first * 1e3:.1f} ms (plans, transforms the filters), later frames "
          f"{bank_t * 1e3:.1f} ms")
    print(f"conv2d transforming the filters every frame: {fresh * 1e3:.1f} ms, {fresh / bank_t:.2f}x the "
          f"bank's time")
    print(f"conv2d with the filters' spectrum kept from the call before: {oneshot * 1e3:.1f} ms, "
          f"{oneshot / bank_t:.2f}x the bank's time")
    print(f"(medians over frames 1-{count - 1}, one loop, the three calls in rotating order; timings vary "
          f"with the machine's load)")
    print(f"{bank!r}; largest relative difference from conv2d {worst:.1e}")
    if not worst < 1e-5:
        print("error: the bank and conv2d disagree", file=sys.stderr)
        return 1
    if hits < count // 2:
        print("error: the strongest filter missed the grating's orientation in most frames", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
