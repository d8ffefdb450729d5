"""The embedded default backend: :mod:`scipy.fft` (pocketfft)."""

from __future__ import annotations

import scipy.fft


class ScipyBackend:
    """Real transforms through :func:`scipy.fft.rfftn` / :func:`scipy.fft.irfftn`."""

    name = "scipy"
    #: pocketfft vectorises across lines: transforms over the leading axes suit it.
    batch_first = False

    def rfftn(self, a, axes, workers, shape=None):
        if shape is None:
            return scipy.fft.rfftn(a, axes=axes, workers=workers)
        # Zero-padded to ``shape``: one axis at a time, last first, so that each
        # pass runs only over the extent the earlier passes made nonzero.
        out = scipy.fft.rfft(a, n=shape[-1], axis=axes[-1], workers=workers)
        for axis, n in zip(axes[-2::-1], shape[-2::-1]):
            out = scipy.fft.fft(out, n=n, axis=axis, workers=workers, overwrite_x=True)
        return out

    def irfftn(self, a, shape, axes, workers):
        return scipy.fft.irfftn(a, s=shape, axes=axes, workers=workers, overwrite_x=True)

    def __repr__(self):
        return "ScipyBackend()"
