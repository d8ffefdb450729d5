"""``measure=True``: time the candidate methods once per shape and keep the winner.

Like ``torch.backends.cudnn.benchmark``: the first call of a shape runs each
method the cost model does not rule out (and, with ``backend="auto"``, the
FFT method on every available backend), and later plans of the same shape
take the fastest.  The winners live for the process.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np

from fftconv._engine.plan import ConvPlan
from fftconv.backends import available_backends
from fftconv.methods import METHODS

__all__ = ["MEASURE_CUTOFF", "measured", "best_seconds"]

#: ``measure=True`` does not time a method predicted this many times slower.
MEASURE_CUTOFF = 20.0
_winners: dict = {}
_lock = threading.Lock()


def best_seconds(fn, repeats, *, warmup=True) -> float:
    """The fastest of ``repeats`` timed calls of ``fn``, after one untimed call if ``warmup``.

    The minimum, not the median: on a shared machine other work only ever adds time.
    """
    if warmup:
        fn()  # plans FFTs, touches memory
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measured(plan: ConvPlan, any_backend: bool) -> ConvPlan:
    """``plan`` with the method (and backend) that ran fastest here, timed once per process."""
    key = (plan.geometry, plan.dtype, plan.embedding, plan.workers, plan.backend, any_backend)
    with _lock:
        if key not in _winners:
            _winners[key] = _time_candidates(plan, any_backend)
    times = _winners[key]
    method, _, backend = min(times, key=times.get).partition("/")
    return dataclasses.replace(plan, method=method, backend=backend or plan.backend, measured=times)


def _time_candidates(plan: ConvPlan, any_backend: bool) -> dict:
    """Seconds of each method, and of the FFT method on each backend when ``any_backend``."""
    fastest = min(plan.estimates.values())
    rng = np.random.default_rng(0)
    # a complex plan's arrays are complex where its embedding expects them to be
    x = rng.standard_normal(plan.input_shape).astype(
        plan.dtype if plan.embedding in ("input", "both") else plan.real_dtype)
    w = rng.standard_normal(plan.filters_shape).astype(
        plan.dtype if plan.embedding in ("filters", "both") else plan.real_dtype)
    candidates = {}
    for m, t in plan.estimates.items():
        if t > MEASURE_CUTOFF * fastest:
            continue
        if any_backend and METHODS[m].uses_backend:  # "fft/ducc0", "fft/scipy", ...
            candidates.update({f"{m}/{name}": {"method": m, "backend": name} for name in available_backends()})
        else:
            candidates[m] = {"method": m}
    runs = {name: dataclasses.replace(plan, **change).bind(w) for name, change in candidates.items()}
    # two runs each, the first also warming caches and FFT plans
    return {name: best_seconds(lambda run=run: run(x), 2, warmup=False) for name, run in runs.items()}
