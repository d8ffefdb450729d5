"""Fitting the cost model to this machine: ``fftconv calibrate``.

This module sits at the edge, beside the command line: it times real calls
and fits :data:`fftconv._engine.constants.DEFAULT_CONSTANTS` to them.  Reading the
file it writes is :mod:`fftconv._engine.constants`' job (re-exported here), below the
planner, so planning never imports the code that measures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import math
import os
import platform
from pathlib import Path

import numpy as np

from fftconv._engine import constants as _constants
from fftconv._engine import planner
from fftconv._ops.forward import clear_recent_calls, plan_conv2d
from fftconv._engine.measure import best_seconds
from fftconv._ops.signal import _engine_floor as _signal_engine_floor
from fftconv._engine.constants import (BACKEND_MARGIN, DEFAULT_CONSTANTS, ENV_VAR, IGNORE, backend_ratios,
                         calibration_in_force, calibration_path, load_constants, preferred_backend,
                         validate_backend_ratios, validate_constants)
from fftconv.backends import BACKENDS, REFERENCE_BACKEND, available_backends
from fftconv.methods import METHODS
from fftconv.methods.base import MethodCannotRun

__all__ = ["calibrate", "calibrate_backends", "fit_constants", "measure_point", "best_seconds",
           "clear_cache", "GRID", "BACKEND_MIN_KERNEL", "BACKEND_MARGIN", "ENV_VAR", "IGNORE",
           "calibration_path", "calibration_in_force", "load_constants", "backend_ratios",
           "preferred_backend", "validate_constants", "validate_backend_ratios"]

#: Backends are compared on the calibration cases with kernels at least this large.
BACKEND_MIN_KERNEL = 9


def clear_cache() -> None:
    """Forget loaded calibration files and the plans made with them."""
    _constants.clear_loaded()
    planner.clear()
    clear_recent_calls()
    _signal_engine_floor.cache_clear()  # fftconv.convolve's threshold for numpy's own 1-D loop


# -- fitting --------------------------------------------------------------------------

#: The calibration grid: ``(input_shape, filters_shape, strides, padding, groups)``,
#: NHWC/HWIO, spread over both sides of the direct/FFT crossover.
GRID = (
    ((8, 32, 32, 16), (3, 3, 16, 16), 1, "SAME", 1),
    ((4, 64, 64, 32), (3, 3, 32, 32), 1, "SAME", 1),
    ((2, 64, 64, 16), (5, 5, 16, 16), 1, "SAME", 1),
    ((1, 96, 96, 8), (9, 9, 8, 8), 1, "SAME", 1),
    ((2, 48, 48, 32), (3, 3, 32, 64), 2, "SAME", 1),
    ((1, 64, 64, 32), (7, 7, 1, 32), 1, "SAME", 32),
    ((1, 256, 256, 1), (7, 7, 1, 1), 1, "SAME", 1),
    ((1, 128, 128, 3), (11, 11, 3, 8), 1, "VALID", 1),
    ((2, 128, 128, 16), (9, 9, 16, 16), 1, "VALID", 1),
    ((4, 128, 128, 3), (31, 31, 3, 16), 1, "VALID", 1),
    ((1, 128, 128, 32), (21, 21, 32, 32), 1, "VALID", 1),
    ((1, 512, 512, 1), (63, 63, 1, 1), 1, "SAME", 1),
    ((1, 256, 256, 1), (31, 31, 1, 4), 1, "SAME", 1),
    ((1, 64, 64, 32), (31, 31, 1, 32), 1, "SAME", 32),
    ((1, 128, 128, 4), (15, 15, 4, 8), 2, "SAME", 1),
    ((8, 64, 64, 8), (7, 7, 8, 8), 1, "SAME", 1),
    ((1, 512, 512, 1), (5, 5, 1, 1), 1, "SAME", 1),
    ((4, 128, 128, 1), (9, 9, 1, 4), 1, "SAME", 1),
)


def measure_point(input_shape, filters_shape, strides, padding, groups, method, *,
                  options=None, repeats=3, dtype=np.float32, backend="scipy"):
    """Best-of-``repeats`` seconds of one method (on one FFT backend) on random data.

    ``options`` force the method's settings (:meth:`fftconv.methods.base.Method.settings`,
    e.g. ``{"fft_shape": (64, 64)}`` for the FFT method's tiles). The minimum, not
    the median: on a shared machine other work only ever adds time. Returns
    ``(geometry, setting, seconds)``.
    """
    plan = plan_conv2d(input_shape, filters_shape, strides, padding, groups=groups,
                       dtype=dtype, method=method, backend=backend)
    settings = dict(plan.settings)
    if options:
        settings[method] = METHODS[method].settings(plan.geometry, options)
    plan = dataclasses.replace(plan, settings=settings)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(input_shape).astype(dtype)
    w = rng.standard_normal(filters_shape).astype(dtype)
    return plan.geometry, settings[method], best_seconds(lambda: plan(x, w), repeats)


def _predict(constants, point):
    geom, method, setting, itemsize = point[:4]
    return METHODS[method].seconds(geom, setting, itemsize, constants)


def fit_constants(points, start=None) -> tuple[dict, float]:
    """Least-squares fit of the cost model's constants on log-time.

    ``points`` are ``(geometry, method, setting, itemsize, seconds)``. Returns the
    constants and the RMS error of log(predicted / measured) after the fit.
    """
    from scipy.optimize import least_squares

    start = dict(start or DEFAULT_CONSTANTS)
    names = sorted(start)
    x0 = np.log([start[n] for n in names])

    def residuals(logs):
        c = dict(zip(names, np.exp(logs)))
        return [math.log(_predict(c, p) / p[4]) for p in points]

    # keep each constant within a factor 30 of where it started
    fit = least_squares(residuals, x0, bounds=(x0 - math.log(30), x0 + math.log(30)))
    constants = dict(zip(names, map(float, np.exp(fit.x))))
    rms = float(np.sqrt(np.mean(np.square(residuals(fit.x)))))
    return constants, rms


def calibrate(*, repeats=5, save=True, progress=True, path=None) -> dict:
    """Measure this machine's direct and FFT rates over :data:`GRID` and fit the planner.

    Each grid point is timed with the direct method and with the FFT method
    at two tilings; the cost model's constants are then fitted to all of the
    timings (see :func:`fit_constants`) and, with ``save``, written as JSON to
    :func:`calibration_path` (or ``path``), where later runs find them.

    Returns
    -------
    dict
        ``{"constants": ..., "rms_log_error": ..., "points": n, "path": str or None, ...}``.
    """
    from tqdm.auto import tqdm

    # every registered method as planned; tiled methods at a second tiling too, for variety (methods
    # that need the filters' values are priced from their passes, which are the others' convolutions)
    jobs = [(case, name, variant) for case in GRID for name, method in METHODS.items() if not method.needs_filters
            for variant in ((None, "half") if method.uses_backend else (None,))]
    points, fft_seconds = [], {}
    for case, method, variant in tqdm(jobs, desc="calibrating", disable=not progress):
        options = {"fft_shape": _half_tiles(case, method)} if variant else None
        try:
            geom, setting, seconds = measure_point(*case, method, options=options, repeats=repeats)
        except MethodCannotRun:  # a method that runs some shapes only (winograd: dense 3x3, stride 1)
            continue
        points.append((geom, method, setting, 4, seconds))
        if METHODS[method].uses_backend and not variant and min(case[1][:2]) >= BACKEND_MIN_KERNEL:
            fft_seconds[case] = seconds  # the transform method on the reference backend
    constants, rms = fit_constants(points)
    result = {
        "version": 1,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "numpy": np.__version__},
        "constants": constants,
        "rms_log_error": rms,
        "points": len(points),
        "backends": calibrate_backends(fft_seconds, repeats=repeats, progress=progress, keep_wisdom=save),
        "path": None,
    }
    if save:
        target = Path(path) if path else calibration_path()
        if target is None:
            raise ValueError(f"{ENV_VAR}={IGNORE} ignores calibration files: pass `path` to save one")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(result, indent=2))
        result["path"] = str(target)
        clear_cache()
    return result


def calibrate_backends(scipy_seconds, *, repeats=5, progress=True, keep_wisdom=False) -> dict:
    """Each available backend's FFT-method seconds over scipy's, for ``backend="auto"``.

    ``scipy_seconds`` maps calibration cases (as in :data:`GRID`) to the FFT
    method's seconds on scipy; every other backend is timed on the same cases
    (after a warm-up call, so FFTW's planning is not counted) and its ratio is
    the geometric mean over them.  One ratio per machine, not per size:
    ``measure=True`` chooses per size.

    pyFFTW is timed with measured plans (``planning="always"``), which is the
    only time fftconv measures FFTW plans by itself; with ``keep_wisdom`` the
    wisdom gathered is saved (:func:`fftconv.backends._pyfftw.save_wisdom`), so
    that later processes plan those problems from it.

    Returns
    -------
    dict
        ``{backend name: ratio}``, scipy's being 1.
    """
    from tqdm.auto import tqdm

    others = [name for name in available_backends() if name != REFERENCE_BACKEND]
    logs = {name: [] for name in others}
    jobs = [(case, name) for name in others for case in scipy_seconds]
    with _measured_fftw(keep_wisdom):
        for case, name in tqdm(jobs, desc="timing backends", disable=not progress):
            seconds = measure_point(*case, _transform_method(), repeats=repeats, backend=name)[2]
            logs[name].append(math.log(seconds / scipy_seconds[case]))
    return {REFERENCE_BACKEND: 1.0, **{name: math.exp(sum(v) / len(v)) for name, v in logs.items() if v}}


@contextlib.contextmanager
def _measured_fftw(keep_wisdom: bool):
    """Within the block the registered pyFFTW backend measures every new plan."""
    registered = BACKENDS.get("pyfftw")
    if registered is None:
        yield
        return
    BACKENDS["pyfftw"] = type(registered)(registered.planner_effort, registered.planning_timelimit,
                                          planning="always")
    try:
        yield
    finally:
        BACKENDS["pyfftw"] = registered
        if keep_wisdom:
            from fftconv.backends._pyfftw import save_wisdom
            save_wisdom()
        registered.clear_cache()  # estimated plans give way to the new wisdom


def _transform_method() -> str:
    """The registered method that runs FFT backends (timed on each backend)."""
    return next(name for name, method in METHODS.items() if method.uses_backend)


def _half_tiles(case, method):
    """A tiling with tiles about half as long as the one ``method`` plans, for variety."""
    from scipy.fft import next_fast_len

    plan = plan_conv2d(case[0], case[1], case[2], case[3], groups=case[4], method=method)
    q = plan.layout.phase_kernel
    return tuple(next_fast_len(max(k + 1, (n + k) // 2), real=True)
                 for n, k in zip(plan.layout.fft_shape, q))
