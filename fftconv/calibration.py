"""Fitting the cost model to this machine, and loading the fitted constants.

The constants are saved as JSON (never pickle) in the user's cache directory,
``$FFTCONV_CALIBRATION`` if set, else ``<user cache dir>/fftconv/calibration.json``.
A missing file means the shipped :data:`~fftconv._planner.DEFAULT_CONSTANTS`;
a corrupt or hostile one means a warning and the defaults.
"""

from __future__ import annotations

import functools
import json
import math
import os
import warnings
from pathlib import Path

from ._planner import DEFAULT_CONSTANTS

ENV_VAR = "FFTCONV_CALIBRATION"


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
    return dict(_load(str(path or calibration_path())))


@functools.lru_cache(maxsize=8)
def _load(path: str) -> tuple:
    constants = dict(DEFAULT_CONSTANTS)
    p = Path(path)
    if not p.exists():
        return tuple(constants.items())
    try:
        data = json.loads(p.read_text())
        constants.update(validate_constants(data.get("constants") if isinstance(data, dict) else None))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        warnings.warn(f"ignoring the fftconv calibration file {p}: {exc}; using the shipped "
                      f"defaults", RuntimeWarning, stacklevel=4)
    return tuple(constants.items())


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


def clear_cache() -> None:
    """Forget loaded calibration files and the plans made with them."""
    _load.cache_clear()
    from ._api import _cached_plan
    _cached_plan.cache_clear()
