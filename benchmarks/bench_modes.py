#!/usr/bin/env python3
"""Issue 16's targets: a reflect-mode blur and a complex matched filter, against their peers.

Run (BLAS-timed work: without the machine's OpenBLAS core override, see SPEC)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_modes.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_modes.py --quick   # smaller inputs

(a) **Reflect-mode blur**: a 61x61 Gaussian on a 2000x3000x3 float32 image
(``--quick``: 500x750x3), each channel on its own (``depthwise_conv2d``),
borders reflected (numpy's ``"reflect"``: the edge sample is not repeated):

- ``fftconv-reflect``: ``depthwise_conv2d(x, k, padding="SAME", padding_mode="reflect")``;
- ``fftconv-zeros``: the same with zero padding, to show what the mode costs;
- ``np.pad+fftconv``: ``np.pad(x, 30, mode="reflect")``, then ``padding="VALID"``: what
  users did before ``padding_mode``;
- ``ndimage``: :func:`scipy.ndimage.correlate` with ``mode="mirror"`` (ndimage's name
  for numpy's reflect), its fastest fair way: one 2-D call per channel or one 3-D
  call with a kernel one sample long on the channel axis, whichever ran faster in
  the warm-up (single-threaded: ndimage has no threads; it is direct, not FFT);
- ``opencv``: ``cv2.filter2D(x, -1, k, borderType=cv2.BORDER_REFLECT_101)``
  (OpenCV's name for numpy's reflect; DFT-based for kernels this large), if
  OpenCV is installed.

(b) **Complex matched filter**: a 1e6-sample complex64 baseband signal
(``--quick``: 2e5) correlated with a 4001-tap complex64 chirp, full output
(``n + k - 1`` samples):

- ``fftconv``: ``conv1d(x, conj(chirp), padding=[(k - 1, k - 1)])``, cross-correlation
  without conjugation, so the template is passed conjugated;
- ``fftconv-bank``: a :class:`fftconv.FilterBank` of the template, after its first call
  (the template's spectrum kept: a stream of received blocks);
- ``scipy``: the better of :func:`scipy.signal.oaconvolve` and
  :func:`scipy.signal.fftconvolve` of ``x`` with the reversed conjugated chirp, under
  ``scipy.fft.set_workers(threads)``;
- ``c2c-sketch``: not a library: a short numpy/scipy overlap-save with complex (c2c)
  transforms on fftconv's own tile length, the floor of what fftconv's FFT method
  (complex transforms too, for a complex input with complex filters) could reach.

(c) **Wrap mode, circular layout**: three ``padding="SAME"`` layers with
``padding_mode="wrap"`` (the FFT method's circular correlation of whole images,
:func:`fftconv.methods.fft.circular_layout`), against the same layer with zero
padding (tiled overlap-save) and against :func:`numpy.pad` with ``mode="wrap"``
then ``padding="VALID"``.

Interleaved, median of ``--reps`` after a warm-up, ``--threads`` threads (default 2)
for fftconv's workers, BLAS and scipy.fft. Every output is compared with
fftconv's (relative L2). Results: ``benchmarks/results/modes.json``.
"""

from __future__ import annotations

import math

import _timing  # first: pins the thread count before numpy loads
import fftconv
import numpy as np
import scipy.fft
import scipy.ndimage
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view

try:
    import cv2
except ImportError:  # pragma: no cover - optional peer
    cv2 = None


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=5, quick_reps=3, max_seconds=20.0)
    parser.add_argument("--skip-ndimage", action="store_true",
                        help="leave scipy.ndimage out of the blur (its direct 61x61 takes about a minute)")
    return _timing.parse_args(parser, argv)


def gaussian(size: int, sigma: float) -> np.ndarray:
    g = np.exp(-0.5 * ((np.arange(size) - size // 2) / sigma) ** 2)
    k = np.outer(g, g)
    return (k / k.sum()).astype(np.float32)


# -- (a) the blur ---------------------------------------------------------------------------

def blur_candidates(x, k, threads, skip_ndimage):
    """``x``: (1, H, W, C) float32; ``k``: (K, K) float32."""
    c, half = x.shape[-1], k.shape[0] // 2
    w = np.repeat(k[..., None, None], c, axis=2)  # (K, K, C, 1): one kernel per channel
    opts = dict(workers=threads)
    cands = [
        _timing.Candidate("fftconv-reflect", lambda: fftconv.depthwise_conv2d(
            x, w, padding="SAME", padding_mode="reflect", **opts)),
        _timing.Candidate("fftconv-zeros", lambda: fftconv.depthwise_conv2d(x, w, padding="SAME", **opts)),
        _timing.Candidate("np.pad+fftconv", lambda: fftconv.depthwise_conv2d(
            np.pad(x, ((0, 0), (half, half), (half, half), (0, 0)), mode="reflect"), w, **opts)),
    ]
    if not skip_ndimage:
        image = x[0]
        per_channel = lambda: np.stack([scipy.ndimage.correlate(image[..., i], k, mode="mirror")  # noqa: E731
                                        for i in range(c)], axis=-1)[None]
        volume = lambda: scipy.ndimage.correlate(image, k[..., None], mode="mirror")[None]  # noqa: E731
        cands.append(_timing.Candidate("ndimage", _fastest_of(per_channel, volume)))
    if cv2 is not None:
        cv2.setNumThreads(threads)
        cands.append(_timing.Candidate("opencv", lambda: cv2.filter2D(
            x[0], -1, k, borderType=cv2.BORDER_REFLECT_101)[None]))
    return cands


def _fastest_of(*fns):
    """A callable that, on its first (warm-up) call, times each of ``fns`` once and keeps the fastest."""
    chosen = []

    def call():
        if chosen:
            return chosen[0]()
        best = None
        for fn in fns:
            t, out = _timing._timed_call(_timing.Candidate("probe", fn))
            if best is None or t < best[0]:
                best = (t, fn, out)
        chosen.append(best[1])
        call.name = best[1].__name__
        return best[2]
    return call


# -- (b) the matched filter ---------------------------------------------------------------------

def chirp(taps: int) -> np.ndarray:
    t = np.arange(taps) / taps
    return np.exp(1j * np.pi * 0.4 * taps * t ** 2).astype(np.complex64)  # 0 to 0.4 cycles/sample


def c2c_overlap_save(x, template, fft_length, threads):
    """Full correlation ``y[i] = sum_j x[i + j - (k - 1)] template[j]`` by overlap-save with c2c FFTs."""
    k = len(template)
    step = fft_length - k + 1
    n_out = len(x) + k - 1
    tiles = -(-n_out // step)
    padded = np.zeros(tiles * step + k - 1, x.dtype)
    padded[k - 1:k - 1 + len(x)] = x  # k - 1 zeros before (full output), zeros after
    spectrum = scipy.fft.fft(template[::-1], fft_length)  # correlation = convolution with the reversal
    blocks = sliding_window_view(padded, fft_length)[::step]
    with scipy.fft.set_workers(threads):
        y = scipy.fft.ifft(scipy.fft.fft(blocks, axis=-1) * spectrum, axis=-1)
    return y[:, k - 1:].reshape(-1)[:n_out]


def matched_candidates(x, template, threads):
    k = len(template)
    w = template[:, None, None]
    x3 = x[None, :, None]
    pads = [(k - 1, k - 1)]
    bank = fftconv.FilterBank(w, padding=pads, workers=threads)
    bank(x3)
    plan = bank.plan_for(x3.shape, x3.dtype)
    fft_length = plan.layout.fft_shape[0] if plan.layout is not None else 2 ** math.ceil(math.log2(4 * k))
    reversed_template = np.ascontiguousarray(template[::-1])

    def scipy_call(fn):
        def run():
            with scipy.fft.set_workers(threads):
                return fn(x, reversed_template, mode="full")
        return run

    cands = [
        _timing.Candidate("fftconv", lambda: fftconv.conv1d(x3, w, padding=pads, workers=threads)[0, :, 0]),
        _timing.Candidate("fftconv-bank", lambda: bank(x3)[0, :, 0]),
        _timing.Candidate("scipy-oa", scipy_call(scipy.signal.oaconvolve)),
        _timing.Candidate("scipy-fft", scipy_call(scipy.signal.fftconvolve)),
        _timing.Candidate("c2c-sketch", lambda: c2c_overlap_save(x, template, fft_length, threads)),
    ]
    return cands, plan


# -- (c) wrap mode ---------------------------------------------------------------------------

#: ``(name, input shape, filters shape)``: SAME, float32.
WRAP_LAYERS = [("image-512-k101", (1, 512, 512, 1), (101, 101, 1, 1)),
               ("layer-64-k64", (4, 64, 64, 16), (64, 64, 16, 16)),
               ("bank-1024-k63", (1, 1024, 1024, 1), (63, 63, 1, 4))]


def wrap_candidates(x, w, threads):
    pads = [(0, 0), *[((k - 1) // 2, k // 2) for k in w.shape[:2]], (0, 0)]
    return [
        _timing.Candidate("wrap", lambda: fftconv.conv2d(x, w, padding="SAME", padding_mode="wrap",
                                                         workers=threads)),
        _timing.Candidate("zeros", lambda: fftconv.conv2d(x, w, padding="SAME", workers=threads)),
        _timing.Candidate("np.pad+VALID", lambda: fftconv.conv2d(np.pad(x, pads, mode="wrap"), w,
                                                                 workers=threads)),
    ]


def run_wrap(args, rng):
    results = {}
    for name, x_shape, w_shape in WRAP_LAYERS:
        x = rng.standard_normal(x_shape).astype(np.float32)
        w = rng.standard_normal(w_shape).astype(np.float32)
        timed = _timing.time_interleaved(wrap_candidates(x, w, args.threads), args.reps, args.max_seconds,
                                         desc=name, keep_outputs=True)
        errors = _timing.check_outputs({k: v for k, v in timed.items() if k != "zeros"}, "wrap")
        plan = fftconv.plan_conv2d(x_shape, w_shape, padding="SAME", padding_mode="wrap", workers=args.threads)
        results[name] = {"x": x_shape, "w": w_shape, "circular": bool(plan.layout.circular),
                         "errors": errors, "timings": {k: t.as_dict() for k, t in timed.items()},
                         "rows": [{"name": f"{name}: {k}", "ms": t.median,
                                   "ratio": _timing.ratio(t.median, timed["wrap"].median),
                                   "err": errors.get(k), "reps": len(t.times)} for k, t in timed.items()]}
    rows = [row for r in results.values() for row in r.pop("rows")]
    _timing.print_table(rows, [("name", "layer: candidate", ""), ("ms", "median ms", "ms"),
                               ("ratio", "x wrap", ""), ("err", "rel. L2 vs wrap", ""), ("reps", "timed", "")],
                        f"(c) padding_mode='wrap' (circular layout where the plan takes it: "
                        f"{', '.join(n for n, r in results.items() if r['circular'])}), {args.threads} threads")
    return results


# -- main ------------------------------------------------------------------------------------

def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    h, w_, taps, n = (500, 750, 4001, 200_000) if args.quick else (2000, 3000, 4001, 1_000_000)

    image = rng.random((1, h, w_, 3), dtype=np.float32)
    k = gaussian(61, 10.0)
    blur = _timing.time_interleaved(blur_candidates(image, k, args.threads, args.skip_ndimage), args.reps,
                                    args.max_seconds, desc="blur", keep_outputs=True)
    blur_errors = _timing.check_outputs(blur, "fftconv-reflect")
    t_ref = blur["fftconv-reflect"].median
    rows = [{"name": name, "ms": t.median, "ratio": _timing.ratio(t.median, t_ref),
             "err": blur_errors.get(name), "reps": len(t.times)} for name, t in blur.items()]
    blur_plan = fftconv.plan_depthwise_conv2d(image.shape, (61, 61, 3, 1), padding="SAME",
                                              padding_mode="reflect", workers=args.threads)
    _timing.print_table(rows, [("name", "candidate", ""), ("ms", "median ms", "ms"),
                               ("ratio", "x fftconv-reflect", ""), ("err", "rel. L2 vs fftconv", ""),
                               ("reps", "timed", "")],
                        f"(a) reflect-mode 61x61 Gaussian blur of a 1x{h}x{w_}x3 float32 image, "
                        f"{args.threads} threads (fftconv plan: {blur_plan.method})")

    template = chirp(taps)
    signal = ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)).astype(np.complex64)
    signal[n // 3:n // 3 + taps] += template  # one echo to find
    cands, mf_plan = matched_candidates(signal, np.conj(template), args.threads)
    mf = _timing.time_interleaved(cands, args.reps, args.max_seconds, desc="matched filter", keep_outputs=True)
    mf_errors = {name: _complex_error(t.output, mf["fftconv"].output) for name, t in mf.items()}
    t_fc = mf["fftconv"].median
    best_scipy = min(("scipy-oa", "scipy-fft"), key=lambda c: mf[c].median)
    rows = [{"name": name, "ms": t.median, "ratio": _timing.ratio(t.median, t_fc), "err": mf_errors.get(name),
             "reps": len(t.times)} for name, t in mf.items()]
    _timing.print_table(rows, [("name", "candidate", ""), ("ms", "median ms", "ms"),
                               ("ratio", "x fftconv", ""), ("err", "rel. L2 vs fftconv", ""),
                               ("reps", "timed", "")],
                        f"(b) complex matched filter: {n} complex64 samples * {taps}-tap chirp, full output, "
                        f"{args.threads} threads")
    print(f"\nbest scipy ({best_scipy}) / fftconv: {_timing.ratio(mf[best_scipy].median, t_fc):.2f}   "
          f"best scipy / fftconv-bank: {_timing.ratio(mf[best_scipy].median, mf['fftconv-bank'].median):.2f}   "
          f"fftconv / c2c-sketch: {_timing.ratio(t_fc, mf['c2c-sketch'].median):.2f}")
    print(f"echo found at {int(np.argmax(np.abs(mf['fftconv'].output))) - (taps - 1)} (planted at {n // 3})")
    print(f"\nmatched-filter plan:\n{mf_plan!r}")
    wrap = run_wrap(args, rng)
    path = _timing.write_json("modes", {
        "reps": args.reps, "quick": args.quick,
        "blur": {"shape": image.shape, "kernel": 61, "plan": repr(blur_plan), "relative_errors": blur_errors,
                 "timings": {name: t.as_dict() for name, t in blur.items()}},
        "matched_filter": {"samples": n, "taps": taps, "plan": repr(mf_plan), "relative_errors": mf_errors,
                           "best_scipy": best_scipy,
                           "timings": {name: t.as_dict() for name, t in mf.items()}},
        "wrap": wrap,
    }, args.out, args.threads)
    print(f"\nwrote {path}")


def _complex_error(y, reference) -> float:
    if y is None or reference is None or np.shape(y) != np.shape(reference):
        return math.nan
    return float(np.linalg.norm(np.asarray(y, np.complex128) - reference) / np.linalg.norm(reference))


if __name__ == "__main__":
    main()
