#!/usr/bin/env python3
"""Issue 17's targets: ``fftconv.convolve`` against scipy.signal on plain arrays.

Run (BLAS-timed work: without the machine's OpenBLAS core override, see SPEC)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_signal.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_signal.py --quick
    python benchmarks/bench_signal.py --sections small --reps 9

Three sections (``--sections images,signals,small`` picks some):

``images``
    2-D float64 images of 1024x1024 and 2048x2048 (``--quick``: 512x512) with
    square kernels of 15, 31, 61 and 101, ``mode="same"``:
    ``fftconv.convolve`` against ``scipy.signal.fftconvolve`` and
    ``scipy.signal.oaconvolve``. Target: the better scipy over fftconv >= 1.
``signals``
    1-D float64 signals of 1e5, 1e6 and 1e7 samples (``--quick``: 1e5 and 1e6)
    with 101, 1001 and 8001 taps, ``mode="full"``, the same candidates and target.
``small``
    Small problems, 1-D (1e3-1e4 samples, 11-101 taps) and 2-D (64x64 to
    256x256, kernels 3-15), ``mode="same"``: ``fftconv.convolve`` against
    ``scipy.signal.convolve`` with the method :func:`scipy.signal.choose_conv_method`
    picks (picked once, before timing, so scipy's own choosing is not timed;
    ``scipy.signal.convolve(method="auto")``, which chooses on every call, is
    shown too). Each timed sample is a batch of calls (see ``versus_scipy_pick``).
    Target: fftconv / scipy's pick <= 1.25.

The same kernel is used for every repeat, so fftconv's spectrum cache keeps its
transform, as it would in a user's loop (``fftconv`` column); ``fftconv-cold``
clears that cache before each call (outside the timing), so it pays the
kernel's transform every time, as scipy does.

fftconv gets ``workers=--threads``, scipy runs under
``scipy.fft.set_workers(--threads)`` (both default 2). Interleaved rounds in a
shuffled order, median of ``--reps`` after a warm-up (``_timing.py``). Every
output is checked against scipy's (relative L2). Results:
``benchmarks/results/signal.json``.
"""

from __future__ import annotations

import _timing  # first: pins the thread count before numpy loads
import fftconv
import numpy as np
import scipy.fft
import scipy.signal

SECTIONS = ("images", "signals", "small")
IMAGE_SIZES, IMAGE_KERNELS = (1024, 2048), (15, 31, 61, 101)
SIGNAL_SIZES, SIGNAL_TAPS = (10**5, 10**6, 10**7), (101, 1001, 8001)
SMALL = [(1000,), (11,)], [(1000,), (101,)], [(10000,), (11,)], [(10000,), (101,)], \
    [(64, 64), (3, 3)], [(64, 64), (9, 9)], [(128, 128), (3, 3)], [(128, 128), (5, 5)], \
    [(128, 128), (15, 15)], [(256, 256), (3, 3)], [(256, 256), (9, 9)]


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=5, quick_reps=3, max_seconds=20.0)
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated, of {', '.join(SECTIONS)} (default: all)")
    args = _timing.parse_args(parser, argv)
    args.sections = [s for s in args.sections.split(",") if s]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"--sections: unknown {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    return args


def scipy_call(fn, a, b, mode, threads, **kw):
    def run():
        with scipy.fft.set_workers(threads):
            return fn(a, b, mode=mode, **kw)
    return run


def versus_fft_peers(a, b, mode, threads, reps, max_seconds, desc):
    """fftconv.convolve against fftconvolve and oaconvolve: one row."""
    cands = [
        _timing.Candidate("fftconv", lambda: fftconv.convolve(a, b, mode, workers=threads)),
        _timing.Candidate("fftconv-cold", lambda: fftconv.convolve(a, b, mode, workers=threads),
                          setup=fftconv.clear_spectrum_cache),
        _timing.Candidate("scipy-fft", scipy_call(scipy.signal.fftconvolve, a, b, mode, threads)),
        _timing.Candidate("scipy-oa", scipy_call(scipy.signal.oaconvolve, a, b, mode, threads)),
    ]
    t = _timing.time_interleaved(cands, reps, max_seconds, desc=desc, keep_outputs=True)
    errors = _timing.check_outputs(t, "scipy-fft", tolerance=1e-10)
    best = _timing.fastest(t["scipy-fft"].median, t["scipy-oa"].median)
    return {"fftconv": t["fftconv"].median, "fftconv-cold": t["fftconv-cold"].median,
            "scipy-fft": t["scipy-fft"].median, "scipy-oa": t["scipy-oa"].median,
            "ratio": _timing.ratio(best, t["fftconv"].median),
            "ratio-cold": _timing.ratio(best, t["fftconv-cold"].median), "error": errors.get("fftconv"),
            "timings": {name: tm.as_dict() for name, tm in t.items()}}


#: Each timed sample of a small problem runs the call this long, at least (many calls in a row).
SAMPLE_SECONDS = 0.02


def batched(fn, number):
    """``fn`` called ``number`` times in a row; returns the last output."""
    def run():
        for _ in range(number - 1):
            fn()
        return fn()
    return run


def versus_scipy_pick(a, b, mode, threads, reps, max_seconds, desc):
    """fftconv.convolve against scipy.signal.convolve with choose_conv_method's pick: one row.

    A call of well under a millisecond would mostly time the cold caches that the harness's
    garbage collection before each sample leaves, so each sample runs a batch of calls (about
    :data:`SAMPLE_SECONDS` of them, the same number for every candidate) and is divided by it.
    """
    pick = scipy.signal.choose_conv_method(a, b, mode=mode)
    fns = {"fftconv": lambda: fftconv.convolve(a, b, mode, workers=threads),
           "scipy-pick": scipy_call(scipy.signal.convolve, a, b, mode, threads, method=pick),
           "scipy-auto": scipy_call(scipy.signal.convolve, a, b, mode, threads)}
    probe = min(_timing.median_time(fn, 3) for fn in fns.values())
    number = max(1, int(SAMPLE_SECONDS / max(probe, 1e-6)))
    cands = [_timing.Candidate(name, batched(fn, number)) for name, fn in fns.items()]
    t = _timing.time_interleaved(cands, reps, max_seconds, desc=desc, keep_outputs=True)
    errors = _timing.check_outputs(t, "scipy-pick", tolerance=1e-10)
    per_call = {name: tm.median / number for name, tm in t.items()}
    return {"pick": pick, "calls_per_sample": number, **per_call,
            "ratio": _timing.ratio(per_call["fftconv"], per_call["scipy-pick"]),
            "ratio-auto": _timing.ratio(per_call["fftconv"], per_call["scipy-auto"]),
            "error": errors.get("fftconv"), "timings": {name: tm.as_dict() for name, tm in t.items()}}


def plan_of(a, b, mode):
    """What fftconv's ``auto`` runs for this call: numpy's loop, or the engine's plan's method."""
    import os

    from fftconv._engine import constants as _constants
    from fftconv._ops import signal as _signal
    from fftconv._shapes.signal_layout import layout

    lay = layout(a.shape, b.shape, tuple(range(a.ndim)), mode, True)
    numpy_seconds = _signal._numpy_loop_seconds(lay, a, b, mode, "constant")
    floor = _signal._engine_floor(os.environ.get(_constants.ENV_VAR))
    if numpy_seconds is not None and numpy_seconds <= floor:
        return "numpy"
    run = _signal._Run(lay, ("auto", None, False, "auto", "constant"), False, False)
    x, w = run.input(b if lay.swapped else a), run.filters(a if lay.swapped else b)
    plan = run.plan(x, w)
    if numpy_seconds is not None and numpy_seconds < min(plan.estimates.values()):
        return "numpy"
    return plan.method


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    payload = {"reps": args.reps, "quick": args.quick}
    run = dict(threads=args.threads, reps=args.reps, max_seconds=args.max_seconds)
    columns = [("case", "case", ""), ("plan", "fftconv runs", ""), ("fftconv", "fftconv ms", "ms"),
               ("fftconv-cold", "cold kernel", "ms"), ("scipy-fft", "fftconvolve", "ms"),
               ("scipy-oa", "oaconvolve", "ms"), ("ratio", "best scipy / fftconv", ""),
               ("ratio-cold", "... / cold", ""), ("error", "rel. L2", "")]

    if "images" in args.sections:
        rows = []
        for size in ((512,) if args.quick else IMAGE_SIZES):
            image = rng.standard_normal((size, size))
            for k in IMAGE_KERNELS:
                kernel = rng.standard_normal((k, k))
                row = {"case": f"{size}x{size} * {k}x{k}", "plan": plan_of(image, kernel, "same"),
                       **versus_fft_peers(image, kernel, "same", desc=f"{size} k{k}", **run)}
                rows.append(row)
        _timing.print_table(rows, columns, f"images, float64, mode='same', {args.threads} threads "
                                           f"(target: best scipy / fftconv >= 1)")
        payload["images"] = rows

    if "signals" in args.sections:
        rows = []
        for n in (SIGNAL_SIZES[:2] if args.quick else SIGNAL_SIZES):
            signal = rng.standard_normal(n)
            for taps in SIGNAL_TAPS:
                h = scipy.signal.firwin(taps, 0.1)
                row = {"case": f"{n:.0e} * {taps}", "plan": plan_of(signal, h, "full"),
                       **versus_fft_peers(signal, h, "full", desc=f"{n:.0e} taps {taps}", **run)}
                rows.append(row)
        _timing.print_table(rows, columns, f"signals, float64, mode='full', {args.threads} threads "
                                           f"(target: best scipy / fftconv >= 1)")
        payload["signals"] = rows

    if "small" in args.sections:
        rows = []
        for s1, s2 in SMALL:
            a, b = rng.standard_normal(s1), rng.standard_normal(s2)
            case = f"{'x'.join(map(str, s1))} * {'x'.join(map(str, s2))}"
            rows.append({"case": case, "plan": plan_of(a, b, "same"),
                         **versus_scipy_pick(a, b, "same", desc=case, **run)})
        _timing.print_table(rows, [("case", "case", ""), ("plan", "fftconv runs", ""),
                                   ("pick", "scipy pick", ""),
                                   ("fftconv", "fftconv ms", "ms"), ("scipy-pick", "scipy pick ms", "ms"),
                                   ("scipy-auto", "scipy auto ms", "ms"), ("ratio", "fftconv / pick", ""),
                                   ("ratio-auto", "fftconv / scipy auto", ""), ("error", "rel. L2", "")],
                            f"small problems, float64, mode='same', {args.threads} threads "
                            f"(target: fftconv / scipy's pick <= 1.25)")
        payload["small"] = rows

    path = _timing.write_json("signal", payload, args.out, args.threads)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
