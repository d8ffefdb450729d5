"""The registry of convolution methods.

Each method is a small object with the same three operations, so that plans,
filter banks and the test suite treat every method alike:

``layout(geom, options)``
    Choose method-specific settings from shapes alone (a tile layout, a
    direct strategy); ``options`` may force them.
``prepare(filters, geom, settings, backend, workers)``
    Everything that depends on the filters only (for the FFT method their
    spectrum), so that a filter bank can keep it.
``execute(x, prepared, geom, settings, backend, workers, dtype)``
    Convolve a channels-last input; return a channels-last output in ``dtype``.
``costly_prepare``
    True when ``prepare`` is worth keeping across one-shot calls with the
    same filters (:mod:`fftconv._engine.spectra`); ``execute`` must then treat what
    it prepared as read-only.  When False, ``prepare`` may return the filters
    themselves, which may be the caller's array: ``execute`` only reads them.
``local``
    True when IEEE arithmetic alone keeps a NaN or Inf inside the outputs
    whose window holds it (each output a sum of its own window's products);
    the guards of :mod:`fftconv._engine.guards` then only look for overflows, after
    the run.

A new method registers itself in :data:`METHODS`, and the whole test suite
covers it.
"""

from __future__ import annotations

from fftconv.methods import direct, fft


class DirectMethod:
    """Sliding-window views contracted with BLAS; see :mod:`fftconv.methods.direct`."""

    name = "direct"
    costly_prepare = False  # the filters themselves
    local = True

    def layout(self, geom, options=None):
        return (options or {}).get("strategy") or direct.choose_strategy(geom)

    def prepare(self, filters, geom, settings, backend, workers):
        return filters

    def execute(self, x, prepared, geom, settings, backend, workers, dtype):
        return direct.execute(x, prepared, geom, strategy=settings, workers=workers)


class FFTMethod:
    """Batched FFT overlap-save with channel GEMMs; see :mod:`fftconv.methods.fft`."""

    name = "fft"
    costly_prepare = True  # every filter transformed
    local = False  # a transform spreads a NaN over its tile

    def layout(self, geom, options=None):
        options = options or {}
        return fft.make_layout(geom, options.get("fft_shape"), options.get("complex_pairs", False))

    def prepare(self, filters, geom, settings, backend, workers):
        return fft.prepare(filters, geom, settings, backend, fft.transform_workers(geom, settings, workers))

    def execute(self, x, prepared, geom, settings, backend, workers, dtype):
        workers = fft.transform_workers(geom, settings, workers)
        return fft.execute(x, prepared, geom, settings, backend, workers, dtype)


METHODS = {m.name: m for m in (DirectMethod(), FFTMethod())}

__all__ = ["METHODS", "DirectMethod", "FFTMethod"]
