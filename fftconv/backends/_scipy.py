"""The embedded default backend: :mod:`scipy.fft` (pocketfft)."""

from __future__ import annotations

import scipy.fft


class ScipyBackend:
    """Real transforms through :func:`scipy.fft.rfftn` / :func:`scipy.fft.irfftn`."""

    name = "scipy"
    #: pocketfft vectorises across lines: transforms over the leading axes suit it.
    batch_first = False

    def rfftn(self, a, axes, workers):
        return scipy.fft.rfftn(a, axes=axes, workers=workers)

    def irfftn(self, a, shape, axes, workers):
        return scipy.fft.irfftn(a, s=shape, axes=axes, workers=workers, overwrite_x=True)

    def __repr__(self):
        return "ScipyBackend()"
