"""JAX's convolution computed by fftconv: ``jax.lax.conv_general_dilated``'s semantics, differentiable.

:func:`conv_general_dilated` takes the arguments of
:func:`jax.lax.conv_general_dilated` and returns the same result, computed on
the CPU by fftconv's planner and methods.  It is a :func:`jax.custom_vjp`
whose forward pass and two gradients (:func:`~fftconv.conv2d_backprop_input`,
:func:`~fftconv.conv2d_backprop_filter`) are each one :func:`jax.pure_callback`,
so it works under :func:`jax.jit`, :func:`jax.grad` and :func:`jax.vmap`:

* under ``jit`` the two gradients are separate callbacks, and one that no
  output needs (the filter gradient of ``grad`` with respect to the input
  alone) is dropped by XLA's dead-code elimination;
* under ``vmap`` a batched input with shared filters is folded into the
  batch axis (one call); batched filters run one call per example.

Supported: any ``dimension_numbers`` (``("NHWC", "HWIO", "NHWC")``, the
default NCHW/OIHW, or a ``ConvDimensionNumbers``), ``window_strides``,
``padding`` as ``"SAME"``, ``"SAME_LOWER"``, ``"VALID"`` or ``(low, high)``
pairs (negative ones crop), ``rhs_dilation`` and ``feature_group_count``.
Not supported, with a ``ValueError`` that says so: ``lhs_dilation`` other than
ones (a transposed convolution) and ``batch_group_count`` other than 1.
``precision`` is accepted and ignored: fftconv computes float32 in float32
and float64 in float64; float16 and bfloat16 are computed in float32.

This module needs jax (``pip install 'fftconv[jax]'``); ``import fftconv``
never imports it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import jax  # the real jax: imports are absolute, this module is fftconv.jax
import jax.numpy as jnp

from fftconv._engine import planner
from fftconv._ops import layer as _layer

__all__ = ["conv_general_dilated"]

_FLOATS = ("float16", "bfloat16", "float32", "float64")
_FORMATS = {1: ("NCW", "NWC"), 2: ("NCHW", "NHWC"), 3: ("NCDHW", "NDHWC")}


@dataclass(frozen=True)
class _Conv:
    """One call's static options: hashable, so each distinct one is traced once."""

    strides: tuple
    pads: tuple
    dilations: tuple
    groups: int
    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple
    method: str

    @property
    def nd(self) -> int:
        return len(self.strides)

    @property
    def channels_first(self) -> bool:
        """Whether the input and output are laid out ``(N, C, *spatial)``: fftconv reads them as they are."""
        ident = tuple(range(self.nd + 2))
        return self.lhs_spec == ident and self.out_spec == ident

    def _perm(self, spec) -> tuple:
        """The axes of an array laid out by ``spec``, in fftconv's order."""
        return tuple(spec) if self.channels_first else (spec[0], *spec[2:], spec[1])

    @property
    def lhs_perm(self) -> tuple:
        return self._perm(self.lhs_spec)

    @property
    def out_perm(self) -> tuple:
        return self._perm(self.out_spec)

    @property
    def rhs_perm(self) -> tuple:
        """``rhs``'s axes in fftconv's ``(*kernel, C_in / groups, C_out)`` order."""
        return (*self.rhs_spec[2:], self.rhs_spec[1], self.rhs_spec[0])

    @property
    def geometry(self) -> _layer.LayerGeometry:
        fmt = _FORMATS[self.nd][0 if self.channels_first else 1]
        return _layer.LayerGeometry(self.strides, self.pads, self.dilations, self.groups, "constant", fmt,
                                    self.method)

    def out_shape(self, lhs_shape, rhs_shape) -> tuple:
        out = [0] * (self.nd + 2)
        out[self.out_spec[0]] = lhs_shape[self.lhs_spec[0]]
        out[self.out_spec[1]] = rhs_shape[self.rhs_spec[0]]
        for i in range(self.nd):
            n, k = lhs_shape[self.lhs_spec[2 + i]], rhs_shape[self.rhs_spec[2 + i]]
            lo, hi = self.pads[i]
            out[self.out_spec[2 + i]] = (n + lo + hi - self.dilations[i] * (k - 1) - 1) // self.strides[i] + 1
        return tuple(out)


# -- numpy side: what the callbacks run ------------------------------------------------------------
# Under vmap (``vmap_method="expand_dims"``) every array arrives with the same number ``k`` of
# leading axes, of size 1 where it is not batched; results carry the broadcast leading shape.

def _view(a: np.ndarray, perm: tuple, k: int) -> np.ndarray:
    """``a`` (``k`` leading axes, then a lax layout) with its last axes in fftconv's order: a view."""
    return a.transpose(*range(k), *(p + k for p in perm))


def _unview(a: np.ndarray, perm: tuple, k: int) -> np.ndarray:
    return a.transpose(*range(k), *(p + k for p in np.argsort(perm)))


def _leading(arrays, k) -> tuple:
    return np.broadcast_shapes(*(a.shape[:k] for a in arrays))


def _per_example(fn, arrays, k, dtype):
    """``fn`` on each example of the broadcast leading axes; results stacked."""
    lead = _leading(arrays, k)
    out = None
    for index in np.ndindex(*lead):
        parts = [a[tuple(i if a.shape[j] > 1 else 0 for j, i in enumerate(index))] for a in arrays]
        r = fn(*parts)
        if out is None:
            out = np.empty(lead + r.shape, dtype)
        out[index] = r
    return out


def _folded(cfg, k, x_view, dy_view=None):
    """Fold the leading axes into the batch axis: ``(B..., N, ...)`` -> ``(B * N, ...)``."""
    lead = x_view.shape[:k]
    return lead, x_view.reshape((-1, *x_view.shape[k + 1:])), (
        None if dy_view is None else np.broadcast_to(dy_view, lead + dy_view.shape[k:]).reshape(
            (-1, *dy_view.shape[k + 1:])))


def _forward_np(cfg: _Conv, x, w):
    g, k = cfg.geometry, x.ndim - cfg.nd - 2
    xv, wv = _view(x, cfg.lhs_perm, k), _view(w, cfg.rhs_perm, k)
    if k and math.prod(w.shape[:k]) == 1:  # shared filters: one call over every example
        lead, xf, _ = _folded(cfg, k, xv)
        y = _layer.forward(xf, wv.reshape(wv.shape[k:]), g)
        y = y.reshape(lead + (xv.shape[k],) + y.shape[1:])
    elif k:
        y = _per_example(lambda a, b: _layer.forward(a, b, g), (xv, wv), k, x.dtype)
    else:
        y = _layer.forward(xv, wv, g)
    return np.ascontiguousarray(_unview(y, cfg.out_perm, k), dtype=x.dtype)


def _input_grad_np(cfg: _Conv, x, w, dy):
    g, k = cfg.geometry, x.ndim - cfg.nd - 2
    xv, wv, dyv = _view(x, cfg.lhs_perm, k), _view(w, cfg.rhs_perm, k), _view(dy, cfg.out_perm, k)
    if k and math.prod(w.shape[:k]) == 1:
        lead = _leading((x, dy), k)
        xv = np.broadcast_to(xv, lead + xv.shape[k:])
        _, xf, dyf = _folded(cfg, k, xv, dyv)
        dx = _layer.input_gradient(xf.shape, wv.reshape(wv.shape[k:]), dyf, g).reshape(xv.shape)
    elif k:
        dx = _per_example(lambda a, b, c: _layer.input_gradient(a.shape, b, c, g), (xv, wv, dyv), k, x.dtype)
    else:
        dx = _layer.input_gradient(xv.shape, wv, dyv, g)
    return np.ascontiguousarray(_unview(dx, cfg.lhs_perm, k), dtype=x.dtype)


def _filter_grad_np(cfg: _Conv, x, w, dy):
    g, k = cfg.geometry, x.ndim - cfg.nd - 2
    xv, wv, dyv = _view(x, cfg.lhs_perm, k), _view(w, cfg.rhs_perm, k), _view(dy, cfg.out_perm, k)
    if k:  # each example's own filter gradient
        dw = _per_example(lambda a, b, c: _layer.filter_gradient(a, b.shape, c, g), (xv, wv, dyv), k, w.dtype)
    else:
        dw = _layer.filter_gradient(xv, wv.shape, dyv, g)
    return np.ascontiguousarray(_unview(dw, cfg.rhs_perm, k), dtype=w.dtype)


# -- jax side --------------------------------------------------------------------------------------

def _callback(fn, cfg, shape, dtype, *args):
    return jax.pure_callback(functools.partial(fn, cfg), jax.ShapeDtypeStruct(shape, dtype), *args,
                             vmap_method="expand_dims")


@functools.lru_cache(maxsize=256)
def _op(cfg: _Conv):
    """The differentiable convolution for one set of static options."""

    @jax.custom_vjp
    def conv(x, w):
        return _callback(_forward_np, cfg, cfg.out_shape(x.shape, w.shape), x.dtype, x, w)

    def fwd(x, w):
        return conv(x, w), (x, w)

    def bwd(res, dy):
        x, w = res
        return (_callback(_input_grad_np, cfg, x.shape, x.dtype, x, w, dy),
                _callback(_filter_grad_np, cfg, w.shape, w.dtype, x, w, dy))

    conv.defvjp(fwd, bwd)
    return conv


def _ints(name: str, value, nd: int, default=None) -> tuple[int, ...]:
    if value is None and default is not None:
        return (default,) * nd
    try:
        values = tuple(value)
    except TypeError:
        values = None
    if values is None or len(values) != nd or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in values):
        raise ValueError(f"`{name}` must be a sequence of {nd} positive ints, as in jax.lax; got {value!r}")
    return tuple(int(v) for v in values)


def _pad_pairs(padding, spatial, eff, strides) -> tuple:
    nd = len(spatial)
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "SAME_LOWER", "VALID"):
            raise ValueError(f"`padding` must be 'SAME', 'SAME_LOWER', 'VALID' or {nd} (low, high) pairs; "
                             f"got {padding!r}")
        return tuple(tuple(int(p) for p in pair)
                     for pair in jax.lax.padtype_to_pads(spatial, eff, strides, padding.upper()))
    try:
        pairs = tuple(tuple(pair) for pair in padding)
    except TypeError:
        pairs = None
    if pairs is None or len(pairs) != nd or not all(
            len(p) == 2 and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in p)
            for p in pairs):
        raise ValueError(f"`padding` must be 'SAME', 'SAME_LOWER', 'VALID' or {nd} (low, high) pairs of ints; "
                         f"got {padding!r}")
    return tuple((int(lo), int(hi)) for lo, hi in pairs)


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                         dimension_numbers=None, feature_group_count=1, batch_group_count=1, precision=None,
                         preferred_element_type=None, *, method="auto"):
    """:func:`jax.lax.conv_general_dilated`, computed by fftconv on the CPU, differentiable.

    Parameters
    ----------
    lhs : array_like
        The input, ``N + 2`` axes laid out as ``dimension_numbers`` says
        (default ``(N, C, *spatial)``), for 1, 2 or 3 spatial axes.
    rhs : array_like
        The filters (default ``(C_out, C_in / groups, *kernel)``), of ``lhs``'s dtype.
    window_strides : sequence of int
        One per spatial axis.
    padding : str or sequence of (int, int)
        ``"SAME"``, ``"SAME_LOWER"``, ``"VALID"``, or ``(low, high)`` per
        spatial axis (negative values crop).
    lhs_dilation : None or sequence of int
        Only None or ones (anything else is a transposed convolution, which
        raises ``ValueError``).
    rhs_dilation : sequence of int, optional
        The kernel's dilation per spatial axis.
    dimension_numbers : None, tuple of str or ConvDimensionNumbers
        As in jax.lax, e.g. ``("NHWC", "HWIO", "NHWC")``.
    feature_group_count : int
        Channel groups.
    batch_group_count : int
        Only 1.
    precision : ignored
        fftconv computes in the operands' precision (float16 and bfloat16 in float32).
    preferred_element_type : dtype, optional
        The result's dtype (default: the operands').
    method : str
        fftconv's ``method``: ``"auto"`` (the planner decides, for the forward
        and each gradient), ``"direct"`` or ``"fft"``.

    Returns
    -------
    jax.Array
        Laid out as ``dimension_numbers``' output spec, equal to
        ``jax.lax.conv_general_dilated``'s result within floating-point error.

    Raises
    ------
    ValueError
        Bad shapes or values, ``lhs_dilation`` or ``batch_group_count`` other than 1.
    TypeError
        Operands that are not floating point or that differ in dtype.

    Examples
    --------
    >>> import jax, jax.numpy as jnp, fftconv.jax
    >>> x = jax.random.normal(jax.random.key(0), (2, 32, 32, 3))
    >>> w = jax.random.normal(jax.random.key(1), (15, 15, 3, 4))
    >>> dn = ("NHWC", "HWIO", "NHWC")
    >>> y = fftconv.jax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=dn)
    >>> ref = jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=dn,
    ...                                    precision=jax.lax.Precision.HIGHEST)
    >>> y.shape, bool(jnp.allclose(y, ref, atol=1e-3))
    ((2, 32, 32, 4), True)

    Gradients, under ``jit``:

    >>> loss = jax.jit(jax.grad(lambda w: jnp.sum(fftconv.jax.conv_general_dilated(
    ...     x, w, (2, 2), "VALID", dimension_numbers=dn) ** 2)))
    >>> loss(w).shape
    (15, 15, 3, 4)
    """
    lhs, rhs = jnp.asarray(lhs), jnp.asarray(rhs)
    if lhs.ndim not in (3, 4, 5) or rhs.ndim != lhs.ndim:
        raise ValueError(f"`lhs` and `rhs` must both have 3, 4 or 5 axes (1 to 3 spatial); got shapes "
                         f"{lhs.shape} and {rhs.shape}")
    for name, a in (("lhs", lhs), ("rhs", rhs)):
        if a.dtype.name not in _FLOATS:
            raise TypeError(f"`{name}` has dtype {a.dtype}; fftconv.jax takes {', '.join(_FLOATS)}")
    if lhs.dtype != rhs.dtype:
        raise TypeError(f"`lhs` and `rhs` must have one dtype, as in jax.lax; got {lhs.dtype} and {rhs.dtype}")
    nd = lhs.ndim - 2
    dn = jax.lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    strides = _ints("window_strides", window_strides, nd)
    dilations = _ints("rhs_dilation", rhs_dilation, nd, default=1)
    if lhs_dilation is not None and any(d != 1 for d in _ints("lhs_dilation", lhs_dilation, nd)):
        raise ValueError(f"`lhs_dilation` {tuple(lhs_dilation)} (a transposed convolution) is not supported by "
                         f"fftconv.jax; use jax.lax.conv_general_dilated or jax.lax.conv_transpose")
    if batch_group_count != 1:
        raise ValueError(f"`batch_group_count` must be 1 in fftconv.jax; got {batch_group_count!r}")
    groups = feature_group_count
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"`feature_group_count` must be a positive int; got {groups!r}")
    c_in, c_group, c_out = lhs.shape[dn.lhs_spec[1]], rhs.shape[dn.rhs_spec[1]], rhs.shape[dn.rhs_spec[0]]
    if c_in != c_group * groups or c_out % groups:
        raise ValueError(f"`rhs` of shape {rhs.shape} with feature_group_count={groups} needs {c_group * groups} "
                         f"input channels and output channels divisible by {groups}; `lhs` of shape {lhs.shape} "
                         f"has {c_in}")
    method = planner.check_method(method)
    spatial = [lhs.shape[a] for a in dn.lhs_spec[2:]]
    kernel = [rhs.shape[a] for a in dn.rhs_spec[2:]]
    eff = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    pads = _pad_pairs(padding, spatial, eff, strides)
    for axis, (lo, hi) in zip(dn.lhs_spec[2:], pads):  # negative pads crop, as in jax.lax
        n = lhs.shape[axis]
        if lo < 0 or hi < 0:
            lhs = jax.lax.slice_in_dim(lhs, max(-lo, 0), max(n - max(-hi, 0), max(-lo, 0)), axis=axis)
    pads = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pads)
    cropped = [lhs.shape[a] for a in dn.lhs_spec[2:]]
    out = [(n + lo + hi - e) // s + 1 for n, (lo, hi), e, s in zip(cropped, pads, eff, strides)]
    if any(o < 1 for o in out) or 0 in kernel:
        raise ValueError(f"`lhs` of spatial size {tuple(spatial)} padded by {pads} is smaller than the dilated "
                         f"kernel {tuple(eff)}: the output would be {tuple(out)}")
    out_dtype = jnp.dtype(preferred_element_type) if preferred_element_type is not None else lhs.dtype
    compute = jnp.float32 if lhs.dtype.name in ("float16", "bfloat16") else lhs.dtype
    cfg = _Conv(strides, pads, dilations, int(groups), tuple(dn.lhs_spec), tuple(dn.rhs_spec), tuple(dn.out_spec),
                method)
    y = _op(cfg)(lhs.astype(compute), rhs.astype(compute))
    return y.astype(out_dtype)
