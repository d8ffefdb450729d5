"""``FFTCONV_DISABLE``: the fast parts a process is told to leave unused.

ducc0's transforms and numba's compiled loops are dependencies, and fftconv
uses them wherever they are installed. The fallbacks behind them (scipy.fft's
transforms, numpy's elementwise loops) stay supported and tested: setting
``FFTCONV_DISABLE`` to a comma-separated list of :data:`PARTS` before
``import fftconv`` makes the process run as if those were not installed, e.g.
``FFTCONV_DISABLE=ducc0,numba python -m pytest`` (how CI tests the fallbacks).
The variable is read once, when :mod:`fftconv.backends` and
:mod:`fftconv.methods._compiled` are imported; changing it later does nothing.
"""

from __future__ import annotations

import os
import warnings

__all__ = ["ENV_VAR", "PARTS", "disabled_parts", "DISABLED"]

#: The environment variable listing the parts to leave unused.
ENV_VAR = "FFTCONV_DISABLE"
#: What it may name: the ducc0 and pyFFTW backends, and numba's compiled loops.
PARTS = ("ducc0", "numba", "pyfftw")


def disabled_parts(value: str | None = None) -> frozenset:
    """The parts named by ``value`` (by default ``$FFTCONV_DISABLE``), case and spaces ignored.

    Unknown names raise a :class:`RuntimeWarning` that lists :data:`PARTS`, and are ignored.

    Examples
    --------
    >>> from fftconv._runtime.switches import disabled_parts
    >>> sorted(disabled_parts("ducc0, NUMBA"))
    ['ducc0', 'numba']
    >>> disabled_parts("")
    frozenset()
    """
    if value is None:
        value = os.environ.get(ENV_VAR, "")
    names = {part.strip().lower() for part in value.split(",")} - {""}
    unknown = sorted(names - set(PARTS))
    if unknown:
        warnings.warn(f"{ENV_VAR} names {', '.join(map(repr, unknown))}, which fftconv does not know; it "
                      f"accepts a comma-separated list of {', '.join(map(repr, PARTS))}", RuntimeWarning,
                      stacklevel=2)
    return frozenset(names & set(PARTS))


#: The parts this process leaves unused, read once at import.
DISABLED = disabled_parts()
