"""What happens to NaN and Inf inputs: ``nan_treatment``.

``"propagate"`` (the default)
    Non-finite inputs stay local (:mod:`fftconv._engine.guards`): an output whose
    window holds one is NaN, every other output is what it would be without it.
``"fill"``
    Every NaN and Inf of the input counts as ``fill_value`` (default 0).
``"interpolate"``
    Normalised convolution, as astropy.convolution's
    ``nan_treatment="interpolate"``: with ``m`` the input's finite mask and
    ``x0`` the input with its non-finite samples set to 0,

    ``y = conv(x0, k) / conv(m, k) * sum(k)``

    per output channel (``sum(k)`` over the taps and the input channels of its
    group). Pads count as finite samples: zeros for ``padding_mode="constant"``,
    copies of the input (finite or not) for the other modes; so an input
    without NaN or Inf gives exactly the plain result, and so does every output
    whose window holds none. Inf counts as missing, as NaN does (as in
    ``astropy.convolution.convolve_fft``; astropy's direct ``convolve`` treats
    only NaN as missing and lets an Inf spread over its window).

    An output whose finite samples carry no weight (``|conv(m, k)|`` within
    rounding of zero: at most :func:`zero_weight` of ``sum(|k|)``) keeps the
    input sample under the kernel's centre, times ``sum(k)``, as
    ``astropy.convolution.convolve`` keeps it (with ``normalize_kernel=False``),
    where a call has such a sample for every output: odd kernels, stride 1,
    outputs centred on their inputs (scipy's ``"same"``; TensorFlow's
    ``"SAME"`` and equal explicit pads), one input channel per group. Elsewhere,
    and where that sample is missing too, the output is NaN, and a
    :class:`RuntimeWarning` says how many outputs stayed NaN (astropy warns
    too). A kernel with negative weights can make ``conv(m, k)``
    small but not zero, which amplifies the result: a :class:`RuntimeWarning`
    says how many outputs have ``|conv(m, k)|`` below :data:`NEAR_ZERO` of
    ``|sum(k)|``. A kernel whose sum is zero cannot be normalised:
    :class:`ValueError`, before any work.

Both convolutions run as one: ``x0`` and ``1 - m`` (the non-finite mask, which
the pads read as the input's own samples) are stacked along the batch, so one
plan, one transform of the kernel and one run serve both, and
``conv(m, k) = sum(k) - conv(1 - m, k)``.
"""

from __future__ import annotations

import math
import os
import sys
import warnings

import numpy as np

from fftconv import _checks
from fftconv._engine import complex as _complex
from fftconv._engine.folded import window_any

__all__ = ["NEAR_ZERO", "zero_weight", "kernel_sums", "check_normalisable", "normalise", "run_treated",
           "kernel_reach"]

#: A warning is given when a kernel with negative (or complex) weights leaves outputs with
#: ``|conv(m, k)|`` below this fraction of ``|sum(k)|``: they are amplified more than 1 / NEAR_ZERO.
NEAR_ZERO = 1e-2


def zero_weight(dtype, taps: int) -> float:
    """The fraction of ``sum(|k|)`` below which ``|conv(m, k)|`` counts as zero: ``64 * eps *
    sqrt(taps)`` of the real precision, well above the rounding of either method.

    Examples
    --------
    >>> f"{zero_weight(np.float32, 100):.1e}", f"{zero_weight(np.float64, 100):.1e}"
    ('7.6e-05', '1.4e-13')
    """
    return 64 * float(np.finfo(_complex.real_dtype(dtype)).eps) * math.sqrt(max(taps, 1))


def kernel_sums(w: np.ndarray, axes) -> tuple[np.ndarray, np.ndarray]:
    """``(sum(k), sum(|k|))`` of ``w`` over ``axes`` (kept as length-1 axes), in float64 or complex128."""
    wide = w.astype(np.complex128 if w.dtype.kind == "c" else np.float64, copy=False)
    return wide.sum(axis=axes, keepdims=True), np.abs(wide).sum(axis=axes, keepdims=True)


def check_normalisable(sums: np.ndarray, abs_sums: np.ndarray, name: str = "filters") -> None:
    """``"interpolate"`` divides by ``sum(k)``: refuse kernels whose sum is zero (to rounding)."""
    flat_sums, flat_abs = sums.reshape(-1), abs_sums.reshape(-1)
    bad = np.abs(flat_sums) <= 1e-8 * flat_abs
    bad |= flat_abs == 0
    if bad.any():
        i = int(np.argmax(bad))
        where = f" (kernel {i} of {flat_sums.size})" if flat_sums.size > 1 else ""
        total = complex(flat_sums[i]) if flat_sums.dtype.kind == "c" else float(flat_sums[i])
        raise ValueError(f"nan_treatment='interpolate' divides by the kernel's sum, but `{name}` sums to "
                         f"{total:.3g}{where}, against {float(flat_abs[i]):.3g} in absolute value; use "
                         f"nan_treatment='fill' for zero-sum kernels")


def normalise(conv_x0, conv_bad, touched, sums, abs_sums, taps: int, signed: bool,
              centre=None) -> np.ndarray:
    """``conv_x0 * sum(k) / (sum(k) - conv_bad)`` where ``touched``, ``conv_x0`` elsewhere; where
    the weight is zero to rounding, ``centre() * sum(k)`` (``centre`` makes the input samples
    under the kernel's centre, in the outputs' shape) or NaN without one, with a warning for
    each NaN left. ``sums`` and ``abs_sums`` broadcast against the outputs; ``signed``: the
    kernel has negative or complex weights (warn when amplified). Returns a new array of
    ``conv_x0``'s dtype."""
    dtype = conv_x0.dtype
    y = np.array(conv_x0, dtype=dtype, order="C")
    if not touched.any():
        return y
    sums_b = np.broadcast_to(sums, conv_x0.shape)[touched]
    abs_b = np.broadcast_to(abs_sums, conv_x0.shape)[touched]
    weight = sums_b - conv_bad[touched]
    empty = np.abs(weight) <= zero_weight(dtype, taps) * abs_b
    with np.errstate(divide="ignore", invalid="ignore"):
        values = conv_x0[touched] * (sums_b / weight)
    if empty.any():
        values[empty] = np.broadcast_to(centre(), conv_x0.shape)[touched][empty] * sums_b[empty] \
            if centre is not None else np.nan
        left = int(np.count_nonzero(np.isnan(values[empty])))
        if left:
            _warn(f"nan_treatment='interpolate': {left} output(s) have no finite sample with weight in "
                  f"their window and stay NaN; a kernel wider than the largest hole of NaN or Inf fills them")
    y[touched] = values
    if signed:  # weights that cancel can leave a window with finite samples but almost no weight
        small = int(np.count_nonzero((np.abs(weight) < NEAR_ZERO * np.abs(sums_b)) & ~empty))
        if small:
            _warn(f"nan_treatment='interpolate': the kernel has negative or complex weights, and "
                  f"{small} output(s) have |conv(m, k)| below {NEAR_ZERO:g} of |sum(k)| (m: the "
                  f"finite mask), so their normalisation amplifies them more than {1 / NEAR_ZERO:g}x")
    return y


def _warn(message: str) -> None:
    """A :class:`RuntimeWarning` attributed to the caller's first line outside fftconv."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, RuntimeWarning, stacklevel=level)


def is_signed(w: np.ndarray) -> bool:
    """True when a kernel has a negative or complex weight (its weights can cancel).

    Examples
    --------
    >>> is_signed(np.array([1.0, 0.0])), is_signed(np.array([1.0, -0.5])), is_signed(np.array([1 + 0j, 1j]))
    (False, True, True)
    """
    if w.size == 0 or w.dtype.kind in "bu":
        return False
    if w.dtype.kind == "c":
        return bool((w.real < 0).any() or (w.imag != 0).any())
    return bool((w < 0).any())


def nonfinite(x: np.ndarray) -> np.ndarray | None:
    """The mask of ``x``'s NaN and Inf values, or None when there are none (integers never have)."""
    if x.dtype.kind in "biu" or x.size == 0:
        return None
    bad = ~np.isfinite(x)
    return bad if bad.any() else None


def run_treated(plan, plan_for, x, w, treatment: str, fill_value, names=("input", "filters")):
    """A conv1d/2d/3d or depthwise call with ``nan_treatment``: ``plan`` is the call's plan,
    ``plan_for(shape, dtype)`` plans the same call for another input shape and dtype."""
    if treatment == "interpolate":  # the kernel's sums are checked before any work
        spatial_and_group = tuple(range(w.ndim - 1))
        sums, abs_sums = kernel_sums(w, spatial_and_group)
        check_normalisable(sums, abs_sums, names[1])
    bad = nonfinite(x)
    if bad is None or treatment == "propagate":
        return plan._run_checked(x, w, names)
    if treatment == "fill":
        return plan._run_checked(np.where(bad, np.asarray(fill_value, x.dtype), x), w, names)
    n = x.shape[0]
    stack = np.empty((2 * n, *x.shape[1:]), dtype=_stack_dtype(x.dtype, plan.dtype))
    np.copyto(stack[:n], x, casting="unsafe")
    stack[:n][bad] = 0
    stack[n:] = bad
    both = plan_for(stack.shape, stack.dtype)._run_checked(stack, w, names)
    first = plan.channels_first
    geom = plan.geometry
    touched = window_any(plan, np.moveaxis(bad, 1, -1) if first else bad)
    if first:
        touched = np.moveaxis(touched, -1, 1)
    shape = [1] * x.ndim
    shape[1 if first else -1] = -1
    y = normalise(both[:n], both[n:], touched, sums.reshape(shape), abs_sums.reshape(shape),
                  math.prod(geom.kernel) * geom.group_in, is_signed(w), centre=_centre_samples(x, geom, first))
    out_dtype = _checks.result_dtypes(x.dtype, w.dtype, names)[1]
    return y if y.dtype == out_dtype else y.astype(out_dtype)


def has_centres(geom) -> bool:
    """Whether every output of ``geom`` has one input sample under its kernel's centre: odd
    kernels, stride 1, as many outputs as inputs, centred (``lo = (eff - 1) / 2``), one input
    channel per group.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> has_centres(check_geometry((1, 9, 9, 2), (3, 5, 1, 4), 2, 1, "SAME", "NHWC", 2, None, False))
    True
    >>> has_centres(check_geometry((1, 9, 9, 2), (3, 4, 1, 4), 2, 1, "SAME", "NHWC", 1, None, False))
    False
    """
    return geom.group_in == 1 and all(
        k % 2 == 1 and s == 1 and o == n and lo == (e - 1) // 2
        for k, s, o, n, (lo, _), e in zip(geom.kernel, geom.strides, geom.out_spatial, geom.spatial, geom.pads,
                                          geom.eff_kernel))


def _centre_samples(x, geom, channels_first):
    """For :func:`normalise`: a function making the input sample under each output's kernel
    centre (output channel ``j`` reads input channel ``j // M``), or None where there is none."""
    if not has_centres(geom):
        return None
    per_channel = geom.out_channels // geom.in_channels

    def centre():
        return np.repeat(x, per_channel, axis=1 if channels_first else -1)
    return centre


def _stack_dtype(x_dtype, compute) -> np.dtype:
    """The stacked input's dtype: the plan's compute precision, complex only if ``x`` is."""
    compute = np.dtype(compute)
    return compute if x_dtype.kind == "c" else _complex.real_dtype(compute)


def kernel_reach(bad_w: np.ndarray, geom) -> np.ndarray:
    """Outputs ``(*out, C_out)`` that a True of ``bad_w`` (filters-shaped) meets with an input sample.

    For the engine geometry ``geom`` (stride and dilation 1): filter tap ``u`` of output ``o``
    reads padded position ``o + k - 1 - u`` (``flip``) or ``o + u``; with zero pads it meets
    an input sample only inside ``[lo, lo + n)``, with other modes everywhere. Counted by
    box sums of the mask over the taps each output reads, one cumulative sum per axis.

    Examples
    --------
    >>> from fftconv._checks import check_geometry
    >>> g = check_geometry((1, 4, 1), (3, 1, 1), 1, 1, [(2, 2)], "NWC", 1, None, True)
    >>> bad = np.zeros((3, 1, 1), bool); bad[0] = True   # filter tap 0 meets x[o], for o < 4
    >>> kernel_reach(bad, g)[:, 0].astype(int).tolist()
    [1, 1, 1, 1, 0, 0]
    """
    m = bad_w.any(axis=-2)  # (*k, C_out)
    nd = geom.ndim
    if geom.flip:
        m = m[(slice(None, None, -1),) * nd]
    if geom.padding_mode != "constant":
        anywhere = m.reshape(-1, m.shape[-1]).any(axis=0)
        return np.broadcast_to(anywhere, (*geom.out_spatial, m.shape[-1])).copy()
    counts = m.astype(np.int64)
    for axis, (n, k, (lo, _), out) in enumerate(zip(geom.spatial, geom.kernel, geom.pads, geom.out_spatial)):
        c = np.concatenate([np.zeros((*counts.shape[:axis], 1, *counts.shape[axis + 1:]), np.int64),
                            np.cumsum(counts, axis=axis)], axis=axis)
        o = np.arange(out)
        counts = (np.take(c, np.clip(lo + n - o, 0, k), axis=axis)
                  - np.take(c, np.clip(lo - o, 0, k), axis=axis))
    return counts > 0
