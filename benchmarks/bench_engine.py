#!/usr/bin/env python3
"""The transform engines side by side: bare batched transforms, and the FFT method on each backend.

Run::

    python benchmarks/bench_engine.py                      # both sections, 7 repeats
    python benchmarks/bench_engine.py --sections layers    # the FFT method only
    python benchmarks/bench_engine.py --quick

``transforms``
    Batched 2-D real transforms, float32, contiguous batch-first arrays
    ``(batch, n, n)``, transforms over the last two axes, ``--threads``
    threads, each writing into an output allocated once: scipy.fft's
    pocketfft (``rfft2``/``irfft2`` with ``workers``), ducc0 (``r2c``/``c2r``
    with ``nthreads``, where installed) and FFTW through pyFFTW's builders
    (``FFTW_MEASURE``, ``threads``; the planning time is reported apart, and
    the same transforms with ``FFTW_ESTIMATE`` plans). Sizes are those of
    issue 15's table.
``lines``
    Batched 1-D real transforms of lengths 2048 to 2**20 (about 2**21 points
    per batch), float32 and float64, on scipy and ducc0: nanoseconds per
    ``n log2 n``, and each length's rate over that of the shortest lines, the
    slowdown that :func:`fftconv.methods.pricing.line_slowdown` models (printed beside).
``layers``
    ``fftconv.conv2d(..., method="fft", backend=b)`` for every registered
    backend, on the large-kernel layers of ``../shared/bench/peers.py`` (kernels
    of 21 and up) and a depthwise and a stride-2 layer, timed side by side
    (filters' spectrum kept, as in a loop of one-shot calls). The geometric
    mean of each backend's time over scipy's is what
    :data:`fftconv._engine.constants.DEFAULT_BACKEND_RATIOS` records.

Interleaved in shuffled rounds, medians (``_timing.time_interleaved``).
Results: ``benchmarks/results/engine.json``.
"""

from __future__ import annotations

import _timing  # first: pins the thread count before numpy loads
import functools
import time

import numpy as np
import scipy.fft

import fftconv
from _peers import Workload, peer_workloads

Candidate = _timing.Candidate
SECTIONS = ("transforms", "lines", "layers")
LINE_LENGTHS = [2048, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576]
LINE_POINTS = 2**21
#: (batch, n): issue 15's table of bare transforms.
SIZES = [(128, 144), (256, 144), (64, 256), (288, 64), (1, 2048)]
QUICK_SIZES = [(128, 144), (288, 64)]
EXTRA_LAYERS = [
    Workload("depthwise-31x31-2x128", 2, 128, 32, 32, 31, groups=32, padding="SAME"),
    Workload("stride2-31x31", 2, 384, 4, 32, 31, stride=2, padding="SAME"),
]


def _transform_candidates(batch, n, threads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, n, n), dtype=np.float32)
    spec = scipy.fft.rfft2(x)
    out_c, out_r = np.empty_like(spec), np.empty_like(x)
    found = [Candidate("scipy-fwd", lambda: scipy.fft.rfft2(x, workers=threads)),
             Candidate("scipy-inv", lambda: scipy.fft.irfft2(spec, s=(n, n), workers=threads))]
    planning = {}
    if "ducc0" in fftconv.backends.available_backends():
        import ducc0

        found += [Candidate("ducc0-fwd", lambda: ducc0.fft.r2c(x, axes=(1, 2), out=out_c, nthreads=threads)),
                  Candidate("ducc0-inv", lambda: ducc0.fft.c2r(spec, axes=(1, 2), lastsize=n, out=out_r,
                                                               nthreads=threads, forward=False,
                                                               inorm=2))]
    if "pyfftw" in fftconv.backends.available_backends():
        import pyfftw

        for effort, tag in (("FFTW_MEASURE", "fftw"), ("FFTW_ESTIMATE", "fftw-est")):
            a = pyfftw.empty_aligned(x.shape, dtype=np.float32)
            a[...] = x
            t0 = time.perf_counter()
            fwd = pyfftw.builders.rfft2(a, threads=threads, planner_effort=effort, overwrite_input=False)
            b = pyfftw.empty_aligned(spec.shape, dtype=np.complex64)
            b[...] = spec
            inv = pyfftw.builders.irfft2(b, s=(n, n), threads=threads, planner_effort=effort)
            planning[tag] = time.perf_counter() - t0
            # FFTW's c2r overwrites its input: the spectrum is put back before each call, untimed
            restore = functools.partial(np.copyto, inv.input_array, spec)
            found += [Candidate(f"{tag}-fwd", fwd), Candidate(f"{tag}-inv", inv, setup=restore)]
    return found, planning


def _transforms(args) -> list:
    rows = []
    for batch, n in (QUICK_SIZES if args.quick else SIZES):
        candidates, planning = _transform_candidates(batch, n, args.threads)
        timed = _timing.time_interleaved(candidates, args.reps, desc=f"{batch}x{n}^2")
        row = {"case": f"{batch} x {n}^2", **{k: t.median for k, t in timed.items()},
               **{f"{k}-plan": v for k, v in planning.items()}}
        rows.append(row)
    columns = [("case", "batch x size", "")]
    for name in ("scipy", "ducc0", "fftw", "fftw-est"):
        columns += [(f"{name}-fwd", f"{name} fwd", "ms"), (f"{name}-inv", f"{name} inv", "ms")]
    columns += [("fftw-plan", "FFTW measure plan", "ms"), ("fftw-est-plan", "estimate plan", "ms")]
    _timing.print_table(rows, columns, "bare batched 2-D real transforms, float32, median ms")
    return rows


def _lines(args) -> list:
    from fftconv._engine.costs import line_slowdown

    lengths = LINE_LENGTHS[::2] if args.quick else LINE_LENGTHS
    engines = ["scipy"] + (["ducc0"] if "ducc0" in fftconv.backends.available_backends() else [])
    rows = []
    for dtype in (np.float32, np.float64):
        candidates, work = [], {}
        for n in lengths:
            x = np.random.default_rng(n).standard_normal((max(LINE_POINTS // n, 1), n)).astype(dtype)
            work[n] = x.size * np.log2(n)
            out = np.empty((x.shape[0], n // 2 + 1), dtype=np.result_type(dtype, np.complex64))
            candidates.append(Candidate(f"scipy-{n}", functools.partial(scipy.fft.rfft, x, axis=1,
                                                                        workers=args.threads)))
            if "ducc0" in engines:
                import ducc0

                candidates.append(Candidate(f"ducc0-{n}", functools.partial(
                    ducc0.fft.r2c, x, axes=(1,), out=out, nthreads=args.threads)))
        timed = _timing.time_interleaved(candidates, args.reps, desc=np.dtype(dtype).name)
        base = {e: timed[f"{e}-{lengths[0]}"].median / work[lengths[0]] for e in engines}
        for n in lengths:
            row = {"dtype": np.dtype(dtype).name, "length": n,
                   "model": line_slowdown(n, np.dtype(dtype).itemsize)}
            for e in engines:
                per = timed[f"{e}-{n}"].median / work[n]
                row[f"{e}-ns"], row[f"{e}-slowdown"] = 1e9 * per, per / base[e]
            rows.append(row)
    columns = [("dtype", "dtype", ""), ("length", "length", "")]
    for e in engines:
        columns += [(f"{e}-ns", f"{e} ns/(n log2 n)", ""), (f"{e}-slowdown", f"{e} slowdown", "")]
    columns.append(("model", "model", ""))
    _timing.print_table(rows, columns, "batched 1-D real transforms: rate against line length")
    return rows


def _layers(args) -> list:
    workloads = [wl for wl in peer_workloads() if wl.kernel >= 21] + EXTRA_LAYERS
    if args.quick:
        workloads = workloads[:2]
    names = fftconv.backends.available_backends()
    rows = []
    for wl in workloads:
        rng = np.random.default_rng(0)
        x = rng.standard_normal(wl.input_shape, dtype=np.float32)
        w = rng.standard_normal(wl.filters_shape, dtype=np.float32)
        kwargs = wl.conv_kwargs(args.threads)
        candidates = [Candidate(b, functools.partial(fftconv.conv2d, x, w, method="fft", backend=b,
                                                     **kwargs)) for b in names]
        timed = _timing.time_interleaved(candidates, args.reps, desc=wl.name, keep_outputs=True)
        _timing.check_outputs(timed, "scipy")
        row = {"workload": wl.name, **{b: timed[b].median for b in names}}
        row.update({f"{b}/scipy": row[b] / row["scipy"] for b in names})
        rows.append(row)
    geomean = {f"{b}/scipy": _timing.geometric_mean([r[f"{b}/scipy"] for r in rows]) for b in names}
    rows.append({"workload": "geometric mean", **geomean})
    columns = [("workload", "workload", "")] + [(b, f"{b} ms", "ms") for b in names] + \
        [(f"{b}/scipy", f"{b}/scipy", "") for b in names if b != "scipy"]
    _timing.print_table(rows, columns, "the FFT method on each backend, median ms")
    return rows


def main(argv=None) -> None:
    parser = _timing.common_parser(__doc__, reps=7)
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)}")
    args = _timing.parse_args(parser, argv)
    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"--sections: unknown {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    results = {}
    if "transforms" in sections:
        results["transforms"] = _transforms(args)
    if "lines" in sections:
        results["lines"] = _lines(args)
    if "layers" in sections:
        results["layers"] = _layers(args)
    path = _timing.write_json("engine", {"reps": args.reps, **results}, args.out, args.threads)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
