"""The ``fftconv`` command line: ``info``, ``plan``, ``bench`` and ``calibrate``.

Run ``fftconv --help`` (or ``python -m fftconv --help``). Bad arguments print
a one-line error and exit with status 2; output cut short by a closed pipe
(``fftconv plan ... | head``) ends quietly.
"""

from __future__ import annotations

import argparse
import json
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


class _Parser(argparse.ArgumentParser):
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fftconv", description="Fast large-kernel convolution: inspect, "
                     "plan, benchmark and calibrate.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    info = sub.add_parser("info", help="versions, backends, workers and calibration in use")
    info.add_argument("--json", action="store_true", help="print as JSON")
    plan = sub.add_parser("plan", help="explain the plan for one convolution")
    plan.add_argument("--input", type=_shape, required=True, help="input shape, e.g. 4x256x256x3")
    plan.add_argument("--filters", type=_shape, required=True, help="filter shape, e.g. 31x31x3x16")
    plan.add_argument("--strides", type=_ints, default=1, help="e.g. 2 or 2x1")
    plan.add_argument("--dilations", type=_ints, default=1, help="e.g. 2 or 2x1")
    plan.add_argument("--padding", type=_padding, default="VALID",
                      help="SAME, VALID, 2 (every side), 2x3 (per axis) or 1:2x0:3 (before:after per axis)")
    plan.add_argument("--data-format", default=None, help="NHWC (default), NCHW, NWC, ...")
    plan.add_argument("--groups", type=int, default=None)
    plan.add_argument("--padding-mode", default="constant",
                      help="what fills the pads: constant (zeros), reflect, symmetric, wrap or edge")
    plan.add_argument("--dtype", default="float32",
                      choices=["float16", "float32", "float64", "complex64", "complex128"])
    plan.add_argument("--method", default="auto", help="auto, direct or fft")
    bench = sub.add_parser("bench", help="time auto, direct and fft on a few shapes")
    bench.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    bench.add_argument("--reps", type=int, default=5, help="repeats per method (median)")
    cal = sub.add_parser("calibrate", help="fit the planner's cost model to this machine")
    cal.add_argument("--repeats", type=int, default=3)
    cal.add_argument("--output", default=None, help="where to save (default: the cache dir)")
    return parser


def main(argv=None) -> int:
    """Entry point of the ``fftconv`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return {"info": _info, "plan": _plan, "bench": _bench, "calibrate": _calibrate}[
            args.command](args)
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
    from fftconv import _constants as calibration
    from fftconv.backends import DEFAULT_BACKEND, available_backends

    path = calibration.calibration_path()
    try:
        import pyfftw
        pyfftw_version = pyfftw.__version__
    except ImportError:
        pyfftw_version = None
    return {
        "fftconv": fftconv.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
        "pyfftw": pyfftw_version, "backends": list(available_backends()),
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


def blas_hint(architecture, cpu_flags) -> str | None:
    """Advice when OpenBLAS runs pre-AVX-512 kernels on a CPU that has AVX-512.

    Examples
    --------
    >>> blas_hint("Haswell", {"avx2", "avx512f"})[:40]
    'OpenBLAS runs its Haswell kernels on a C'
    >>> blas_hint("SkylakeX", {"avx512f"}) is None
    True
    """
    if "avx512f" not in cpu_flags or str(architecture).lower() not in _PRE_AVX512_CORES:
        return None
    return (f"OpenBLAS runs its {architecture} kernels on a CPU with AVX-512 (it does not know "
            "this CPU). On fftconv's development machine (an AMD Zen 5), setting "
            "OPENBLAS_CORETYPE=SkylakeX before Python starts made a 2048x2048 float32 GEMM 1.9x "
            "faster and the direct method's 3x3 and 5x5 layers 1.3-2x faster.")


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
    hint = blas_hint((data["blas"] or {}).get("architecture"), _cpu_flags())
    if hint:
        print(f"\nnote: {hint}")
    return 0


def _plan(args) -> int:
    from fftconv._api import _plan_shapes

    nd = len(args.filters) - 2
    if nd not in (1, 2, 3):
        raise ValueError(f"`--filters` must have 3, 4 or 5 sizes (*kernel, C_in, C_out); got {args.filters}")
    fmt = args.data_format or {1: "NWC", 2: "NHWC", 3: "NDHWC"}[nd]
    t0 = time.perf_counter()
    plan = _plan_shapes(nd, args.input, args.filters, args.strides, args.padding, fmt, args.dilations,
                        args.groups, False, args.dtype, args.method, None, False, "auto",
                        names=("--input", "--filters"), padding_mode=args.padding_mode)
    print(plan)
    print(f"  planned in {(time.perf_counter() - t0) * 1e3:.1f} ms")
    return 0


def _median_seconds(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def bench(quick=False, reps=5, progress=True) -> list[dict]:
    """Time ``auto``, ``direct`` and ``fft`` side by side on :data:`BENCH_WORKLOADS`."""
    from tqdm.auto import tqdm

    import fftconv

    rng = np.random.default_rng(0)
    rows = []
    workloads = [w for w in BENCH_WORKLOADS if not quick or w[0] in QUICK]
    for name, xs, ws, padding in tqdm(workloads, desc="bench", disable=not progress):
        x = rng.standard_normal(xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32)
        t0 = time.perf_counter()
        plan = fftconv.plan_conv2d(xs, ws, padding=padding)
        planning = time.perf_counter() - t0
        times = {m: _median_seconds(lambda m=m: fftconv.conv2d(x, w, padding=padding, method=m), reps)
                 for m in ("direct", "fft", "auto")}
        rows.append({"workload": name, "input": xs, "filters": ws, "auto_chose": plan.method,
                     "planning_s": planning, **{f"{m}_s": t for m, t in times.items()},
                     "regret": times["auto"] / min(times["direct"], times["fft"])})
    return rows


def _bench(args) -> int:
    if args.reps < 1:
        raise ValueError(f"--reps must be at least 1; got {args.reps}")
    rows = bench(args.quick, args.reps)
    print(f"{'workload':19s} {'auto picks':>10s} {'direct ms':>10s} {'fft ms':>9s} "
          f"{'auto ms':>9s} {'auto/best':>9s} {'plan ms':>8s}")
    for r in rows:
        print(f"{r['workload']:19s} {r['auto_chose']:>10s} {r['direct_s'] * 1e3:10.1f} "
              f"{r['fft_s'] * 1e3:9.1f} {r['auto_s'] * 1e3:9.1f} {r['regret']:9.2f} "
              f"{r['planning_s'] * 1e3:8.1f}")
    print("(float32, median of repeats; auto/best = auto time over the faster of direct and fft)")
    return 0


def _calibrate(args) -> int:
    from fftconv.calibration import calibrate

    result = calibrate(repeats=args.repeats, path=args.output)
    print(f"fitted {len(result['constants'])} constants on {result['points']} timings "
          f"(rms log error {result['rms_log_error']:.2f}); saved to {result['path']}")
    ratios = ", ".join(f"{name} {ratio:.2f}" for name, ratio in result["backends"].items())
    print(f"FFT method's time per backend, relative to scipy: {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
