"""A naive float64 (complex128) reference, written straight from TensorFlow's definition.

It shares no code with the methods it checks, is slow on purpose, and is kept
obviously right: for each kernel tap it gathers the input samples that tap
touches and adds their product with the tap's weights to the output.  A
``padding_mode`` other than zeros pads the input with :func:`numpy.pad` itself
first, then runs the same loop with VALID padding.
"""

from __future__ import annotations

import numpy as np

__all__ = ["reference_conv", "reference_input_gradient", "reference_filter_gradient", "relative_error"]

#: torch's padding_mode names and numpy.pad's, written out here independently of fftconv.
_NUMPY_MODES = {"zeros": "constant", "circular": "wrap", "replicate": "edge"}


def reference_conv(x, w, strides=1, padding="VALID", dilations=1, *, flip=False, padding_mode="constant"):
    """Channels-last correlation (or convolution) over any number of spatial axes.

    Cross-correlation without conjugation: ``y[i] = sum_k x[i * s + k * d] w[k]``,
    complex values included.

    Parameters
    ----------
    x : array_like
        ``(N, *spatial, C_in)``.
    w : array_like
        ``(*kernel, C_in / groups, C_out)``.
    strides, dilations : int or sequence of int, one per spatial axis
    padding : {"SAME", "VALID"} or sequence of (before, after) pairs
    flip : bool
        Reverse the kernel first (true convolution).
    padding_mode : str
        :func:`numpy.pad`'s mode for the pads (or torch's name for one).

    Returns
    -------
    ndarray of float64, or complex128 if either array is complex
        ``(N, *out_spatial, C_out)``.

    Examples
    --------
    >>> x = np.arange(5.0).reshape(1, 5, 1)
    >>> reference_conv(x, np.ones((2, 1, 1)))[0, :, 0]
    array([1., 3., 5., 7.])
    >>> reference_conv(x, np.ones((2, 1, 1)), padding=[(0, 1)], padding_mode="wrap")[0, :, 0]
    array([1., 3., 5., 7., 4.])
    """
    dtype = np.complex128 if np.iscomplexobj(x) or np.iscomplexobj(w) else np.float64
    x = np.asarray(x, dtype=dtype)
    w = np.asarray(w, dtype=dtype)
    nd = w.ndim - 2
    if flip:
        w = w[(slice(None, None, -1),) * nd]
    strides = _per_axis(strides, nd)
    dilations = _per_axis(dilations, nd)
    kernel, group_in, c_out = w.shape[:nd], w.shape[-2], w.shape[-1]
    groups = x.shape[-1] // group_in
    spatial = x.shape[1:-1]
    eff = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    pads = _pads(padding, spatial, eff, strides)
    mode = _NUMPY_MODES.get(padding_mode, padding_mode)
    if mode != "constant" and any(lo or hi for lo, hi in pads):
        x = np.pad(x, [(0, 0), *pads, (0, 0)], mode=mode)
        spatial, pads = x.shape[1:-1], [(0, 0)] * nd
    out_sizes = [(n + lo + hi - e) // s + 1 for n, e, s, (lo, hi) in zip(spatial, eff, strides, pads)]
    y = np.zeros((x.shape[0], *out_sizes, c_out), dtype=dtype)
    g_out = c_out // groups
    for tap in np.ndindex(*kernel):
        patch = _gather(x, tap, out_sizes, strides, dilations, pads)
        for g in range(groups):
            cin = slice(g * group_in, (g + 1) * group_in)
            cout = slice(g * g_out, (g + 1) * g_out)
            y[..., cout] += patch[..., cin] @ w[tap][:, cout]
    return y


def reference_input_gradient(dy, w, input_shape, strides=1, padding="VALID", dilations=1):
    """The gradient of :func:`reference_conv` with respect to its input: a transposed convolution.

    By the definition: for each kernel tap, every output gradient sample is
    multiplied by the tap's weights and added to the input position that tap
    read, ``x[o * s + t * d - pad_before]``.

    Parameters
    ----------
    dy : array_like
        ``(N, *out_spatial, C_out)``.
    w : array_like
        ``(*kernel, C_in / groups, C_out)``.
    input_shape : tuple of int
        ``(N, *spatial, C_in)``.
    strides, padding, dilations
        As for :func:`reference_conv`.

    Returns
    -------
    ndarray of float64
        ``input_shape``.

    Examples
    --------
    >>> reference_input_gradient(np.ones((1, 4, 1)), np.ones((2, 1, 1)), (1, 5, 1))[0, :, 0]
    array([1., 2., 2., 2., 1.])
    """
    dy = np.asarray(dy, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nd = w.ndim - 2
    strides, dilations = _per_axis(strides, nd), _per_axis(dilations, nd)
    kernel, group_in, c_out = w.shape[:nd], w.shape[-2], w.shape[-1]
    spatial, groups = tuple(input_shape[1:-1]), input_shape[-1] // group_in
    eff = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    pads = _pads(padding, spatial, eff, strides)
    dx = np.zeros(input_shape)
    g_out = c_out // groups
    for tap in np.ndindex(*kernel):
        outs, ins = [], []
        for o, k, s, d, (lo, _), n in zip(dy.shape[1:-1], tap, strides, dilations, pads, spatial):
            pos = np.arange(o) * s + k * d - lo
            keep = (pos >= 0) & (pos < n)
            outs.append(np.arange(o)[keep])
            ins.append(pos[keep])
        part = dy[np.ix_(np.arange(dy.shape[0]), *outs, np.arange(c_out))]
        for g in range(groups):
            cin = slice(g * group_in, (g + 1) * group_in)
            cout = slice(g * g_out, (g + 1) * g_out)
            dx[np.ix_(np.arange(dx.shape[0]), *ins, np.arange(cin.start, cin.stop))] += part[..., cout] @ w[tap][:, cout].T
    return dx


def reference_filter_gradient(x, dy, filters_shape, strides=1, padding="VALID", dilations=1):
    """The gradient of :func:`reference_conv` with respect to its filters.

    By the definition: tap ``t`` of the gradient is the sum over images and
    outputs of the input samples that tap read times the output gradient,
    within each channel group.

    Examples
    --------
    >>> x = np.arange(5.0).reshape(1, 5, 1)
    >>> reference_filter_gradient(x, np.ones((1, 4, 1)), (2, 1, 1))[:, 0, 0]
    array([ 6., 10.])
    """
    x = np.asarray(x, dtype=np.float64)
    dy = np.asarray(dy, dtype=np.float64)
    nd = len(filters_shape) - 2
    strides, dilations = _per_axis(strides, nd), _per_axis(dilations, nd)
    kernel, group_in, c_out = tuple(filters_shape[:nd]), filters_shape[-2], filters_shape[-1]
    groups = x.shape[-1] // group_in
    eff = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    pads = _pads(padding, x.shape[1:-1], eff, strides)
    dw = np.zeros(filters_shape)
    g_out = c_out // groups
    for tap in np.ndindex(*kernel):
        patch = _gather(x, tap, dy.shape[1:-1], strides, dilations, pads).reshape(-1, x.shape[-1])
        grad = dy.reshape(-1, c_out)
        for g in range(groups):
            cin = slice(g * group_in, (g + 1) * group_in)
            cout = slice(g * g_out, (g + 1) * g_out)
            dw[tap][:, cout] = patch[:, cin].T @ grad[:, cout]
    return dw


def _per_axis(value, nd):
    values = [value] if np.isscalar(value) else list(value)
    return values * nd if len(values) == 1 else values


def _pads(padding, spatial, eff, strides):
    if isinstance(padding, str) and padding.upper() == "VALID":
        return [(0, 0)] * len(spatial)
    if isinstance(padding, str):  # SAME: out = ceil(n / s), odd pixel at the end
        pads = []
        for n, e, s in zip(spatial, eff, strides):
            total = max((-(-n // s) - 1) * s + e - n, 0)
            pads.append((total // 2, total - total // 2))
        return pads
    return [tuple(p) for p in padding]


def _gather(x, tap, out_sizes, strides, dilations, pads):
    """Input samples under kernel tap ``tap`` for every output, zero in the padding."""
    index, valid = [np.arange(x.shape[0])], np.ones((), dtype=bool)
    for axis, (k, o, s, d, (lo, _)) in enumerate(zip(tap, out_sizes, strides, dilations, pads)):
        pos = np.arange(o) * s + k * d - lo
        inside = (pos >= 0) & (pos < x.shape[axis + 1])
        index.append(np.clip(pos, 0, max(x.shape[axis + 1] - 1, 0)))
        valid = valid[..., None] & inside
    if x.size == 0:
        return np.zeros((x.shape[0], *out_sizes, x.shape[-1]), dtype=x.dtype)
    patch = x[np.ix_(*index, np.arange(x.shape[-1]))]
    return patch * valid[None, ..., None]


def relative_error(y, ref) -> float:
    """Relative L2 error ``||y - ref|| / ||ref||`` in float64 or complex128 (0 when both are zero)."""
    dtype = np.complex128 if np.iscomplexobj(y) or np.iscomplexobj(ref) else np.float64
    y = np.asarray(y, dtype=dtype)
    ref = np.asarray(ref, dtype=dtype)
    norm = np.linalg.norm(ref)
    diff = np.linalg.norm(y - ref)
    return float(diff / norm) if norm else float(diff)
