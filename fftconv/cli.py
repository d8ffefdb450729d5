"""The ``fftconv`` command line: ``info``, ``plan``, ``bench`` and ``calibrate``.

Run ``fftconv --help`` (or ``python -m fftconv --help``). Bad arguments print
a one-line error and exit with status 2; output cut short by a closed pipe
(``fftconv plan ... | head``) ends quietly.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

#: ``(name, input_shape, filters_shape, padding)`` timed by ``fftconv bench``.
BENCH_WORKLOADS = (
    ("cnn-3x3", (8, 64, 64, 32), (3, 3, 32, 64), "VALID"),
    ("cnn-5x5", (4, 96, 96, 32), (5, 5, 32, 32), "VALID"),
    ("crossover-9x9", (2, 128, 128, 16), (9, 9, 16, 16), "VALID"),
    ("filterbank-31x31", (4, 256, 256, 3), (31, 31, 3, 16), "VALID"),
    ("manychannel-21x21", (1, 128, 128, 32), (21, 21, 32, 32), "VALID"),
    ("deblur-101x101", (1, 512, 512, 1), (101, 101, 1, 1), "SAME"),
)
QUICK = ("cnn-3x3", "crossover-9x9", "filterbank-31x31", "deblur-101x101")
#: ``fftconv bench`` does not time a method predicted this many times slower than the other.
SKIP_FACTOR = 20.0


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` states each option's default, except where there is none to state."""

    def _get_help_string(self, action):
        if action.default in (None, False) or action.required or "%(default)" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, exit status 2, no traceback
        self.exit(2, f"{self.prog}: error: {message}\n")


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(v) for v in text.lower().replace(",", "x").split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a shape like 4x256x256x3; got {text!r}") from None
    if min(shape) < 0:
        raise argparse.ArgumentTypeError(f"sizes must be non-negative; got {text!r}")
    return shape


def _ints(text: str):
    values = _shape(text)
    return values[0] if len(values) == 1 else values


_PADDING_FORMS = ("SAME, VALID, one int for every side (2), an int per axis (2x3), or before:after "
                  "pairs per axis (1:2x0:3)")


def _padding(text: str):
    """``--padding``: SAME, VALID, ``P``, ``PxQ`` or ``A:BxC:D`` (before:after per axis)."""
    if text.upper() in ("SAME", "VALID"):
        return text.upper()
    try:
        axes = [tuple(int(v) for v in part.split(":")) for part in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {_PADDING_FORMS}; got {text!r}") from None
    if any(len(a) not in (1, 2) for a in axes) or min(min(a) for a in axes) < 0:
        raise argparse.ArgumentTypeError(f"expected {_PADDING_FORMS}, with non-negative ints; got {text!r}")
    if all(len(a) == 1 for a in axes):
        return axes[0][0] if len(axes) == 1 else tuple(a[0] for a in axes)
    return tuple(a if len(a) == 2 else (a[0], a[0]) for a in axes)


def _dtype(text: str) -> str:
    """``--dtype``: any dtype the functions take (floats, complex, integers, bool), as numpy names it."""
    from fftconv import _checks

    try:
        dtype = np.dtype(text.lower())
        _checks.check_dtype("--dtype", dtype)
    except TypeError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("`--dtype` must hold numbers", "expected")) from None
    return dtype.name


def _method(text: str) -> str:
    """``--method``, in any case, as ``--padding`` takes ``same``."""
    return text.lower()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fftconv", description="Fast large-kernel convolution: inspect, "
                     "plan, benchmark, calibrate and convolve zarr arrays out of core.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    info = sub.add_parser("info", help="versions, backends, workers and calibration in use")
    info.add_argument("--json", action="store_true", help="print as JSON")
    plan = sub.add_parser("plan", help="explain the plan for one convolution")
    plan.add_argument("--input", type=_shape, required=True, help="input shape, e.g. 4x256x256x3")
    plan.add_argument("--filters", type=_shape, required=True, help="filter shape, e.g. 31x31x3x16")
    plan.add_argument("--strides", type=_ints, default=1, help="e.g. 2 or 2x1")
    plan.add_argument("--dilations", type=_ints, default=1, help="e.g. 2 or 2x1")
    plan.add_argument("--padding", type=_padding, default="VALID",
                      help="SAME, VALID, 2 (every side), 2x3 (per axis) or 1:2x0:3 (before:after per axis); "
                           "any case")
    plan.add_argument("--data-format", default=None,
                      help="NWC, NHWC or NDHWC (the default, by the number of filter sizes), or NCW, NCHW, NCDHW")
    plan.add_argument("--groups", type=int, default=None,
                      help="channel groups (default: inferred as TensorFlow does, C_in over the filters' C_in)")
    plan.add_argument("--padding-mode", default="constant",
                      help="what fills the pads: constant (zeros), reflect, symmetric, wrap or edge")
    plan.add_argument("--dtype", type=_dtype, default="float32",
                      help="of the input and filters: float16, float32, float64, complex64, complex128, an "
                           "integer type or bool (integers and bool compute in float64, as conv2d does)")
    plan.add_argument("--method", type=_method, default="auto", help="auto, direct or fft (any case)")
    plan.add_argument("--data", nargs=2, metavar=("INPUT.npy", "FILTERS.npy"), default=None,
                      help="also explain what the guards would do with these arrays (numpy .npy files "
                           "of the shapes above)")
    bench = sub.add_parser("bench", help="time auto, direct and fft on a few shapes")
    bench.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    bench.add_argument("--reps", type=int, default=5,
                       help="rounds per workload, each calling every candidate once in a shuffled order; "
                            "the figures are medians over them")
    bench.add_argument("--no-peers", action="store_true", help="time fftconv's methods only")
    cal = sub.add_parser("calibrate", help="fit the planner's cost model to this machine")
    cal.add_argument("--repeats", type=int, default=3,
                     help="timed calls per grid point and method (the fastest counts)")
    cal.add_argument("--output", default=None,
                     help="where to save the JSON file (default: the cache dir, where every later run finds "
                          "it; elsewhere, point FFTCONV_CALIBRATION at it)")
    _add_convolve(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``fftconv`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return {"info": _info, "plan": _plan, "bench": _bench, "calibrate": _calibrate,
                "convolve": _convolve}[args.command](args)
    except (ValueError, TypeError) as exc:
        print(f"fftconv {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's final flush cannot fail
        return 1


def info() -> dict:
    """What ``fftconv info`` reports, as plain data."""
    import scipy

    import fftconv
    from fftconv._engine import constants as calibration
    from fftconv._runtime.switches import DISABLED
    from fftconv.backends import DEFAULT_BACKEND, available_backends

    path = calibration.calibration_path()
    try:
        import pyfftw
        pyfftw_version = pyfftw.__version__
    except ImportError:
        pyfftw_version = None
    return {
        "fftconv": fftconv.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
        "pyfftw": pyfftw_version, "backends": list(available_backends()), "disabled": sorted(DISABLED),
        "workers": fftconv.get_workers(), "calibration_file": str(path),
        "calibration": calibration.calibration_in_force(), "blas": blas_info(),
        "auto_backend": calibration.preferred_backend(available_backends(), DEFAULT_BACKEND),
        "backend_ratios": calibration.backend_ratios(),
        "constants": calibration.load_constants(),
    }


#: OpenBLAS kernels that use no AVX-512, though the CPU may have it.
_PRE_AVX512_CORES = ("haswell", "zen", "sandybridge")


def blas_info() -> dict | None:
    """numpy's BLAS as :mod:`threadpoolctl` reports it, or None without threadpoolctl.

    ``architecture`` is the kernel set OpenBLAS chose at load time.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    found = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    ours = [lib for lib in found if "numpy" in lib.get("filepath", "")] or found
    if not ours:
        return None
    return {key: ours[0].get(key) for key in ("internal_api", "version", "architecture", "num_threads")}


def blas_hint(architecture, cpu_flags, coretype=None) -> str | None:
    """Advice when OpenBLAS runs pre-AVX-512 kernels on a CPU that has AVX-512; ``coretype`` is the
    environment's ``OPENBLAS_CORETYPE``, which forces OpenBLAS's choice.

    Examples
    --------
    >>> blas_hint("Haswell", {"avx2", "avx512f"})[:40]
    'OpenBLAS runs its Haswell kernels on a C'
    >>> blas_hint("Haswell", {"avx2", "avx512f"}, "Haswell")[:62]
    'OpenBLAS runs its Haswell kernels because OPENBLAS_CORETYPE=Ha'
    >>> blas_hint("SkylakeX", {"avx512f"}) is None
    True
    """
    if "avx512f" not in cpu_flags or str(architecture).lower() not in _PRE_AVX512_CORES:
        return None
    gain = ("On fftconv's development machine (an AMD Zen 5), OPENBLAS_CORETYPE=SkylakeX made a 2048x2048 "
            "float32 GEMM 1.9x faster and the direct method's 3x3 and 5x5 layers 1.3-2x faster.")
    if coretype:
        return (f"OpenBLAS runs its {architecture} kernels because OPENBLAS_CORETYPE={coretype} is set in the "
                f"environment, on a CPU with AVX-512. Unset it (or set it to SkylakeX) before Python starts "
                f"for OpenBLAS's own choice. {gain}")
    return (f"OpenBLAS runs its {architecture} kernels on a CPU with AVX-512 (it does not know "
            f"this CPU): set OPENBLAS_CORETYPE=SkylakeX before Python starts. {gain}")


def _cpu_flags() -> set:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _info(args) -> int:
    data = info()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for key, value in data.items():
        if key != "constants":
            print(f"{key:17s} {value}")
    print("constants")
    for key, value in data["constants"].items():
        print(f"  {key:22s} {value:.4g}")
    hint = blas_hint((data["blas"] or {}).get("architecture"), _cpu_flags(), os.environ.get("OPENBLAS_CORETYPE"))
    if hint:
        print(f"\nnote: {hint}")
    return 0


def _plan(args) -> int:
    from fftconv._ops.forward import plan_from_shapes

    nd = len(args.filters) - 2
    if nd not in (1, 2, 3):
        raise ValueError(f"`--filters` must have 3, 4 or 5 sizes (*kernel, C_in, C_out); got {args.filters}")
    fmt = args.data_format or {1: "NWC", 2: "NHWC", 3: "NDHWC"}[nd]
    t0 = time.perf_counter()
    plan = plan_from_shapes(nd, args.input, args.filters, args.strides, args.padding, fmt, args.dilations,
                            args.groups, False, args.dtype, args.method, None, False, "auto",
                            names=("--input", "--filters"), padding_mode=args.padding_mode)
    print(plan)
    print(f"  planned in {(time.perf_counter() - t0) * 1e3:.1f} ms")
    if args.data:
        import numpy as np

        x, w = (np.load(path, allow_pickle=False) for path in args.data)
        print(plan.bind(w).explain(x))
    return 0


def _peer_calls(torch, cv2, x, w, padding):
    """Peers of one workload, each called its fastest fair way: torch on a pre-padded
    contiguous NCHW tensor (no ``padding=``), OpenCV's ``filter2D`` on single-channel
    images (one call per filter), the better of scipy's ``fftconvolve`` and
    ``oaconvolve`` for single-channel images."""
    import scipy.fft
    import scipy.signal

    from fftconv._shapes.geometry import same_pads

    pads = [same_pads(n, k, 1) if padding == "SAME" else (0, 0) for n, k in zip(x.shape[1:3], w.shape[:2])]
    xp = np.pad(x, ((0, 0), *pads, (0, 0)))
    calls = {}
    if torch is not None:
        xt = torch.from_numpy(np.ascontiguousarray(xp.transpose(0, 3, 1, 2)))
        wt = torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))

        def run_torch():
            with torch.no_grad():
                return torch.nn.functional.conv2d(xt, wt)
        calls["torch"] = run_torch
    if x.shape[-1] == 1 and w.shape[2] == 1:
        image, kernels = xp[0, :, :, 0], [w[::-1, ::-1, 0, o] for o in range(w.shape[-1])]
        if cv2 is not None:
            calls["cv2"] = lambda: [cv2.filter2D(image, -1, k[::-1, ::-1].copy(), borderType=cv2.BORDER_CONSTANT)
                                    for k in kernels]
        for name, convolve in (("scipy-fft", scipy.signal.fftconvolve), ("scipy-oa", scipy.signal.oaconvolve)):
            def run_scipy(convolve=convolve):
                with scipy.fft.set_workers(-1):
                    return [convolve(image, k, mode="valid") for k in kernels]
            calls[name] = run_scipy
    return calls


def _optional(name, threads):
    """An installed peer module with its threads set, or None."""
    try:
        module = __import__(name)
    except ImportError:
        return None
    if name == "torch":
        module.set_num_threads(threads)
    elif name == "cv2":
        module.setNumThreads(threads)
    return module


def _interleaved_times(calls: dict, reps: int) -> dict:
    """Seconds of each call in every round: one warm-up each, then ``reps`` rounds calling every
    one once, in an order shuffled every round (a fixed order lets one call inherit another's
    after-effects, such as freed memory faulting back in)."""
    import random

    times = {name: [] for name in calls}
    for fn in calls.values():
        fn()
    order = list(calls)
    shuffle = random.Random(0).shuffle
    for _ in range(reps):
        shuffle(order)
        for name in order:
            t0 = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def load_average() -> float | None:
    """The 1-minute load average (:func:`os.getloadavg`), or None where the system has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def machine_busy(load_before, load_after, threads: int, cores: int) -> bool:
    """Whether other work competed for the cores while ``threads`` threads were timed.

    Before the run the load average counts the other work alone, after it ours as
    well: the machine was busy if the other work plus our threads, or the load at the
    end, came to more than the cores (half a core of slack: an idle machine's load is
    not 0).  A 2-thread BLAS slowed many times over on a shared 2-core machine.

    Examples
    --------
    >>> machine_busy(0.1, 2.2, threads=2, cores=2)
    False
    >>> machine_busy(1.5, 2.4, threads=2, cores=2)
    True
    >>> machine_busy(None, None, threads=2, cores=2)
    False
    """
    loads = [load for load in (None if load_before is None else load_before + threads, load_after)
             if load is not None]
    return any(load > cores + 0.5 for load in loads)


def _verdict(plan_method: str, times: dict, methods) -> str:
    """What ``auto``'s regret means, from every round's timings: ``""`` where auto's median is the
    fastest; ``"noise"`` where auto's rounds overlap the fastest method's; ``"mis-pick"`` where the
    method auto ran lost every round to the fastest one; ``"overhead"`` where auto ran the fastest
    method but lost every round to it (what auto adds around the method: planning, guards).

    Examples
    --------
    >>> t = {"direct": [1.0, 1.1], "fft": [2.0, 2.2]}
    >>> _verdict("direct", {**t, "auto": [1.05, 1.2]}, ("direct", "fft"))
    'noise'
    >>> _verdict("fft", {**t, "auto": [2.0, 2.1]}, ("direct", "fft"))
    'mis-pick'
    >>> _verdict("direct", {**t, "auto": [1.5, 1.6]}, ("direct", "fft"))
    'overhead'
    """
    medians = {m: float(np.median(times[m])) for m in methods}
    fastest = min(medians, key=medians.get)
    auto = times["auto"]
    if float(np.median(auto)) <= medians[fastest]:
        return ""
    if min(auto) <= max(times[fastest]):
        return "noise"
    if plan_method != fastest and plan_method in times and min(times[plan_method]) > max(times[fastest]):
        return "mis-pick"
    if plan_method == fastest:
        return "overhead"
    return "noise"


def bench(quick=False, reps=5, progress=True, peers=True) -> list[dict]:
    """Time ``auto``, ``direct``, ``fft`` and the installed peers side by side on :data:`BENCH_WORKLOADS`.

    Candidates are interleaved in rounds of shuffled order; each figure is a
    median, with the fastest and slowest round beside it (``spread_s``), and each row says
    whether ``auto``'s regret is within that noise (``verdict``) and what the load average
    was before and after it (``load``). Peers: torch (on a pre-padded NCHW tensor) where installed, and
    for single-channel images OpenCV's ``filter2D`` and scipy's better of
    ``fftconvolve``/``oaconvolve`` (the scipy broadcast over channel pairs
    takes seconds on the multichannel rows, so it is left to
    ``benchmarks/bench_peers.py``).
    """
    from tqdm.auto import tqdm

    import fftconv

    threads = fftconv.get_workers()
    torch, cv2 = (_optional("torch", threads), _optional("cv2", threads)) if peers else (None, None)
    rng = np.random.default_rng(0)
    rows = []
    workloads = [w for w in BENCH_WORKLOADS if not quick or w[0] in QUICK]
    for name, xs, ws, padding in tqdm(workloads, desc="bench", disable=not progress):
        x = rng.standard_normal(xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32)
        t0 = time.perf_counter()
        plan = fftconv.plan_conv2d(xs, ws, padding=padding)
        planning = time.perf_counter() - t0
        fastest = min(plan.estimates.values())
        names = (*fftconv.METHODS, "auto")
        methods = [m for m in fftconv.METHODS if plan.estimates[m] <= SKIP_FACTOR * fastest]
        calls = {m: (lambda m=m: fftconv.conv2d(x, w, padding=padding, method=m)) for m in (*methods, "auto")}
        if peers:
            calls.update(_peer_calls(torch, cv2, x, w, padding))
        load_before = load_average()
        rounds = _interleaved_times(calls, reps)
        load_after = load_average()
        times = {k: float(np.median(v)) for k, v in rounds.items()}
        peer_times = {k: v for k, v in times.items() if k not in names}
        rows.append({"workload": name, "input": xs, "filters": ws, "padding": padding, "auto_chose": plan.method,
                     "planning_s": planning, **{f"{m}_s": times.get(m, float("nan")) for m in names},
                     "spread_s": {k: (min(v), max(v)) for k, v in rounds.items()},
                     "regret": times["auto"] / min(times[m] for m in methods),
                     "verdict": _verdict(plan.method, rounds, methods),
                     "peers_s": peer_times, "load": (load_before, load_after),
                     "busy": machine_busy(load_before, load_after, threads, os.cpu_count() or 1)})
    return rows


def _bench(args) -> int:
    if args.reps < 1:
        raise ValueError(f"`--reps` must be at least 1; got {args.reps}")
    rows = bench(args.quick, args.reps, peers=not args.no_peers)
    peer_names = sorted({name for r in rows for name in r["peers_s"]})
    import fftconv

    methods = (*fftconv.METHODS, "auto")
    cells = [[_ms(r[m + "_s"], r["spread_s"].get(m)) for m in methods] for r in rows]
    widths = [max([len(m) + 14] + [len(c[i]) for c in cells]) for i, m in enumerate(methods)]
    print(f"{'workload':19s} {'input * filters':32s} {'auto picks':>10s}"
          + "".join(f" {m + ' ms (min-max)':>{wd}s}" for m, wd in zip(methods, widths))
          + f" {'auto/best':>9s} {'':8s}" + "".join(f" {p + '/auto':>14s}" for p in peer_names))
    for r, row_cells in zip(rows, cells):
        shapes = "x".join(map(str, r["input"])) + " * " + "x".join(map(str, r["filters"]))
        peers = "".join(f" {r['peers_s'][p] / r['auto_s']:14.2f}" if p in r["peers_s"] else f" {'-':>14s}"
                        for p in peer_names)
        timed = "".join(f" {c:>{wd}s}" for c, wd in zip(row_cells, widths))
        print(f"{r['workload']:19s} {shapes:32s} {r['auto_chose']:>10s}{timed} {r['regret']:9.2f} "
              f"{r['verdict']:8s}{peers}")
    workers = fftconv.get_workers()
    print(f"(float32, {args.reps} interleaved rounds: median (fastest-slowest round); '-': predicted "
          f"{SKIP_FACTOR:g}x slower than the other method, not timed; auto/best = auto over the faster of the "
          f"methods timed, 'noise' where their rounds overlap, 'mis-pick' where auto's method lost every "
          f"round, 'overhead' where auto lost every round to the method it ran; peer/auto above 1 means "
          f"fftconv is faster; workers={workers})")
    busy = [r for r in rows if r["busy"]]
    loads = [load for r in rows for load in r["load"] if load is not None]
    if busy:
        print(f"warning: the machine was busy: load average up to {max(loads):.1f} with {workers} thread(s) "
              f"timed on {os.cpu_count()} core(s), during {', '.join(r['workload'] for r in busy)}. Other work "
              f"slows these timings (a multithreaded BLAS most), so their ratios may be noise; rerun on a "
              f"quieter machine or with more --reps.", file=sys.stderr)
    return 0


def _ms(seconds: float, spread=None) -> str:
    """Milliseconds with one decimal, the fastest and slowest rounds in brackets, or ``-`` for a
    method not timed (NaN)."""
    if seconds != seconds:
        return "-"
    if spread is None:
        return f"{seconds * 1e3:.1f}"
    return f"{seconds * 1e3:.1f} ({spread[0] * 1e3:.1f}-{spread[1] * 1e3:.1f})"


def _calibrate(args) -> int:
    from fftconv.calibration import calibrate

    from fftconv._engine.constants import ENV_VAR, calibration_path

    result = calibrate(repeats=args.repeats, path=args.output)
    print(f"fitted {len(result['constants'])} constants on {result['points']} timings "
          f"(rms log error {result['rms_log_error']:.2f}); saved to {result['path']}")
    if os.path.abspath(str(result["path"])) != os.path.abspath(str(calibration_path())):
        print(f"fftconv reads {calibration_path()} by default; to plan with this file, set "
              f"{ENV_VAR}={result['path']} in the environment (`fftconv info` then shows it in force)")
    else:
        print("every later run reads it from there (`fftconv info` shows it in force)")
    ratios = ", ".join(f"{name} {ratio:.2f}" for name, ratio in result["backends"].items())
    print(f"FFT method's time per backend, relative to scipy: {ratios}")
    return 0


# -- fftconv convolve: a zarr array larger than memory, into another ------------------------------

def _add_convolve(sub) -> None:
    conv = sub.add_parser(
        "convolve", help="convolve a zarr array chunk by chunk into a new one (bounded memory, resumable)",
        description="Convolve INPUT.zarr with the filters in a .npy file into OUTPUT, one chunk at a time "
        "within a memory budget. Stopped runs (Ctrl-C, killed) resume when the same command is run again.")
    conv.add_argument("input", metavar="INPUT", help="the input zarr array (a directory)")
    conv.add_argument("--filters", required=True, help=".npy file: a plain kernel of the input's ndim "
                      "(e.g. 15x15x15 for a volume), or (*kernel, C_in, C_out) for NDHWC/NHWC/NWC data")
    conv.add_argument("--output", required=True, help="the output zarr array (a directory; resumed if it "
                      "holds a run of the same command)")
    conv.add_argument("--padding", type=_padding, default="VALID",
                      help="SAME, VALID, 2 (every side), 2x3 (per axis) or 1:2x0:3 (before:after per axis)")
    conv.add_argument("--strides", type=_ints, default=1, help="e.g. 2 or 2x1x1")
    conv.add_argument("--dilations", type=_ints, default=1, help="e.g. 2 or 2x1x1")
    conv.add_argument("--data-format", default=None, help="DHW, HW or W for a plain array (the default when "
                      "the kernel has the input's ndim), else NDHWC, NHWC, NWC, NCDHW, ...")
    conv.add_argument("--groups", type=int, default=None,
                      help="channel groups (default: inferred as TensorFlow does, C_in over the filters' C_in)")
    conv.add_argument("--padding-mode", default="constant",
                      help="what fills the pads: constant (zeros), reflect, symmetric, wrap or edge")
    conv.add_argument("--method", type=_method, default="auto", help="auto, direct or fft (any case)")
    conv.add_argument("--memory", default=None, help="memory budget of this process, e.g. 4GiB; chunks are "
                      "chosen (or checked) to fit")
    conv.add_argument("--workers", type=int, default=None, help="chunks computed at once (default: CPUs)")
    conv.add_argument("--chunks", type=_shape, default=None, help="input blocks per task, e.g. 256x256x256 "
                      "(default: the store's chunks, or what fits --memory)")
    conv.add_argument("--scheduler", default=None, help="address of a dask.distributed scheduler to run on "
                      "(every worker must see INPUT and --output)")
    conv.add_argument("--overwrite", action="store_true", help="start afresh if --output exists")
    conv.add_argument("--no-verify", action="store_true", help="when resuming, trust the completion records "
                      "instead of reading each finished chunk back to check its checksum")
    conv.add_argument("--quiet", action="store_true", help="no progress bar")


#: How ``fftconv convolve``'s messages name the arguments of :func:`fftconv.dask.convolve_zarr`.
_CONVOLVE_NAMES = {"source": "INPUT", "filters": "--filters", "output": "--output", "memory": "--memory",
                   "chunks": "--chunks", "workers": "--workers", "overwrite": "--overwrite"}


def _convolve(args) -> int:
    from fftconv._outofcore import convolve_zarr

    try:
        filters = np.load(args.filters, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"`--filters` must be a .npy file holding the filters; could not read "
                         f"{args.filters!r} ({exc})") from None
    client = None
    try:
        if args.scheduler:
            from distributed import Client
            client = Client(args.scheduler)
        report = convolve_zarr(
            args.input, filters, args.output, args.strides, args.padding, args.data_format, args.dilations,
            groups=args.groups, padding_mode=args.padding_mode, method=args.method, chunks=args.chunks,
            memory=args.memory, workers=args.workers, client=client, overwrite=args.overwrite,
            verify=not args.no_verify, progress=not args.quiet, _names=_CONVOLVE_NAMES)
    except ImportError as exc:
        print(f"fftconv convolve: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fftconv convolve: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
    print(_convolve_summary(report))
    return 0


def _convolve_summary(report: dict) -> str:
    """One line about a finished ``fftconv convolve`` run."""
    rate = ""
    if report["computed"]:
        written = math.prod(report["shape"]) * report["dtype"].itemsize * report["computed"] / report["blocks"]
        rate = f" ({written / 2**20 / report['seconds']:.0f} MiB/s written)"
    failed = f" ({report['recomputed']} of them failed their checksum)" if report["recomputed"] else ""
    return (f"{report['output']}: shape {report['shape']} {report['dtype']}, {report['blocks']} chunks: "
            f"{report['computed']} computed{failed}, {report['kept']} kept from an earlier run; "
            f"{report['seconds']:.1f} s{rate}; input blocks {report['chunks']}, predicted peak "
            f"{report['predicted_peak'] / 2**30:.2f} GiB")


if __name__ == "__main__":
    sys.exit(main())
