"""Known wrong answers the accuracy guard does not yet catch (issue 23, left open).

Found by a fresh-context differential review after the rim check landed.  Each is strict:
the day the guard catches it, the test fails and its marker must go.  Reproducers with
sweeps over contrast and dtype were kept with the review's notes.

- Faint samples beside exact zeros *inside* the input (a mask, a zero frame): the window's
  non-zero samples are a few faint ones, and every cell they share also holds bright ones
  (the rim check covers zero pads only).
- Filter weight concentrated on faint structure finer than a cell (a Bayer-like mosaic and a
  comb filter): the faintest level the guard sees is a cell's mean.
- An output near the rim whose filter's non-zero taps (a disc) reach only a few samples.
"""

import numpy as np
import pytest

import fftconv

HOLE = pytest.mark.xfail(strict=True, reason="issue 23: the guard misses this family (see the module docstring)")


def _eps_d(x, w, **options):
    """``eps * D`` per output (float64 inputs' |x| and |w|, the direct sums of magnitudes)."""
    return fftconv.conv2d(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64), method="direct", **options)


@HOLE
def test_faint_column_beside_zeros_inside_the_input():
    rng = np.random.default_rng(1)
    x = np.zeros((1, 128, 128, 1))
    x[:, :, 64:] = 1e4 * (rng.random((1, 128, 64, 1)) + 0.5)
    x[:, :, 64] = 1.0
    x = x.astype(np.float32)
    w = np.full((31, 31, 1, 1), 1 / 31**2, np.float32)
    y = fftconv.conv2d(x, w)  # VALID: column 34's windows hold zeros and the faint column only
    assert np.abs(y[0, :, 34, 0] - 1 / 31).max() <= 100 * np.finfo(np.float32).eps


@HOLE
def test_comb_filter_on_a_mosaic_of_faint_sites():
    rng = np.random.default_rng(0)
    x = (rng.random((1, 96, 96, 1)) + 0.5) * 1e6
    x[:, ::2, ::2] /= 1e6  # faint sites
    w = np.zeros((31, 31, 1, 1))
    w[::2, ::2] = rng.random((16, 16, 1, 1)) + 0.5  # taps on the faint sites only
    y = fftconv.conv2d(x, w)
    exact = fftconv.conv2d(x, w, method="direct")
    faint = (slice(None), slice(0, None, 2), slice(0, None, 2))
    scale = _eps_d(x, w)[faint]
    assert (np.abs(y[faint] - exact[faint]) <= 100 * np.finfo(np.float64).eps * scale + np.abs(exact[faint]) * 1e-15).all()


@HOLE
def test_disc_corner_output_beside_explicit_pads():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 82, 86, 1)) * 3.7e4
    x[:, :, -1] /= 3.7e4  # a faint last column
    g = np.indices((37, 41))
    w = ((((g[0] - 18) / 18.5) ** 2 + ((g[1] - 20) / 20.5) ** 2 <= 1) * 1.0)[..., None, None]
    pads = [[29, 30], [26, 35]]
    y = fftconv.conv2d(x, w, padding=pads)[0, -1, -1, 0]
    xe = np.pad(x[0, :, :, 0].astype(np.longdouble), pads)
    exact = np.sum(xe[-37:, -41:] * w[:, :, 0, 0])
    direct = fftconv.conv2d(x, w, padding=pads, method="direct")[0, -1, -1, 0]
    scale = _eps_d(x, w, padding=pads)[0, -1, -1, 0] * np.finfo(np.float64).eps
    assert abs(y - exact) <= 100 * max(abs(direct - exact), scale)
