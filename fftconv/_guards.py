"""Guards that keep the FFT method as trustworthy as the direct one.

Non-finite inputs
    An FFT spreads one NaN or Inf over a whole tile; the direct method keeps
    it inside the outputs whose receptive field holds it. The rule fftconv
    follows for every method: an output whose receptive field (within its
    channel group) holds no NaN or Inf equals the direct result, and an output
    whose field holds one is non-finite. The FFT method gets there by zeroing
    the non-finite inputs, convolving, and setting to NaN the outputs that a
    box count of the non-finite mask marks.
Integer inputs
    When both arrays hold integers (or bools), the exact result is an integer.
    The FFT result is rounded to it when a bound on its rounding error stays
    below a quarter; otherwise ``auto`` runs the direct method, whose float64
    sums are exact below 2**53.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import DATA_FORMATS
from ._geometry import ConvGeometry

#: Rounding an FFT result to integers is trusted only below this error bound.
INTEGER_ERROR_LIMIT = 0.25


def nonfinite_mask(x: np.ndarray):
    """Boolean mask of the non-finite entries of ``x``, or None when all are finite."""
    finite = np.isfinite(x)
    return None if finite.all() else ~finite


def affected_outputs(mask: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    """Outputs ``(N, *out, C_out)`` whose receptive field holds a masked input.

    The mask is reduced over each group's channels, then counted over every
    output's (strided, dilated, padded) receptive field with a depthwise
    convolution of ones.
    """
    from ._api import _convolve  # the count is itself a convolution

    per_group = mask.reshape(*mask.shape[:-1], geom.groups, geom.group_in).any(axis=-1)
    ones = np.ones((*geom.kernel, 1, geom.groups))
    counts = _convolve(geom.ndim, per_group.astype(np.float64), ones, geom.strides,
                       geom.pads, DATA_FORMATS[geom.ndim][0], geom.dilations, geom.groups,
                       False, "auto", None, False)
    return np.repeat(counts > 0.5, geom.group_out, axis=-1)



def is_integer(dtype) -> bool:
    """True for integer and bool dtypes."""
    return np.dtype(dtype).kind in "iub"


def integer_fft_is_exact(x: np.ndarray, filters: np.ndarray, geom: ConvGeometry, layout) -> bool:
    """Whether rounding the float64 FFT result recovers the exact integer result.

    The bound: every output is a sum of ``taps * C_in/groups`` products of at
    most ``max|x| * max|w|``, and a transform of ``n`` points adds a relative
    error of at most ``8 * eps * log2(n)`` of the sum of magnitudes it carries.
    """
    if x.size == 0 or filters.size == 0:
        return True
    points = math.prod(layout.fft_shape)
    magnitude = float(np.max(np.abs(x))) * float(np.max(np.abs(filters)))
    carried = magnitude * points * layout.phases * geom.group_in
    error = 8 * np.finfo(np.float64).eps * math.log2(max(points, 2)) * carried
    exact_sums = magnitude * math.prod(geom.kernel) * geom.group_in < 2**53
    return exact_sums and error < INTEGER_ERROR_LIMIT
