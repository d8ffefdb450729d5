#!/usr/bin/env python3
"""Issue 28's targets: streaming FIR filtering with :class:`fftconv.StreamConvolver`.

Run::

    python benchmarks/bench_stream.py                  # 10 s of 48 kHz stereo, 5 repeats
    python benchmarks/bench_stream.py --quick          # 2 s of audio, 3 repeats
    python benchmarks/bench_stream.py --sections realtime --reps 9

Three sections (``--sections realtime,lfilter,throughput`` picks some); the
signal is ``--seconds`` (10; ``--quick``: 2) of white noise at 48 kHz, stereo.
A fourth, ``costs``, is not run by default: it measures what the stream
planner's cost model (``fftconv._ops.stream.STREAM_COSTS``) counts and prints
the fitted constants beside the shipped ones.

``realtime``
    float32 through a synthetic stereo room impulse response of 2 s (96,000
    taps per channel, decaying noise), fed in blocks of 256 and of 1,024
    samples: ``fftconv.StreamConvolver`` (``block_size`` = the block) and, where
    installed, pedalboard's ``Convolution`` (JUCE's non-uniform partitioned
    convolution; ``process(block, reset=False)`` per block, channels first, as a
    pedalboard user streams). Offline references: one ``fftconv.convolve`` and one
    ``scipy.signal.oaconvolve`` of the whole signal, one pedalboard ``process``.
    Figure: x real time (signal seconds / wall seconds). Target: the stream in
    blocks of 256 at least 100x real time.
``lfilter``
    float64, one filter of 4,095 taps for both channels, blocks of 1,024: the
    stream against ``scipy.signal.lfilter(b, 1, block, axis=0, zi=zi)`` carrying
    ``zi`` from block to block (scipy's way to filter a stream), and
    ``fftconv.firfilter`` the same way. Target: lfilter / stream >= 20.
``throughput``
    The realtime section's signal and impulse response in large blocks (48,000
    and 65,536 samples) against one offline ``fftconv.convolve`` of the whole
    signal (its full output). Target: stream / offline <= 1.5.

Each candidate runs the whole signal once per repeat, from a new stream
(reset outside the timing); interleaved rounds in a shuffled order, median of
``--reps`` after a warm-up (``_timing.py``). ``--threads`` (default 2) for
fftconv's ``workers`` and scipy's ``set_workers`` (pedalboard picks its own).
Every stream's output is compared with the offline result (relative L2;
pedalboard's is not, as it normalises the impulse response). Results:
``benchmarks/results/stream.json``.
"""

from __future__ import annotations

import importlib.util

import _timing  # first: pins the thread count before numpy loads
import fftconv
import numpy as np
import scipy.fft
import scipy.signal

SECTIONS = ("realtime", "lfilter", "throughput")
ALL_SECTIONS = (*SECTIONS, "costs")
RATE = 48000
IR_SECONDS = 2.0
REALTIME_BLOCKS = (256, 1024)
LFILTER_TAPS, LFILTER_BLOCK = 4095, 1024
LARGE_BLOCKS = (48000, 65536)
TARGETS = {"realtime": 100.0, "lfilter": 20.0, "throughput": 1.5}


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=5, quick_reps=3, max_seconds=60.0)
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated, of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="signal length in seconds (default 10; 2 with --quick)")
    args = _timing.parse_args(parser, argv)
    args.sections = [s for s in args.sections.split(",") if s]
    unknown = set(args.sections) - set(ALL_SECTIONS)
    if unknown:
        parser.error(f"--sections: unknown {sorted(unknown)}; choose from {', '.join(ALL_SECTIONS)}")
    if args.seconds is None:
        args.seconds = 2.0 if args.quick else 10.0
    return args


def room_response(rng, seconds=IR_SECONDS, rate=RATE, channels=2):
    """A synthetic room: a direct sound, then noise decaying by 60 dB over ``seconds``."""
    t = np.arange(int(seconds * rate)) / rate
    ir = rng.standard_normal((t.size, channels)) * 10 ** (-3 * t / seconds)[:, None]
    ir[0] = 1.0
    return (ir / np.abs(ir).sum(axis=0)).astype(np.float32)


def blocks_of(x, n):
    return [x[i:i + n] for i in range(0, x.shape[0], n)]


def stream_candidate(name, filters, blocks, threads, dtype):
    """A candidate filtering every block through one convolver, from a new stream each run."""
    conv = fftconv.StreamConvolver(filters, block_size=blocks[0].shape[0], dtype=dtype, workers=threads)

    def run():
        return np.concatenate([conv(b) for b in blocks])
    return _timing.Candidate(name, run, setup=conv.reset), conv


def pedalboard_candidates(ir, x, block_sizes):
    """pedalboard's Convolution streamed per block (``reset=False``) and in one call, if installed."""
    if importlib.util.find_spec("pedalboard") is None:
        return []
    import pedalboard

    cands = []
    for n in block_sizes:
        conv = pedalboard.Convolution(np.ascontiguousarray(ir.T), sample_rate=RATE)
        parts = [np.ascontiguousarray(b.T) for b in blocks_of(x, n)]

        def run(conv=conv, parts=parts, n=n):
            return [conv.process(p, RATE, buffer_size=n, reset=False) for p in parts]
        cands.append(_timing.Candidate(f"pedalboard-{n}", run, setup=conv.reset))
    whole = pedalboard.Convolution(np.ascontiguousarray(ir.T), sample_rate=RATE)
    xt = np.ascontiguousarray(x.T)
    cands.append(_timing.Candidate("pedalboard-offline", lambda: whole.process(xt, RATE, reset=True)))
    return cands


def realtime(args, rng, x, ir):
    seconds = x.shape[0] / RATE
    cands, streams = [], {}
    for n in REALTIME_BLOCKS:
        cand, conv = stream_candidate(f"stream-{n}", ir, blocks_of(x, n), args.threads, np.float32)
        cands.append(cand)
        streams[cand.name] = conv
    cands.append(_timing.Candidate("fftconv.convolve", lambda: fftconv.convolve(x, ir, axes=0, workers=args.threads)))

    def oaconvolve():
        with scipy.fft.set_workers(args.threads):
            return scipy.signal.oaconvolve(x, ir, axes=0)
    cands.append(_timing.Candidate("oaconvolve", oaconvolve))
    cands += pedalboard_candidates(ir, x, REALTIME_BLOCKS)
    times = _timing.time_interleaved(cands, args.reps, args.max_seconds, desc="realtime", keep_outputs=True)
    reference = times["fftconv.convolve"].output[:x.shape[0]]
    rows = []
    for name, t in times.items():
        error = _timing.relative_error(t.output, reference) if name.startswith("stream") else None
        plan = repr(streams[name].plan) if name in streams else ""
        rows.append({"candidate": name, "seconds": t.median, "x_realtime": seconds / t.median,
                     "error": error, "plan": plan, "times": t.times})
    return rows


def lfilter_section(args, rng, x):
    b = scipy.signal.firwin(LFILTER_TAPS, 0.2)
    x = x.astype(np.float64)
    blocks = blocks_of(x, LFILTER_BLOCK)
    stream, conv = stream_candidate("stream", b, blocks, args.threads, np.float64)

    def with_zi(fn):
        def run():
            zi, out = np.zeros((LFILTER_TAPS - 1, x.shape[1])), []
            for block in blocks:
                y, zi = fn(b, 1.0, block, axis=0, zi=zi) if fn is scipy.signal.lfilter else fn(b, block, axis=0, zi=zi)
                out.append(y)
            return np.concatenate(out)
        return run
    cands = [stream, _timing.Candidate("lfilter-zi", with_zi(scipy.signal.lfilter)),
             _timing.Candidate("firfilter-zi", with_zi(fftconv.firfilter))]
    times = _timing.time_interleaved(cands, args.reps, args.max_seconds, desc="lfilter", keep_outputs=True)
    errors = _timing.check_outputs(times, "lfilter-zi", tolerance=1e-10)
    return [{"candidate": name, "seconds": t.median, "x_realtime": x.shape[0] / RATE / t.median,
             "vs_lfilter": times["lfilter-zi"].median / t.median, "error": errors.get(name),
             "plan": repr(conv.plan) if name == "stream" else "", "times": t.times}
            for name, t in times.items()]


def throughput(args, rng, x, ir):
    cands, streams = [], {}
    for n in LARGE_BLOCKS:
        cand, conv = stream_candidate(f"stream-{n}", ir, blocks_of(x, n), args.threads, np.float32)
        cands.append(cand)
        streams[cand.name] = conv
    cands.append(_timing.Candidate("fftconv.convolve", lambda: fftconv.convolve(x, ir, axes=0, workers=args.threads)))
    times = _timing.time_interleaved(cands, args.reps, args.max_seconds, desc="throughput", keep_outputs=True)
    offline = times["fftconv.convolve"]
    reference = offline.output[:x.shape[0]]
    return [{"candidate": name, "seconds": t.median, "x_realtime": x.shape[0] / RATE / t.median,
             "vs_offline": t.median / offline.median,
             "error": _timing.relative_error(t.output, reference) if name in streams else None,
             "plan": repr(streams[name].plan) if name in streams else "", "times": t.times}
            for name, t in times.items()]


def costs(args):
    """Fit the planner's constants: transforms of 2B points on 1, 2 and 8 lines (ducc0 or the default
    backend, one thread), the delay line's products, a numpy call, numpy.convolve; least squares on
    the medians of ``--reps`` interleaved calls, weighted to fit relative errors. Transforms of
    more than ``STREAM_COSTS["cache_bytes"]`` run slower per point (the model's ``cache_penalty``):
    those are printed, not fitted."""
    from fftconv._ops import stream as _stream

    rng = np.random.default_rng(0)
    fft = _stream._Transforms(fftconv.backends.DEFAULT_BACKEND, False, 1)
    cands, rows = [], []
    for lines in (1, 2, 8):
        for block in (64, 256, 1024, 4096, 16384, 65536):
            fitted = 2 * block * lines * 8 <= _stream.STREAM_COSTS["cache_bytes"]
            x = rng.standard_normal((1, 2 * block, lines)).astype(np.float32)
            spectra = np.empty((1, block + 1, lines), np.complex64)
            back = np.empty_like(x)
            cands.append(_timing.Candidate(f"fft {2 * block} x{lines}",
                                           lambda x=x, s=spectra, b=back, n=2 * block: (fft.forward(x, s),
                                                                                        fft.inverse(s, n, b))))
            rows.append(("fft" if fitted else "fft-large", 2 * block, lines))
    for bins in (129, 1025, 8193):
        line = (rng.standard_normal((4, bins, 2)) + 1j).astype(np.complex64)
        spectra, terms, y = line.copy(), np.empty_like(line), np.empty((1, bins, 2), np.complex64)
        cands.append(_timing.Candidate(f"products 4 x {bins} x2", lambda a=line, g=spectra, t=terms, y=y: (
            np.multiply(a, g, out=t), np.sum(t, axis=0, keepdims=True, out=y))))
        rows.append(("mac", 4 * bins * 2, 1))
    small = np.ones(4)
    cands.append(_timing.Candidate("numpy call", lambda: np.add(small, small, out=small)))
    rows.append(("op", 1, 1))
    for taps in (16, 256, 1024):
        for n in (1, 256):
            sig, h = rng.standard_normal(n + taps - 1), rng.standard_normal(taps)
            cands.append(_timing.Candidate(f"convolve {taps} taps x {n}", lambda s=sig, h=h: np.convolve(s, h, "valid")))
            rows.append(("direct", taps * n, 1))
    reps = max(args.reps, 20)

    def batch(fn, count=50):
        def run():
            for _ in range(count):
                fn()
        return run
    timed = _timing.time_interleaved([_timing.Candidate(c.name, batch(c.fn)) for c in cands], reps, desc="costs")
    seconds = {c.name: timed[c.name].median / 50 for c in cands}
    report = []
    fits = {}
    for kind, per in (("fft", lambda n, lines: 2 * n * np.log2(n) * lines), ("mac", lambda n, _: n),
                      ("direct", lambda n, _: n), ("op", lambda n, _: 0)):
        pts = [(per(n, lines), seconds[c.name]) for c, (k, n, lines) in zip(cands, rows) if k == kind]
        work, secs = np.array(pts).T
        if kind == "op":
            fits["op"] = float(np.median(secs))
            continue
        design = np.stack([np.ones_like(work), work], axis=1) / secs[:, None]  # relative errors
        (fixed, slope), *_ = np.linalg.lstsq(design, np.ones_like(secs), rcond=None)
        fits[kind] = (float(fixed), float(slope))
    shipped = _stream.STREAM_COSTS
    report = [{"constant": "fft_call", "fitted": fits["fft"][0] / 2, "shipped": shipped["fft_call"]},
              {"constant": "fft_point", "fitted": fits["fft"][1], "shipped": shipped["fft_point"]},
              {"constant": "mac", "fitted": fits["mac"][1], "shipped": shipped["mac"]},
              {"constant": "op", "fitted": fits["op"], "shipped": shipped["op"]},
              {"constant": "direct_call", "fitted": fits["direct"][0], "shipped": shipped["direct_call"]},
              {"constant": "direct_mac", "fitted": fits["direct"][1], "shipped": shipped["direct_mac"]}]
    for row in report:
        row["fitted"], row["shipped"] = f"{row['fitted']:.3g}", f"{row['shipped']:.3g}"
    raw = [{"case": name, "us": f"{secs * 1e6:.2f}"} for name, secs in seconds.items()]
    return report, raw


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((int(args.seconds * RATE), 2)).astype(np.float32)
    ir = room_response(rng)
    payload = {"reps": args.reps, "quick": args.quick, "seconds": args.seconds, "rate": RATE,
               "pedalboard": importlib.util.find_spec("pedalboard") is not None}
    if payload["pedalboard"]:
        import pedalboard
        payload["pedalboard_version"] = pedalboard.__version__
    columns = [("candidate", "candidate", ""), ("seconds", "median s", ""), ("x_realtime", "x real time", ""),
               ("error", "rel. L2 vs offline", "")]
    if "realtime" in args.sections:
        rows = realtime(args, rng, x, ir)
        _timing.print_table(rows, columns, f"realtime: {args.seconds:g} s of {RATE} Hz stereo float32 through "
                                           f"{ir.shape[0]} taps per channel, {args.threads} threads "
                                           f"(target: stream-256 >= {TARGETS['realtime']:g}x real time)")
        for row in rows:
            if row["plan"]:
                print(f"  {row['candidate']}: {row['plan']}")
        payload["realtime"] = rows
    if "lfilter" in args.sections:
        rows = lfilter_section(args, rng, x)
        _timing.print_table(rows, [*columns[:3], ("vs_lfilter", "lfilter / this", ""), ("error", "rel. L2", "")],
                            f"lfilter: {args.seconds:g} s stereo float64, {LFILTER_TAPS} taps, blocks of "
                            f"{LFILTER_BLOCK} (target: lfilter / stream >= {TARGETS['lfilter']:g})")
        print(f"  stream: {rows[0]['plan']}")
        payload["lfilter"] = rows
    if "throughput" in args.sections:
        rows = throughput(args, rng, x, ir)
        _timing.print_table(rows, [*columns[:3], ("vs_offline", "this / offline", ""), ("error", "rel. L2", "")],
                            f"throughput: large blocks vs one offline fftconv.convolve "
                            f"(target: stream / offline <= {TARGETS['throughput']:g})")
        payload["throughput"] = rows
    if "costs" in args.sections:
        report, raw = costs(args)
        _timing.print_table(raw, [("case", "case", ""), ("us", "median us", "")], "costs: the primitives")
        _timing.print_table(report, [("constant", "constant", ""), ("fitted", "fitted s", ""),
                                     ("shipped", "shipped s", "")],
                            "costs: the stream planner's constants (fitted here vs shipped)")
        payload["costs"] = {"fitted": report, "raw": raw}
    path = _timing.write_json("stream", payload, args.out, args.threads)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
