"""The cost model: predicted seconds of each registered method, from shapes alone.

Nothing here touches an array. Each method prices itself
(:meth:`fftconv.methods.base.Method.plan`): the direct method counts
multiply-adds at a GEMM rate that depends on the matrix sizes, plus the bytes
its patches move; the FFT method prices every forward, inverse and filter
transform at its real FFT size, ``n log2 n``, plus the per-frequency complex
GEMM and the memory traffic of gathering tiles, spectra and outputs, choosing
the tile shape that minimises it (:func:`fftconv.methods.fft_layout.best_layout`).

Unlike :func:`scipy.signal.choose_conv_method`, batch and channel axes are
not counted as convolution axes: they multiply the number of transforms and
the GEMM sizes, and overlap-save tiling is one of the candidates.

The constants live in :data:`fftconv._engine.constants.DEFAULT_CONSTANTS` (also
importable from here), with the machine, date and command that fitted them;
:mod:`fftconv.calibration` fits them on the user's machine, and a calibration
file overrides them.
"""

from __future__ import annotations

from fftconv._engine.constants import DEFAULT_CONSTANTS
from fftconv._shapes.geometry import ConvGeometry
from fftconv.methods import METHODS

__all__ = ["estimate", "DEFAULT_CONSTANTS"]


def estimate(geom: ConvGeometry, itemsize: int, constants=None, *, reuse_filters=False, backend_speed=1.0,
             complex_pairs=False):
    """Predicted seconds of every registered method, with each one's settings chosen.

    A method whose preparation is costly (the FFT method's filter spectrum) is
    priced in its steady state, with what it prepared kept (as a filter bank,
    or a loop of one-shot calls with the same filters, finds it); without
    ``reuse_filters`` (one-shot calls) it must also keep a first call within
    :data:`~fftconv.methods.fft_layout.FIRST_CALL_BUDGET` times that.
    ``backend_speed`` scales the work (not the fixed cost per call) of methods
    that run FFT backends, for a backend faster or slower than the one the
    constants were fitted on. ``complex_pairs`` says that ``geom`` is the real
    embedding of a complex convolution with complex filters
    (:func:`fftconv.methods.fft.make_layout`).

    Returns ``(seconds, settings)``: two dicts keyed by method name.

    Examples
    --------
    >>> import fftconv
    >>> from fftconv._engine.costs import estimate
    >>> geom = fftconv.plan_conv2d((1, 256, 256, 1), (31, 31, 1, 1)).geometry
    >>> seconds, settings = estimate(geom, 4)
    >>> sorted(seconds) == sorted(fftconv.METHODS)
    True
    """
    c = {**DEFAULT_CONSTANTS, **(constants or {})}
    seconds, settings = {}, {}
    for name, method in METHODS.items():
        speed = backend_speed if method.uses_backend else 1.0
        seconds[name], settings[name] = method.plan(geom, itemsize, c, reuse_filters=reuse_filters,
                                                    backend_speed=speed, complex_pairs=complex_pairs)
    return seconds, settings
