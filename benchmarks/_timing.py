"""Shared helpers of the benchmark scripts: threads, fair timing, JSON and tables.

This module is not a script. Every ``bench_*.py`` imports it **first**: on
import it pins the thread count of numpy's BLAS and OpenMP to ``--threads N``
from the command line (default 2) by setting the environment before numpy is
loaded. Then it offers:

- :func:`time_interleaved`: several candidates of one workload, each warmed up
  once, then timed in rounds that call each once, in an order shuffled every
  round, so that machine noise and the after-effects of one candidate on the
  next (freed memory, cold caches) fall on all of them alike; the result is
  the median.
- :func:`median_time`: the same for a single callable.
- :func:`write_json` and :func:`print_table` for the results.

Run any benchmark as ``python benchmarks/bench_NAME.py --help``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

DEFAULT_THREADS = 2
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"


def _threads_from_argv(argv) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    threads = parser.parse_known_args(argv)[0].threads
    if threads < 1:
        raise SystemExit(f"--threads must be a positive int; got {threads}")
    return threads


def pin_threads(threads: int) -> int:
    """Set every BLAS/OpenMP thread variable to ``threads`` (effective before numpy loads)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    return threads


THREADS = pin_threads(_threads_from_argv(sys.argv[1:]))

import numpy as np  # noqa: E402  (after the thread variables are set)
import scipy  # noqa: E402
from tqdm import tqdm  # noqa: E402


# -- command line ------------------------------------------------------------------

def common_parser(description: str, reps: int = 5, quick_reps: int = 3,
                  max_seconds: float = 5.0) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark shares; parse with :func:`parse_args`."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=None,
                        help=f"timed repeats per candidate after one warm-up call "
                             f"(default {reps}, {quick_reps} with --quick)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="threads for BLAS, FFT workers and torch (default 2)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer and smaller workloads, fewer repeats: a smoke run")
    parser.add_argument("--max-seconds", type=float, default=max_seconds,
                        help="a candidate predicted slower than this is skipped, and one whose "
                             f"warm-up took longer is timed once (default {max_seconds:g})")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time with the wall clock (default) or this process's CPU time "
                             "(time.process_time, every thread's): on a loaded machine CPU time "
                             "counts only the work done, best with --threads 1")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR,
                        help="directory for the JSON (and plot) results (default benchmarks/results)")
    parser.set_defaults(_reps=(reps, quick_reps))
    return parser


def parse_args(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parse, and fill ``--reps`` from the full or quick default."""
    args = parser.parse_args(argv)
    full, quick = args._reps
    if args.reps is None:
        args.reps = quick if args.quick else full
    if args.reps < 1:
        parser.error(f"--reps must be at least 1; got {args.reps}")
    global CLOCK
    CLOCK = time.process_time if getattr(args, "clock", "wall") == "cpu" else time.perf_counter
    return args


#: The clock of :func:`time_interleaved` (``--clock``).
CLOCK = time.perf_counter


# -- timing ------------------------------------------------------------------------

@dataclass
class Candidate:
    """One way of computing a workload.

    Attributes
    ----------
    name : str
        Column name in tables and key in the JSON.
    fn : callable
        Called with no arguments; its return value is the output.
    predicted : float, optional
        Predicted seconds (e.g. from ``plan.estimates``); above
        ``max_seconds`` the candidate is skipped.
    setup : callable, optional
        Run before every call, outside the timed region.
    to_reference : callable, optional
        Maps the output to the reference layout (NHWC), outside the timing,
        for the correctness check.
    """

    name: str
    fn: Callable
    predicted: float | None = None
    setup: Callable | None = None
    to_reference: Callable | None = None


@dataclass
class Timing:
    """Timings of one candidate: ``median`` seconds over ``times`` (NaN when skipped)."""

    name: str
    times: list = field(default_factory=list)
    warmup: float = math.nan
    skipped: str = ""
    output: object = None

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.nan

    def as_dict(self) -> dict:
        return {"median_s": self.median, "times_s": self.times, "warmup_s": self.warmup,
                "reps": len(self.times), "skipped": self.skipped}


def _timed_call(candidate: Candidate):
    if candidate.setup is not None:
        candidate.setup()
    gc.collect()
    gc.disable()
    try:
        t0 = CLOCK()
        out = candidate.fn()
        return CLOCK() - t0, out
    finally:
        gc.enable()


def time_interleaved(candidates, reps: int, max_seconds: float = math.inf, desc: str = "",
                     keep_outputs: bool = False, seed: int = 0) -> dict:
    """Median times of several candidates measured side by side.

    Each candidate is called once as a warm-up; then ``reps`` rounds call every
    candidate once, in an order shuffled each round (with a fixed seed). A
    fixed or merely rotated order would make one candidate always follow the
    same other one and inherit its after-effects (a big freed buffer makes the
    next call page-fault); shuffled, such rounds are a minority that the
    median discards. A candidate predicted slower than ``max_seconds`` is
    skipped; one whose warm-up took longer than ``max_seconds`` gets a single
    timed call.

    Parameters
    ----------
    candidates : sequence of Candidate
    reps : int
        Timed rounds (at least 1).
    max_seconds : float
        Budget per call, see above.
    desc : str
        Label of the tqdm progress bar (on stderr).
    keep_outputs : bool
        Keep each candidate's warm-up output (in ``Timing.output``) for checks.
    seed : int
        Seed of the shuffled orders.

    Returns
    -------
    dict
        Name -> :class:`Timing`, in the order given.
    """
    reps = max(int(reps), 1)
    results = {c.name: Timing(c.name) for c in candidates}
    active = []
    with tqdm(total=len(candidates) * (reps + 1), desc=desc, leave=False, file=sys.stderr,
              disable=None) as bar:
        for c in candidates:
            if c.predicted is not None and c.predicted > max_seconds:
                results[c.name].skipped = f"predicted {c.predicted:.3g} s > --max-seconds {max_seconds:g}"
                bar.update(reps + 1)
                continue
            elapsed, out = _timed_call(c)
            results[c.name].warmup = elapsed
            if keep_outputs:
                results[c.name].output = out if c.to_reference is None else c.to_reference(out)
            del out
            active.append(c)
            bar.update(1)
        budget = {c.name: (1 if results[c.name].warmup > max_seconds else reps) for c in active}
        order = random.Random(seed)
        for _ in range(reps):
            for c in order.sample(active, len(active)):
                if len(results[c.name].times) < budget[c.name]:
                    results[c.name].times.append(_timed_call(c)[0])
                bar.update(1)
        bar.update(bar.total - bar.n)
    return results


def median_time(fn: Callable, reps: int, desc: str = "") -> float:
    """Median seconds of ``fn()`` over ``reps`` calls after one warm-up call."""
    return time_interleaved([Candidate("f", fn)], reps, desc=desc)["f"].median


def relative_error(y, reference) -> float:
    """``||y - ref|| / ||ref||`` in float64, NaN when either is missing or shapes differ."""
    if y is None or reference is None or np.shape(y) != np.shape(reference):
        return math.nan
    y, reference = np.asarray(y, np.float64), np.asarray(reference, np.float64)
    return float(np.linalg.norm(y - reference) / max(np.linalg.norm(reference), 1e-300))


def check_outputs(timings: dict, reference: str, tolerance: float = 1e-3) -> dict:
    """Relative errors of every kept output against ``timings[reference]``; warn above ``tolerance``."""
    ref = timings[reference].output
    errors = {name: relative_error(t.output, ref) for name, t in timings.items() if t.output is not None}
    for name, err in errors.items():
        if err > tolerance:
            print(f"WARNING: {name} differs from {reference}: relative error {err:.2e}", file=sys.stderr)
    return errors


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when either is missing or the denominator is 0."""
    if not (numerator == numerator and denominator == denominator) or denominator == 0:
        return math.nan
    return numerator / denominator


def fastest(*values) -> float:
    """The smallest of ``values`` that is not NaN (NaN when all are)."""
    present = [v for v in values if v == v]
    return min(present) if present else math.nan


def geometric_mean(values) -> float:
    values = [v for v in values if v == v and v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else math.nan


# -- results ------------------------------------------------------------------------

def environment(threads: int) -> dict:
    """What the numbers were measured on."""
    import fftconv
    info = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "host": platform.node(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "fftconv": getattr(fftconv, "__version__", "?"),
            "threads": threads, "argv": sys.argv, "loadavg": list(os.getloadavg()), "clock": CLOCK.__name__,
            "thread_env": {k: os.environ.get(k) for k in THREAD_VARIABLES}}
    torch = sys.modules.get("torch")
    info["torch"] = getattr(torch, "__version__", None)
    return info


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def write_json(name: str, payload: dict, out_dir: Path, threads: int) -> Path:
    """Write ``{"environment": ..., **payload}`` to ``out_dir/name.json``; return the path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    data = {"benchmark": name, "environment": environment(threads), **payload}
    path.write_text(json.dumps(_jsonable(data), indent=2) + "\n")
    return path


def fmt(value, unit: str = "") -> str:
    """A table cell: milliseconds for ``unit="ms"`` (from seconds), ratios with 2 decimals."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if unit == "ms":
        ms = value * 1e3
        return f"{ms:.3g}" if ms < 10 else f"{ms:.1f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def print_table(rows, columns, title: str = "") -> None:
    """Print ``rows`` (dicts) as a text table; ``columns`` is ``[(key, header, unit), ...]``."""
    cells = [[fmt(row.get(key), unit) for key, _, unit in columns] for row in rows]
    headers = [header for _, header, _ in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    if title:
        print(f"\n{title}")
    print("  ".join(h.rjust(wd) if i else h.ljust(wd) for i, (h, wd) in enumerate(zip(headers, widths))))
    for r in cells:
        print("  ".join(c.rjust(wd) if i else c.ljust(wd) for i, (c, wd) in enumerate(zip(r, widths))))
    sys.stdout.flush()
