"""The registry of convolution methods.

Each method is one module defining a :class:`~fftconv.methods.base.Method`
(the protocol: candidates and predicted seconds, peak bytes, prepare, execute,
and what the guards need), registered here by one line. Everything above this
package (the planner, the memory model, the guards, ``measure=True``,
calibration, the command line, the plans' reports) iterates over
:data:`METHODS` and never names a method, but for :data:`REFERENCE`.

:data:`REFERENCE` is the method whose rounding is per output and whose integer
sums are exact: the guards fall back to it where another method could not
keep an output within the accuracy contract.
"""

from __future__ import annotations

from fftconv.methods.base import Method
from fftconv.methods.direct import DirectMethod
from fftconv.methods.fft import FFTMethod
from fftconv.methods.lowrank import LowRankMethod
from fftconv.methods.winograd import WinogradMethod

#: Every registered method by name, in registration order.
METHODS: dict[str, Method] = {}

#: The method the guards fall back to: local (per-output rounding) and integer-exact.
REFERENCE = "direct"


def register(method: Method) -> Method:
    """Add ``method`` to :data:`METHODS` (its ``name`` must be new); return it.

    Examples
    --------
    >>> from fftconv.methods import METHODS
    >>> list(METHODS)
    ['direct', 'fft', 'lowrank', 'winograd']
    """
    if not isinstance(method, Method):
        raise TypeError(f"`method` must be an instance of fftconv.methods.base.Method; got {type(method).__name__}")
    if method.name in METHODS or method.name == "auto":
        raise ValueError(f"a method named {method.name!r} is already registered (or reserved)")
    METHODS[method.name] = method
    return method


def unregister(name: str) -> None:
    """Remove a registered method (the reference method stays)."""
    if name == REFERENCE:
        raise ValueError(f"the reference method {REFERENCE!r} cannot be removed")
    METHODS.pop(name)


register(DirectMethod())
register(FFTMethod())
register(LowRankMethod())
register(WinogradMethod())

__all__ = ["METHODS", "REFERENCE", "Method", "register", "unregister", "DirectMethod", "FFTMethod", "LowRankMethod", "WinogradMethod"]
