"""Known wrong answers the accuracy guard does not yet catch (issue 23, left open).

Edge outputs whose window holds only a few real samples beside large pads ("full"
mode, explicit pads nearly as wide as the kernel) are judged from cell statistics
coarser than the window, so the guard sees the bright neighbours and lets the
FFT's rounding through.  Each case here is strict: the day the guard catches it,
the test fails and this marker must go.
"""

import numpy as np
import pytest

import fftconv

HOLE = pytest.mark.xfail(strict=True, reason="issue 23: the guard misses faint edge windows beside wide pads")


@HOLE
def test_full_mode_faint_edge_strip_float32():
    img = np.full((256, 256), 1e4, np.float32)
    img[:, -3:] = 1.0
    blur = np.full((31, 31), 1 / 961, np.float32)
    exact = fftconv.convolve(img.astype(np.float64), blur.astype(np.float64), "full", method="direct")
    y = fftconv.convolve(img, blur, "full")
    assert np.max(np.abs(y[:, -1] - exact[:, -1]) / np.abs(exact[:, -1])) < 1e-4


@HOLE
def test_explicit_pads_faint_corner_float32():
    rng = np.random.default_rng(0)
    a = (1e8 * rng.standard_normal((64, 64))).astype(np.float32)
    a[0, 0] = 1e-8
    w = rng.standard_normal((31, 31)).astype(np.float32)
    pads = [(30, 30), (30, 30)]
    ref = fftconv.conv2d(a[None, ..., None].astype(np.float64), w[..., None, None].astype(np.float64),
                         padding=pads, method="direct")[0, 0, 0, 0]
    got = fftconv.conv2d(a[None, ..., None], w[..., None, None], padding=pads)[0, 0, 0, 0]
    assert abs(got - ref) <= 100 * abs(ref) + 1e-6
