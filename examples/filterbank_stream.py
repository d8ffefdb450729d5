#!/usr/bin/env python3
"""A bank of Gabor filters applied to a stream of frames with ``fftconv.FilterBank``.

The bank -- 4 orientations x 2 wavelengths = 8 filters of 31 x 31 by default --
is built once. Synthetic frames (drifting gratings and a moving bright blob,
made with numpy) arrive one at a time. The first call of the bank plans and
transforms the filters; later calls of the same shape reuse both. The script
times the first call, the later ones, and one-shot ``fftconv.conv2d`` calls
that redo the filters' transform every time, checks that the bank gives the
same result, and reports which orientation responds most in each frame.

Run::

    python examples/filterbank_stream.py            # 20 frames of 256 x 256
    python examples/filterbank_stream.py --quick    # 8 frames of 128 x 128
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller frames")
    parser.add_argument("--frames", type=int, default=None, help="frames (default 20; 8 quick)")
    parser.add_argument("--size", type=int, default=None, help="frame side (default 256; 128 quick)")
    parser.add_argument("--kernel", type=int, default=31, help="filter side, odd (default 31)")
    args = parser.parse_args(argv)
    count = args.frames or (8 if args.quick else 20)
    size = args.size or (128 if args.quick else 256)
    if count < 2:
        parser.error("--frames must be at least 2")

    w, labels = gabor_bank(args.kernel | 1, orientations=4, wavelengths=(8, 12))
    bank = fftconv.FilterBank(w, padding="SAME")
    print(f"bank: {w.shape[-1]} Gabor filters of {w.shape[0]} x {w.shape[1]}; "
          f"{count} frames of {size} x {size}")

    bank_times, oneshot_times, worst = [], [], 0.0
    for i, (frame, theta) in enumerate(frames(count, size)):
        t0 = time.perf_counter()
        y = bank(frame)
        bank_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        y_oneshot = fftconv.conv2d(frame, w, padding="SAME")
        oneshot_times.append(time.perf_counter() - t0)
        worst = max(worst, float(np.linalg.norm(y - y_oneshot) / np.linalg.norm(y_oneshot)))
        energy = np.square(y[0]).mean(axis=(0, 1))
        best = labels[int(np.argmax(energy))]
        if i < 3 or i == count - 1:
            print(f"  frame {i:2d}: grating at {theta:5.1f} deg -> strongest filter "
                  f"{best[0]:3d} deg, wavelength {best[1]}")
        elif i == 3:
            print("  ...")

    plan = bank.plan_for((1, size, size, 1))  # the plan the bank made at its first call
    print(f"the bank runs method {plan.method!r} (predicted {plan.speedup:.1f}x faster than "
          f"the other)")
    first, later = bank_times[0], statistics.median(bank_times[1:])
    oneshot = statistics.median(oneshot_times[1:])
    print(f"FilterBank: first call {first * 1e3:.1f} ms (plans and transforms the filters), "
          f"later calls {later * 1e3:.1f} ms (median)")
    print(f"one-shot fftconv.conv2d per frame: {oneshot * 1e3:.1f} ms (median): the bank is "
          f"{oneshot / later:.2f}x faster per frame")
    print(f"{bank!r}; largest relative difference from conv2d {worst:.1e}")
    if not worst < 1e-5:
        print("error: the bank and conv2d disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
