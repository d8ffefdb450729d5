#!/usr/bin/env python3
"""A long FIR low-pass filter on a 1-D signal with ``fftconv.conv1d``.

1. Design a 2001-tap low-pass filter with ``scipy.signal.firwin`` (cut-off
   at 5% of the Nyquist frequency by default).
2. Make a test signal: a slow tone that should pass, a fast tone that should
   be removed, and white noise.
3. Filter it with ``fftconv.conv1d(..., flip=True)`` (``flip=True``: a true
   convolution, as in signal processing) with "full" padding, and compare
   with ``scipy.signal.oaconvolve``, in result and in time.
4. Filter several channels in one call: ``C`` signals in an ``(1, n, C)``
   array and the same filter for each (``groups`` is inferred as ``C`` from
   filters of shape ``(taps, 1, C)``).

Run::

    python examples/fir_filter.py             # 2**20 samples, 2001 taps
    python examples/fir_filter.py --quick     # 2**17 samples
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import scipy.signal

import fftconv


def best_time(fn, repeats=3):
    """The fastest of ``repeats`` runs, and the result of the last one."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def tone_amplitude(signal, freq, rate):
    """Amplitude of the component at ``freq`` (least squares on sine and cosine)."""
    t = np.arange(signal.size) / rate
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, signal, rcond=None)
    return float(np.hypot(*coef))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter signal")
    parser.add_argument("--samples", type=int, default=None,
                        help="signal length (default 2**20; 2**17 quick)")
    parser.add_argument("--taps", type=int, default=2001, help="filter length (default 2001)")
    parser.add_argument("--cutoff", type=float, default=0.05,
                        help="cut-off as a fraction of the Nyquist frequency")
    parser.add_argument("--channels", type=int, default=4, help="channels for the multichannel run")
    args = parser.parse_args(argv)
    n = args.samples or (2**17 if args.quick else 2**20)
    rate = 1000.0  # samples per second, for the printout

    h = scipy.signal.firwin(args.taps, args.cutoff)
    rng = np.random.default_rng(0)
    t = np.arange(n) / rate
    slow, fast = 0.2 * args.cutoff * rate / 2, 3 * args.cutoff * rate / 2  # Hz
    x = np.sin(2 * np.pi * slow * t) + np.sin(2 * np.pi * fast * t) + 0.5 * rng.standard_normal(n)
    print(f"signal: {n} samples at {rate:g} Hz, tones at {slow:g} Hz (pass) and {fast:g} Hz "
          f"(stop) plus noise; FIR low-pass of {args.taps} taps, cut-off {args.cutoff * rate / 2:g} Hz")

    # NWC input, WIO filters; "full" output: pad taps - 1 on both sides
    pad = [(args.taps - 1, args.taps - 1)]
    plan = fftconv.plan_conv1d((1, n, 1), (args.taps, 1, 1), padding=pad, flip=True,
                               dtype="float64")
    print(f"fftconv plans method={plan.method!r}, fft tiles of {plan.layout.fft_shape[0]} "
          f"points, {plan.layout.n_tiles} tile(s) (predicted {plan.speedup:.0f}x faster than direct)")
    t_fftconv, y = best_time(lambda: fftconv.conv1d(x[None, :, None], h[:, None, None],
                                                     padding=pad, flip=True)[0, :, 0])
    t_scipy, ref = best_time(lambda: scipy.signal.oaconvolve(x, h))
    err = float(np.linalg.norm(y - ref) / np.linalg.norm(ref))
    print(f"fftconv.conv1d {t_fftconv * 1e3:.1f} ms, scipy.signal.oaconvolve {t_scipy * 1e3:.1f} ms "
          f"(best of 3); relative L2 difference {err:.1e}")

    # the "same" part of the output: with an odd number of taps, padding="SAME"
    same = fftconv.conv1d(x[None, :, None], h[:, None, None], padding="SAME", flip=True)[0, :, 0]
    same_ok = np.allclose(same, scipy.signal.oaconvolve(x, h, mode="same"))
    a_slow, a_fast = tone_amplitude(same, slow, rate), tone_amplitude(same, fast, rate)
    print(f"after filtering: {slow:g} Hz tone amplitude {a_slow:.3f} (was 1), {fast:g} Hz tone "
          f"{a_fast:.1e} (was 1); padding='SAME' equals mode='same': {same_ok}")

    c = args.channels
    xs = rng.standard_normal((1, n, c))
    ws = np.repeat(h[:, None, None], c, axis=2)  # (taps, 1, C): one filter per channel
    t_multi, ys = best_time(lambda: fftconv.conv1d(xs, ws, padding="SAME", flip=True))
    t_multi_scipy, refs = best_time(
        lambda: scipy.signal.oaconvolve(xs[0], h[:, None], mode="same", axes=0))
    multi_err = float(np.linalg.norm(ys[0] - refs) / np.linalg.norm(refs))
    print(f"{c} channels in one call (groups={c}): fftconv {t_multi * 1e3:.1f} ms, oaconvolve "
          f"along axis 0 {t_multi_scipy * 1e3:.1f} ms; relative L2 difference {multi_err:.1e}")

    if not (err < 1e-12 and multi_err < 1e-12 and same_ok and a_fast < 1e-2 < a_slow):
        print("error: unexpected result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
