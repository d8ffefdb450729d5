"""fftconv's folder in the user cache: the calibration file and FFTW's wisdom live there.

The calibration file is ``$FFTCONV_CALIBRATION`` if that is set, else
``<user cache dir>/fftconv/calibration.json``; ``FFTCONV_CALIBRATION=none``
makes one process ignore any file (:mod:`fftconv._engine.constants` reads it).
"""

from __future__ import annotations

import os
from pathlib import Path

try:  # a dependency, imported with fftconv rather than inside a first call
    import platformdirs
except ImportError:  # pragma: no cover - stay usable without it
    platformdirs = None

__all__ = ["ENV_VAR", "IGNORE", "calibration_path", "cache_dir"]

#: The environment variable naming the calibration file.
ENV_VAR = "FFTCONV_CALIBRATION"
#: ``FFTCONV_CALIBRATION=none`` (any case): plan with the shipped defaults, whatever file exists.
IGNORE = "none"
def calibration_path() -> Path | None:
    """Where calibrated constants are read from and written to.

    ``$FFTCONV_CALIBRATION`` if set, else ``calibration.json`` in the user
    cache directory; None when ``FFTCONV_CALIBRATION=none``.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> from fftconv._runtime.cache import calibration_path
    >>> with mock.patch.dict(os.environ, {"FFTCONV_CALIBRATION": "/data/cal.json"}):
    ...     print(calibration_path())
    /data/cal.json
    >>> with mock.patch.dict(os.environ, {"FFTCONV_CALIBRATION": "none"}):
    ...     print(calibration_path())
    None
    """
    value = os.environ.get(ENV_VAR)
    if value:
        return None if value.strip().lower() == IGNORE else Path(value)
    return _cache_dir() / "calibration.json"


def _cache_dir() -> Path:
    if platformdirs is not None:
        return Path(platformdirs.user_cache_dir("fftconv"))
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fftconv"


def cache_dir() -> Path:
    """The directory of the calibration file (the user cache dir when it is ignored)."""
    path = calibration_path()
    return path.parent if path is not None else _cache_dir()
