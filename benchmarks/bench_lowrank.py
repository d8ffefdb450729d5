#!/usr/bin/env python3
"""Issue 26's targets: low-rank kernels under ``auto`` against OpenCV and fftconv's own FFT method.

Run (no BLAS-bound candidate here, but as the other scripts)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_lowrank.py
    python benchmarks/bench_lowrank.py --quick           # 1024x1024 images, a 64^3 volume
    python benchmarks/bench_lowrank.py --volume 256      # the issue's 256^3 volume (slow)

OpenCV (``pip install opencv-python-headless``, a benchmark extra only) is
optional: without it its columns are empty. Every workload is float32,
``padding="SAME"``, zero borders (OpenCV: ``BORDER_CONSTANT``):

(a) a 31x31 Gaussian (sigma 5) on a 2048x2048 image: ``auto`` (a one-shot
    ``conv2d`` call; the rank test's answer is kept with the filters' content,
    as in any loop of calls), ``method="lowrank"``, ``method="fft"``,
    ``cv2.filter2D``, and ``cv2.sepFilter2D`` given the exact 1-D factors (what
    an expert would call). Targets: ``auto`` at least 3x ``filter2D`` and at
    least 0.8x ``sepFilter2D``.
(b) a 25x25 box, a Gabor filter (31x31, sigma 6, diagonal, wavelength 7 pixels:
    rank 2; a wavelength of 8 puts exact zeros on the grid, where its two terms
    cancel, and ``auto`` then leaves it to the other methods) and a difference of
    Gaussians (31x31, sigmas 3 and 4.8: rank 2) on the same image: ``auto``
    against the best of ``filter2D`` and ``method="fft"``. Target: 2x.
(c) a 15x15x15 Gaussian on a ``--volume``-cubed volume (default 128; the issue
    asks 256): ``auto`` against ``method="fft"``. Target: 3x.
(d) full-rank kernels (31x31 standard normal), on 2048x2048 and 512x512
    images: ``auto`` with new filters at every call (so the rank test runs at
    every call where it runs at all) against ``auto`` with the refinement at
    binding switched off (``ConvPlan._refined`` returning the plan: today's
    ``auto``), also with new filters at every call. Target: no slower (the
    rank test within 2% of a call). The rank test's own time
    (:meth:`LowRankMethod.refine` on those filters) is reported beside it.

Every output is compared with a float64 FFT result (relative L2). Interleaved,
median of ``--reps`` after a warm-up; ``--threads`` threads (default 2) for
fftconv and OpenCV. Results: ``benchmarks/results/lowrank.json``.
"""

from __future__ import annotations

import math

import _timing  # first: pins the thread count before numpy loads
import fftconv
import numpy as np
from _timing import Candidate

from fftconv._engine import constants as _constants
from fftconv._engine.plan import ConvPlan


def _g1(k, sigma):
    a = np.exp(-0.5 * ((np.arange(k) - k // 2) / sigma) ** 2)
    return a / a.sum()


def kernels():
    """``name -> (2-D kernel, exact 1-D factors or None)``, float32."""
    k = 31
    yy, xx = np.mgrid[-(k // 2):k // 2 + 1, -(k // 2):k // 2 + 1]
    g = _g1(k, 5.0)
    out = {"gauss31": (np.outer(g, g), (g, g)),
           "box25": (np.full((25, 25), 1 / 625), (np.full(25, 1 / 25), np.full(25, 1 / 25))),
           "gabor31": (np.exp(-(xx ** 2 + yy ** 2) / (2 * 6.0 ** 2)) * np.cos(2 * np.pi * (xx + yy) / 7), None),
           "dog31": (np.outer(_g1(k, 3.0), _g1(k, 3.0)) - np.outer(_g1(k, 4.8), _g1(k, 4.8)), None)}
    return {name: (w.astype(np.float32), None if f is None else tuple(v.astype(np.float32) for v in f))
            for name, (w, f) in out.items()}


def image_candidates(cv2, x, w, factors, threads):
    w4 = w[:, :, None, None]
    img = x[0, :, :, 0]
    cands = [
        Candidate("auto", lambda: fftconv.conv2d(x, w4, padding="SAME", workers=threads)),
        Candidate("lowrank", lambda: fftconv.conv2d(x, w4, padding="SAME", method="lowrank", workers=threads)),
        Candidate("fft", lambda: fftconv.conv2d(x, w4, padding="SAME", method="fft", workers=threads)),
    ]
    if cv2 is not None:
        to_ref = lambda y: y[None, :, :, None]  # noqa: E731
        cands.append(Candidate("filter2D", lambda: cv2.filter2D(img, -1, w, borderType=cv2.BORDER_CONSTANT),
                               to_reference=to_ref))
        if factors is not None:
            fy, fx = factors
            cands.append(Candidate("sepFilter2D", lambda: cv2.sepFilter2D(img, -1, fx, fy,
                                                                          borderType=cv2.BORDER_CONSTANT),
                                   to_reference=to_ref))
    return cands


def reference(x, w4):
    return fftconv.conv2d(x.astype(np.float64), w4.astype(np.float64), padding="SAME", method="fft")


def describe_auto(x, w4, threads):
    bound = fftconv.plan_conv2d(x.shape, w4.shape, padding="SAME", workers=threads).bind(w4)
    lines = [line.strip() for line in repr(bound).splitlines() if line.strip().startswith("lowrank")]
    return bound.plan.method, lines[0] if lines else ""


def main(argv=None):
    parser = _timing.common_parser(__doc__.split("\n\n")[0], reps=7, quick_reps=3, max_seconds=20.0)
    parser.add_argument("--volume", type=int, default=None, help="edge of the 3-D volume (default 128, 64 quick)")
    args = _timing.parse_args(parser, argv)
    threads = args.threads
    n = 1024 if args.quick else 2048
    vol = args.volume or (64 if args.quick else 128)
    from _peers import cv2_module
    cv2 = cv2_module(threads)
    rng = np.random.default_rng(0)
    results, rows = {}, []
    x = rng.standard_normal((1, n, n, 1)).astype(np.float32)

    # (a), (b)
    for name, (w, factors) in kernels().items():
        w4 = w[:, :, None, None]
        timings = _timing.time_interleaved(image_candidates(cv2, x, w, factors, threads), args.reps,
                                           args.max_seconds, desc=name, keep_outputs=True)
        ref = reference(x, w4)
        errors = {k: _timing.relative_error(t.output, ref) for k, t in timings.items()}
        med = {k: t.median for k, t in timings.items()}
        method, why = describe_auto(x, w4, threads)
        best_other = _timing.fastest(med.get("filter2D", math.nan), med["fft"])
        row = dict(workload=f"{name} {n}x{n}", auto_ran=method, **{f"{k}_ms": v * 1e3 for k, v in med.items()},
                   auto_vs_filter2D=_timing.ratio(med.get("filter2D", math.nan), med["auto"]),
                   auto_vs_sepFilter2D=_timing.ratio(med.get("sepFilter2D", math.nan), med["auto"]),
                   auto_vs_best_of_filter2D_fft=_timing.ratio(best_other, med["auto"]),
                   errors=errors, why=why)
        rows.append(row)
        results[name] = dict(row, timings={k: t.as_dict() for k, t in timings.items()})

    # (c)
    g = _g1(15, 2.5)
    w3 = np.einsum("i,j,k->ijk", g, g, g).astype(np.float32)[..., None, None]
    v = rng.standard_normal((1, vol, vol, vol, 1)).astype(np.float32)
    cands = [Candidate("auto", lambda: fftconv.conv3d(v, w3, padding="SAME", workers=threads)),
             Candidate("fft", lambda: fftconv.conv3d(v, w3, padding="SAME", method="fft", workers=threads))]
    timings = _timing.time_interleaved(cands, args.reps, args.max_seconds, desc="gauss15^3", keep_outputs=True)
    ref = fftconv.conv3d(v.astype(np.float64), w3.astype(np.float64), padding="SAME", method="fft")
    bound = fftconv.plan_conv3d(v.shape, w3.shape, padding="SAME", workers=threads).bind(w3)
    med = {k: t.median for k, t in timings.items()}
    row = dict(workload=f"gauss15^3 {vol}^3", auto_ran=bound.plan.method,
               **{f"{k}_ms": t * 1e3 for k, t in med.items()},
               auto_vs_fft=_timing.ratio(med["fft"], med["auto"]),
               errors={k: _timing.relative_error(t.output, ref) for k, t in timings.items()})
    rows.append(row)
    results["gauss15^3"] = dict(row, timings={k: t.as_dict() for k, t in timings.items()})

    # (d) full-rank kernels, new filters at every call
    method = fftconv.METHODS["lowrank"]
    constants = _constants.load_constants()
    for size in (n, 512):
        xs = rng.standard_normal((1, size, size, 1)).astype(np.float32)
        plan = fftconv.plan_conv2d(xs.shape, (31, 31, 1, 1), padding="SAME", workers=threads)
        today = plan.method
        fresh = {"w": None}

        def new_filters():
            fresh["w"] = rng.standard_normal((31, 31, 1, 1)).astype(np.float32)

        refined = ConvPlan._refined

        def with_test():
            ConvPlan._refined = refined
            new_filters()

        def without_test():
            ConvPlan._refined = lambda self, w: self
            new_filters()

        one_shot = lambda: fftconv.conv2d(xs, fresh["w"], padding="SAME", workers=threads)  # noqa: E731
        cands = [Candidate("auto", one_shot, setup=with_test),
                 Candidate("auto-untested", one_shot, setup=without_test)]
        geom, settings = plan.run_geometry, plan.settings["lowrank"]
        screen = method.screen(geom, settings, 4, constants, budget=plan.estimates[today], workers=plan.workers,
                               backend=plan.backend)
        cands.append(Candidate("rank-test", lambda: method.refine(
            geom, fresh["w"], settings, 4, constants, budget=plan.estimates[today], workers=plan.workers,
            backend=plan.backend), setup=new_filters))
        try:
            timings = _timing.time_interleaved(cands, max(args.reps, 9), args.max_seconds, desc=f"full-rank {size}")
        finally:
            ConvPlan._refined = refined
        med = {k: t.median for k, t in timings.items()}
        row = dict(workload=f"random31 {size}x{size}", auto_ran=today,
                   **{f"{k}_ms": t * 1e3 for k, t in med.items()},
                   auto_over_untested=_timing.ratio(med["auto"], med["auto-untested"]),
                   rank_test_share=(_timing.ratio(med["rank-test"], med["auto-untested"])
                                    if screen is None else 0.0),
                   why=screen or "rank test runs at binding")
        rows.append(row)
        results[f"random31-{size}"] = dict(row, timings={k: t.as_dict() for k, t in timings.items()})

    for row in rows:
        print(", ".join(f"{k}={v:.3g}" if isinstance(v, float) else
                        (f"{k}={{" + ", ".join(f"{a}: {b:.1e}" for a, b in v.items()) + "}"
                         if isinstance(v, dict) else f"{k}={v}") for k, v in row.items()))
    path = _timing.write_json("lowrank", {"image": n, "volume": vol,
                                          "opencv": None if cv2 is None else cv2.__version__,
                                          "results": results}, args.out, threads)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
