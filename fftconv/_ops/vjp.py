"""Vector-Jacobian products for layer authors: :func:`conv2d_vjp` gives both gradients of
:func:`~fftconv.conv2d` at once, planned once (:class:`VJPPlan`).

``dx`` is the transposed convolution of the output gradient
(:mod:`fftconv._ops.transpose`), ``dw`` the correlation of the input with it
(:mod:`fftconv._ops.filter_gradient`); each is planned by the planner and runs on
either method.  Parameters are those of :func:`~fftconv.conv2d`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fftconv import _checks
from fftconv._engine import planner
from fftconv._runtime.arrays import owned
from fftconv._ops.filter_gradient import FilterGradientPlan, cached_filter_gradient_plan
from fftconv._ops.transpose import TransposePlan, cached_transpose_plan
from fftconv._runtime.threads import resolve_workers
from fftconv.backends import available_backends

__all__ = ["conv1d_vjp", "conv2d_vjp", "conv3d_vjp", "plan_conv1d_vjp", "plan_conv2d_vjp", "plan_conv3d_vjp",
           "VJPPlan", "vjp_dtypes"]


@dataclass(frozen=True, repr=False, eq=False)
class VJPPlan:
    """Both gradients of one convolution, planned once: ``plan(x, w, dy) -> (dx, dw)``.

    Attributes
    ----------
    input_gradient : TransposePlan
        The plan of ``dx`` (a transposed convolution of ``dy``).
    filter_gradient : FilterGradientPlan
        The plan of ``dw`` (a correlation of ``x`` with ``dy``).
    """

    input_gradient: TransposePlan
    filter_gradient: FilterGradientPlan

    @property
    def methods(self) -> tuple[str, str]:
        """What will run for ``dx`` and for ``dw``."""
        return self.input_gradient.method, self.filter_gradient.method

    def __call__(self, x, w, dy):
        """``(dx, dw)``: the gradients of the forward input and filters for the output gradient ``dy``."""
        fg, ig = self.filter_gradient, self.input_gradient
        x, w, dy = (_checks.as_real_array(name, a) for name, a in zip(("x", "w", "dy"), (x, w, dy)))
        _checks.check_plan_shape("x", x.shape, fg.input_shape)
        _checks.check_plan_shape("w", w.shape, ig.filters_shape)
        _checks.check_plan_shape("dy", dy.shape, fg.out_backprop_shape)
        compute, out_dtype = vjp_dtypes(x, w, dy)
        if compute != fg.dtype:
            raise ValueError(f"`x`, `w` and `dy` of dtypes {x.dtype}, {w.dtype} and {dy.dtype} compute in {compute}, "
                             f"but this plan computes in {fg.dtype}; plan with dtype={str(compute)!r}")
        # each gradient reads two of the three arrays: they must promote to the same precision
        x, w, dy = (a if _checks.real_result_dtypes(a.dtype, a.dtype)[0] == compute else a.astype(compute)
                    for a in (x, w, dy))
        _checks.check_memory(fg.peak_bytes + ig.peak_bytes, ig.output_shape)
        dx = ig.bind(w)(dy)
        return owned(dx, out_dtype), fg._run(x, dy, out_dtype)

    def __repr__(self) -> str:
        return f"VJPPlan: dx and dw\n{self.input_gradient!r}\n{self.filter_gradient!r}"


def vjp_dtypes(x, w, dy) -> tuple[np.dtype, np.dtype]:
    """``(compute, output)`` dtypes of a vector-Jacobian product: the three arrays promoted together."""
    out = np.result_type(*(_checks.check_real_dtype(name, a.dtype) for name, a in zip(("x", "w", "dy"), (x, w, dy))))
    return _checks.real_result_dtypes(out, out, ("x", "w"))


def _plan_vjp(ndim, x_shape, w_shape, strides, padding, data_format, dilations, groups, compute, method, workers,
              measure, backend, names=("x", "w", "dy")) -> VJPPlan:
    method = planner.check_method(method)
    backend = _checks.check_backend(backend, available_backends())
    measure = _checks.check_flag("measure", measure)
    forward = _checks.check_geometry(x_shape, w_shape, ndim, strides, padding, data_format, dilations, groups,
                                     False, names=names[:2])
    workers = resolve_workers(workers)
    return VJPPlan(
        cached_transpose_plan(forward, data_format, compute, method, workers, backend, measure, f"conv{ndim}d_vjp",
                               ("dy", "w", "x")),
        cached_filter_gradient_plan(forward, data_format, compute, method, workers, backend, measure, f"conv{ndim}d_vjp",
                            ("x", "w", "dy")))


def _vjp(ndim, x, w, dy, strides, padding, data_format, dilations, groups, method, workers, measure, backend):
    x = _checks.as_real_array("x", x)
    w = _checks.as_real_array("w", w)
    dy = _checks.as_real_array("dy", dy)
    compute = vjp_dtypes(x, w, dy)[0]
    _checks.check_filter_gradient_geometry(x.shape, w.shape, dy.shape, ndim, strides, padding, data_format, dilations,
                                           groups, names=("x", "w", "dy"), sizes_argument=False)
    plan = _plan_vjp(ndim, x.shape, w.shape, strides, padding, data_format, dilations, groups, compute, method,
                     workers, measure, backend)
    return plan(x, w, dy)


def conv2d_vjp(x, w, dy, strides=1, padding="VALID", data_format="NHWC", dilations=1, *, groups=None,
               method="auto", workers=None, measure=False, backend="auto"):
    """Both gradients of ``y = conv2d(x, w, ...)`` for the output gradient ``dy``: ``(dx, dw)``.

    For layer authors: the backward pass of :func:`~fftconv.conv2d`, with the
    same arguments, planned once for both gradients (``dx`` is
    :func:`conv2d_backprop_input`, ``dw`` :func:`conv2d_backprop_filter`).

    Parameters
    ----------
    x : array_like
        The forward input ``(N, H, W, C_in)`` (or NCHW).
    w : array_like
        The forward filters ``(kh, kw, C_in / groups, C_out)``.
    dy : array_like
        The gradient of the forward output ``(N, out_h, out_w, C_out)``.
    strides, padding, data_format, dilations, groups, method, workers, measure, backend
        As for :func:`~fftconv.conv2d`.

    Returns
    -------
    dx, dw : ndarray
        Shaped like ``x`` and ``w``; both take the dtype that ``x``, ``w`` and
        ``dy`` promote to under :func:`~fftconv.conv2d`'s rules.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.standard_normal((2, 16, 16, 3)), rng.standard_normal((5, 5, 3, 4))
    >>> dy = rng.standard_normal((2, 8, 8, 4))
    >>> dx, dw = fftconv.conv2d_vjp(x, w, dy, strides=2, padding="SAME")
    >>> dx.shape, dw.shape
    ((2, 16, 16, 3), (5, 5, 3, 4))

    ``<dy, J dx>`` is ``<dx, dx>`` for the linear map ``x -> conv2d(x, w)``:

    >>> bool(np.isclose(np.vdot(fftconv.conv2d(dx, w, strides=2, padding="SAME"), dy), np.vdot(dx, dx)))
    True
    """
    return _vjp(2, x, w, dy, strides, padding, data_format, dilations, groups, method, workers, measure, backend)


def conv1d_vjp(x, w, dy, strides=1, padding="VALID", data_format="NWC", dilations=1, *, groups=None,
               method="auto", workers=None, measure=False, backend="auto"):
    """Both gradients of :func:`~fftconv.conv1d`; see :func:`conv2d_vjp`.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> dx, dw = fftconv.conv1d_vjp(np.ones((1, 5, 1)), np.ones((3, 1, 1)), np.ones((1, 3, 1)))
    >>> dx[0, :, 0], dw[:, 0, 0]
    (array([1., 2., 3., 2., 1.]), array([3., 3., 3.]))
    """
    return _vjp(1, x, w, dy, strides, padding, data_format, dilations, groups, method, workers, measure, backend)


def conv3d_vjp(x, w, dy, strides=1, padding="VALID", data_format="NDHWC", dilations=1, *, groups=None,
               method="auto", workers=None, measure=False, backend="auto"):
    """Both gradients of :func:`~fftconv.conv3d`; see :func:`conv2d_vjp`.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> dx, dw = fftconv.conv3d_vjp(np.ones((1, 4, 4, 4, 2)), np.ones((3, 3, 3, 2, 2)), np.ones((1, 2, 2, 2, 2)))
    >>> dx.shape, dw.shape
    ((1, 4, 4, 4, 2), (3, 3, 3, 2, 2))
    """
    return _vjp(3, x, w, dy, strides, padding, data_format, dilations, groups, method, workers, measure, backend)


# -- plans ---------------------------------------------------------------------------------------

def plan_conv2d_vjp(input_shape, filters_shape, strides=1, padding="VALID", data_format="NHWC", dilations=1, *,
                    groups=None, dtype="float32", method="auto", workers=None, measure=False,
                    backend="auto") -> VJPPlan:
    """Plan :func:`conv2d_vjp` from the forward convolution's shapes.

    Examples
    --------
    >>> import fftconv
    >>> plan = fftconv.plan_conv2d_vjp((8, 64, 64, 32), (3, 3, 32, 64), padding="SAME")
    >>> plan.methods
    ('winograd', 'direct')
    """
    return _plan_vjp(2, input_shape, filters_shape, strides, padding, data_format, dilations, groups,
                     _checks.real_plan_dtypes(dtype)[0], method, workers, measure, backend,
                     names=("input_shape", "filters_shape", "dy"))


def plan_conv1d_vjp(input_shape, filters_shape, strides=1, padding="VALID", data_format="NWC", dilations=1, *,
                    groups=None, dtype="float32", method="auto", workers=None, measure=False,
                    backend="auto") -> VJPPlan:
    """Plan :func:`conv1d_vjp`; see :func:`plan_conv2d_vjp`.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.plan_conv1d_vjp((1, 50000, 1), (2001, 1, 1)).methods
    ('fft', 'fft')
    """
    return _plan_vjp(1, input_shape, filters_shape, strides, padding, data_format, dilations, groups,
                     _checks.real_plan_dtypes(dtype)[0], method, workers, measure, backend,
                     names=("input_shape", "filters_shape", "dy"))


def plan_conv3d_vjp(input_shape, filters_shape, strides=1, padding="VALID", data_format="NDHWC", dilations=1, *,
                    groups=None, dtype="float32", method="auto", workers=None, measure=False,
                    backend="auto") -> VJPPlan:
    """Plan :func:`conv3d_vjp`; see :func:`plan_conv2d_vjp`.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.plan_conv3d_vjp((1, 16, 16, 16, 2), (3, 3, 3, 2, 2), padding="SAME").input_gradient.output_shape
    (1, 16, 16, 16, 2)
    """
    return _plan_vjp(3, input_shape, filters_shape, strides, padding, data_format, dilations, groups,
                     _checks.real_plan_dtypes(dtype)[0], method, workers, measure, backend,
                     names=("input_shape", "filters_shape", "dy"))
