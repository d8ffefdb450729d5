"""Known wrong answers the accuracy guard does not yet catch (issue 23, left open).

Found by a fresh-context differential review after the rim check landed.  Each is strict:
the day the guard catches it, the test fails and its marker must go.  Reproducers with
sweeps over contrast and dtype were kept with the review's notes.

- Filter weight concentrated on faint structure finer than a cell: a Bayer-like mosaic under a
  comb filter (taps on every other sample, over faint sites on every other sample).  The cells
  hold consecutive samples of a residue class of the dilation; the comb's own lattice would
  need cells by residue class modulo its step.

(The review's other families are caught now, in ``tests/test_guard.py``: faint samples beside
zeros inside the input, a disc's corner beside explicit pads, and filters whose weight rests on
far fewer taps than their array - a small box stored in a large array, a narrow Gaussian in a
wide stamp - whose cells are now sized from the taps that carry the weight.)
"""

import numpy as np
import pytest

import fftconv

HOLE = pytest.mark.xfail(strict=True, reason="issue 23: the guard misses this family (see the module docstring)")


def _eps_d(x, w, **options):
    """``eps * D`` per output (float64 inputs' |x| and |w|, the direct sums of magnitudes)."""
    return fftconv.conv2d(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64), method="direct", **options)


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
