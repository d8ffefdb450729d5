"""Fitting the cost model to this machine, and loading the fitted constants.

The constants are saved as JSON (never pickle) in the user's cache directory,
``$FFTCONV_CALIBRATION`` if set, else ``<user cache dir>/fftconv/calibration.json``.
A missing file means the shipped :data:`~fftconv._planner.DEFAULT_CONSTANTS`;
a corrupt or hostile one means a warning and the defaults.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import math
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from . import _planner
from ._planner import DEFAULT_CONSTANTS

ENV_VAR = "FFTCONV_CALIBRATION"
#: ``backend="auto"`` leaves scipy for a backend calibrated to take at most this
#: fraction of scipy's time: FFTW's measured planning costs 0.1-1 s per new shape.
BACKEND_MARGIN = 0.9
#: Backends are compared on the calibration cases with kernels at least this large.
BACKEND_MIN_KERNEL = 9


def calibration_path() -> Path:
    """Where calibrated constants are read from and written to."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    try:
        import platformdirs
        base = Path(platformdirs.user_cache_dir("fftconv"))
    except ImportError:  # platformdirs is a dependency, but stay usable without it
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fftconv"
    return base / "calibration.json"


def load_constants(path=None) -> dict:
    """The cost-model constants in force: the defaults, overridden by a valid file.

    Each run reads the file at most once per path (see :func:`clear_cache`).
    """
    return dict(_load(str(path or calibration_path()))[0])


def backend_ratios(path=None) -> dict:
    """Calibrated seconds of the FFT method on each backend over those on scipy's.

    Empty when the file is missing, holds no backend timings, or is invalid.
    """
    return dict(_load(str(path or calibration_path()))[1])


def preferred_backend(available, path=None) -> str:
    """What ``backend="auto"`` runs without measuring: scipy's, unless another available
    backend was calibrated at least ``1 / BACKEND_MARGIN`` times faster here.
    """
    from .backends import DEFAULT_BACKEND

    ratios = {name: r for name, r in backend_ratios(path).items() if name in available}
    fastest = min(ratios, key=ratios.get, default=DEFAULT_BACKEND)
    return fastest if ratios.get(fastest, 1.0) <= BACKEND_MARGIN else DEFAULT_BACKEND


@functools.lru_cache(maxsize=8)
def _load(path: str) -> tuple:
    constants, ratios = dict(DEFAULT_CONSTANTS), {}
    p = Path(path)
    if not p.exists():
        return tuple(constants.items()), ()
    try:
        data = json.loads(p.read_text())
        data = data if isinstance(data, dict) else {}
        constants.update(validate_constants(data.get("constants")))
        ratios = validate_backend_ratios(data.get("backends", {}))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        warnings.warn(f"ignoring the fftconv calibration file {p}: {exc}; using the shipped "
                      f"defaults", RuntimeWarning, stacklevel=4)
        constants, ratios = dict(DEFAULT_CONSTANTS), {}
    return tuple(constants.items()), tuple(ratios.items())


def validate_constants(data) -> dict:
    """Check a decoded calibration: known names, positive finite numbers only."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object with a 'constants' mapping")
    out = {}
    for key, value in data.items():
        if key not in DEFAULT_CONSTANTS:
            raise ValueError(f"unknown constant {key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                math.isfinite(value) and value > 0):
            raise ValueError(f"constant {key!r} must be a positive finite number; got {value!r}")
        out[key] = float(value)
    return out


def validate_backend_ratios(data) -> dict:
    """Check decoded backend timings: backend names to positive finite numbers."""
    if not isinstance(data, dict):
        raise ValueError("expected 'backends' to map backend names to numbers")
    for key, value in data.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not (math.isfinite(value) and value > 0):
            raise ValueError(f"backend ratio {key!r} must be a positive finite number; got {value!r}")
    return {key: float(value) for key, value in data.items()}


def clear_cache() -> None:
    """Forget loaded calibration files and the plans made with them."""
    _load.cache_clear()
    from ._api import _cached_plan
    _cached_plan.cache_clear()


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
                  fft_shape=None, repeats=3, dtype=np.float32, backend="scipy"):
    """Best-of-``repeats`` seconds of one method (on one FFT backend) on random data.

    The minimum, not the median: on a shared machine other work only ever adds
    time. Returns ``(geometry, setting, seconds)``.
    """
    from ._api import plan_conv2d
    from .methods import METHODS

    plan = plan_conv2d(input_shape, filters_shape, strides, padding, groups=groups,
                       dtype=dtype, method=method, backend=backend)
    settings = dict(plan.settings)
    if fft_shape is not None:
        settings["fft"] = METHODS["fft"].layout(plan.geometry, {"fft_shape": fft_shape})
    plan = dataclasses.replace(plan, settings=settings)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(input_shape).astype(dtype)
    w = rng.standard_normal(filters_shape).astype(dtype)
    return plan.geometry, settings[method], best_seconds(lambda: plan(x, w), repeats)


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


def _predict(constants, point):
    geom, method, setting, itemsize = point[:4]
    if method == "direct":
        return _planner.direct_seconds(geom, itemsize, constants, setting)
    return _planner.fft_seconds(geom, setting, itemsize, constants)


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

    jobs = []
    for case in GRID:
        jobs.append((case, "direct", None))
        jobs.append((case, "fft", None))
        jobs.append((case, "fft", "half"))
    points, fft_seconds = [], {}
    for case, method, variant in tqdm(jobs, desc="calibrating", disable=not progress):
        fft_shape = _half_tiles(case) if variant else None
        geom, setting, seconds = measure_point(*case, method, fft_shape=fft_shape, repeats=repeats)
        points.append((geom, method, setting, 4, seconds))
        if method == "fft" and not variant and min(case[1][:2]) >= BACKEND_MIN_KERNEL:
            fft_seconds[case] = seconds
    constants, rms = fit_constants(points)
    result = {
        "version": 1,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "numpy": np.__version__},
        "constants": constants,
        "rms_log_error": rms,
        "points": len(points),
        "backends": calibrate_backends(fft_seconds, repeats=repeats, progress=progress),
        "path": None,
    }
    if save:
        target = Path(path) if path else calibration_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(result, indent=2))
        result["path"] = str(target)
        clear_cache()
    return result


def calibrate_backends(scipy_seconds, *, repeats=5, progress=True) -> dict:
    """Each available backend's FFT-method seconds over scipy's, for ``backend="auto"``.

    ``scipy_seconds`` maps calibration cases (as in :data:`GRID`) to the FFT
    method's seconds on scipy; every other backend is timed on the same cases
    (after a warm-up call, so FFTW's planning is not counted) and its ratio is
    the geometric mean over them.  One ratio per machine, not per size:
    ``measure=True`` chooses per size.

    Returns
    -------
    dict
        ``{backend name: ratio}``, scipy's being 1.
    """
    from tqdm.auto import tqdm

    from .backends import DEFAULT_BACKEND, available_backends

    others = [name for name in available_backends() if name != DEFAULT_BACKEND]
    logs = {name: [] for name in others}
    jobs = [(case, name) for name in others for case in scipy_seconds]
    for case, name in tqdm(jobs, desc="timing backends", disable=not progress):
        seconds = measure_point(*case, "fft", repeats=repeats, backend=name)[2]
        logs[name].append(math.log(seconds / scipy_seconds[case]))
    return {DEFAULT_BACKEND: 1.0, **{name: math.exp(sum(v) / len(v)) for name, v in logs.items() if v}}


def _half_tiles(case):
    """An FFT shape with tiles about half as long as the default one, for variety."""
    from ._api import plan_conv2d
    from scipy.fft import next_fast_len

    plan = plan_conv2d(case[0], case[1], case[2], case[3], groups=case[4], method="fft")
    q = plan.layout.phase_kernel
    return tuple(next_fast_len(max(k + 1, (n + k) // 2), real=True)
                 for n, k in zip(plan.layout.fft_shape, q))
