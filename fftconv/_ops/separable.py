"""Separable convolution with the semantics of :func:`tf.nn.separable_conv2d`, planned as one call.

A depthwise convolution (``(kh, kw, C, M)`` filters: the large kernels) followed
by a pointwise one (``(1, 1, C * M, C_out)``).  The plan prices two routes
and runs the cheaper:

``"two-step"``
    The depthwise convolution (planned like :func:`~fftconv.depthwise_conv2d`,
    by either method), then one GEMM over the channels.
``"composed"``
    One dense convolution ``C -> C_out`` with the composed filters
    ``W[t, c, o] = sum_m dw[t, c, m] * pw[c * M + m, o]``: with the FFT method
    it transforms ``C`` inputs and ``C_out`` outputs instead of ``C * M``
    depthwise outputs, which wins when ``C * M`` exceeds ``C_out``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np

from fftconv._engine import planner
from fftconv.methods import REFERENCE
from fftconv import _checks
from fftconv._engine import guards as _guards
from fftconv._runtime.arrays import owned
from fftconv._engine.measure import measured
from fftconv._engine.plan import BoundPlan, ConvPlan, _fmt_seconds, _to_format
from fftconv._runtime.threads import blas_threads, gemm_blas_threads, resolve_workers
from fftconv._runtime.scratch import trim as trim_scratch
from fftconv.backends import available_backends

__all__ = ["separable_conv2d", "plan_separable_conv2d", "SeparablePlan", "BoundSeparablePlan"]

NAMES = ("input", "depthwise_filter", "pointwise_filter")


@dataclass(frozen=True, repr=False, eq=False)
class SeparablePlan:
    """How one separable convolution will run, decided from shapes alone.

    Attributes
    ----------
    depthwise : ConvPlan
        The depthwise stage of the two-step route (grouped filters ``(kh, kw, 1, C * M)``).
    composed : ConvPlan
        The dense convolution of the composed route (filters ``(kh, kw, C, C_out)``).
    route : str
        ``"two-step"`` or ``"composed"``: what will run.
    estimates : dict
        Predicted seconds of each route.
    data_format : str
    dtype : numpy.dtype
    multiplier : int
        ``M``, the depthwise filters per input channel.
    """

    depthwise: ConvPlan
    composed: ConvPlan
    route: str
    estimates: dict
    data_format: str
    dtype: np.dtype
    multiplier: int

    @property
    def method(self) -> str:
        """The method of the convolution that runs."""
        return (self.depthwise if self.route == "two-step" else self.composed).method

    @property
    def channels_first(self) -> bool:
        return self.data_format.startswith("NC")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return _to_format(self.depthwise.geometry.input_shape, self.channels_first)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return _to_format(self.composed.geometry.output_shape, self.channels_first)

    @property
    def depthwise_shape(self) -> tuple[int, ...]:
        """``(kh, kw, C, M)``."""
        g = self.depthwise.geometry
        return (*g.kernel, g.in_channels, self.multiplier)

    @property
    def pointwise_shape(self) -> tuple[int, ...]:
        """``(1, 1, C * M, C_out)``."""
        return (1, 1, self.depthwise.geometry.out_channels, self.composed.geometry.out_channels)

    def __call__(self, input, depthwise_filter, pointwise_filter):
        """The separable convolution of ``input`` (all three of the planned shapes)."""
        x, dw, pw = (_checks.as_real_array(n, a) for n, a in zip(NAMES, (input, depthwise_filter, pointwise_filter)))
        self._check(x, dw, pw)
        return self.bind(dw, pw)(x)

    def _check(self, x, dw, pw) -> np.dtype:
        for name, a, shape in zip(NAMES, (x, dw, pw), (self.input_shape, self.depthwise_shape, self.pointwise_shape)):
            _checks.check_plan_shape(name, a.shape, shape)
        compute, out_dtype = separable_dtypes(x, dw, pw)
        if compute != self.dtype:
            raise ValueError(f"`input`, `depthwise_filter` and `pointwise_filter` of dtypes {x.dtype}, {dw.dtype} and "
                             f"{pw.dtype} compute in {compute}, but this plan computes in {self.dtype}; plan with "
                             f"dtype={str(compute)!r}")
        _checks.check_memory(max(self.depthwise.peak_bytes, self.composed.peak_bytes), self.output_shape)
        return out_dtype

    def bind(self, depthwise_filter, pointwise_filter) -> "BoundSeparablePlan":
        """Prepare both filters once (for the FFT method, a spectrum) for a stream of inputs."""
        dw = _checks.as_real_array(NAMES[1], depthwise_filter)
        pw = _checks.as_real_array(NAMES[2], pointwise_filter)
        _checks.check_plan_shape(NAMES[1], dw.shape, self.depthwise_shape)
        _checks.check_plan_shape(NAMES[2], pw.shape, self.pointwise_shape)
        filters_dtype = np.result_type(_checks.check_real_dtype(NAMES[1], dw.dtype), _checks.check_real_dtype(NAMES[2], pw.dtype))
        compute = _checks.real_result_dtypes(filters_dtype, filters_dtype)[0]
        if np.result_type(compute, self.dtype) != self.dtype:
            raise ValueError(f"`depthwise_filter` and `pointwise_filter` of dtypes {dw.dtype} and {pw.dtype} compute "
                             f"in {compute}, but this plan computes in {self.dtype}; plan with dtype={str(compute)!r}")
        integer = _guards.is_integer(dw.dtype) and _guards.is_integer(pw.dtype)
        if self.route == "two-step":
            stage = self.depthwise.bind((dw if integer else dw.astype(self.dtype)).reshape(self.depthwise.filters_shape))
            matrix = np.array(pw.reshape(-1, pw.shape[-1]), dtype=self.dtype)
        else:
            composed = composed_filters(dw, pw, integer)
            stage = self.composed.bind(composed if integer else composed.astype(self.dtype))
            matrix = None
        return BoundSeparablePlan(self, filters_dtype, stage, matrix)

    def __repr__(self) -> str:
        est = "   ".join(f"{k} {_fmt_seconds(v)}" for k, v in self.estimates.items())
        chosen = self.depthwise if self.route == "two-step" else self.composed
        return "\n".join([
            f"SeparablePlan: separable_conv2d {self.data_format} {self.dtype}, route={self.route!r}, "
            f"method={self.method!r}",
            f"  input {self.input_shape}  depthwise {self.depthwise_shape}  pointwise {self.pointwise_shape}  ->  "
            f"output {self.output_shape}",
            f"  predicted  {est}",
            "  " + repr(chosen).replace("\n", "\n  ")])


@dataclass(frozen=True, repr=False, eq=False)
class BoundSeparablePlan:
    """A :class:`SeparablePlan` with both filters prepared; every result owns its memory."""

    plan: SeparablePlan
    filters_dtype: np.dtype  # both filters' dtypes promoted (integers as float64)
    stage: BoundPlan
    pointwise: np.ndarray | None  # (C * M, C_out) in the compute dtype, for the two-step route

    def __call__(self, input):
        """The separable convolution of ``input`` (of the planned shape) with the bound filters."""
        plan = self.plan
        x = _checks.as_real_array(NAMES[0], input)
        _checks.check_plan_shape(NAMES[0], x.shape, plan.input_shape)
        compute, out_dtype = _checks.real_result_dtypes(x.dtype, self.filters_dtype)
        if compute != plan.dtype:
            raise ValueError(f"`input` of dtype {x.dtype} computes in {compute}, but this plan computes in "
                             f"{plan.dtype}; plan with dtype={str(compute)!r}")
        if _checks.real_result_dtypes(x.dtype, self.stage.filters_dtype)[0] != compute:
            x = x.astype(compute)  # the filters alone promote further than the input with the stage's filters
        if plan.channels_first:
            x = np.moveaxis(x, 1, -1)
        y = self.stage(x)
        if self.pointwise is not None:
            y = y.reshape(-1, y.shape[-1])
            with blas_threads(gemm_blas_threads(2 * y.size * self.pointwise.shape[-1], plan.composed.workers)):
                y = y @ self.pointwise
            y = y.reshape(*self.plan.composed.geometry.output_shape)
        if plan.channels_first:
            y = np.moveaxis(y, -1, 1)
        y = owned(y, out_dtype)
        trim_scratch()
        return y


def separable_dtypes(x, dw, pw) -> tuple[np.dtype, np.dtype]:
    """``(compute, output)``: the three arrays promoted together under :func:`~fftconv.conv2d`'s rules."""
    out = np.result_type(*(_checks.check_real_dtype(n, a.dtype) for n, a in zip(NAMES, (x, dw, pw))))
    return _checks.real_result_dtypes(out, out, NAMES[:2])


def composed_filters(dw: np.ndarray, pw: np.ndarray, integer: bool) -> np.ndarray:
    """The dense filters ``(kh, kw, C, C_out)`` of a depthwise ``(kh, kw, C, M)`` then pointwise
    ``(1, 1, C * M, C_out)`` convolution: ``W[t, c, o] = sum_m dw[t, c, m] * pw[c * M + m, o]``.

    Integers are composed exactly (as Python ints where int64 could overflow).

    Examples
    --------
    >>> dw = np.arange(4.0).reshape(1, 1, 2, 2)            # C = 2, M = 2
    >>> pw = np.ones((1, 1, 4, 3))
    >>> composed_filters(dw, pw, False)[0, 0]
    array([[1., 1., 1.],
           [5., 5., 5.]])
    """
    c, m = dw.shape[-2:]
    pw = pw.reshape(c, m, pw.shape[-1])
    if integer:
        exact = _guards.magnitude(dw) * _guards.magnitude(pw) * max(m, 1) < 2**62
        kind = np.int64 if exact else object
        return np.einsum("hwcm,cmo->hwco", dw.astype(kind), pw.astype(kind)).astype(np.float64 if not exact else np.int64)
    return np.einsum("hwcm,cmo->hwco", dw.astype(np.float64), pw.astype(np.float64))


# -- planning -----------------------------------------------------------------------------------------

def _plan(input_shape, depthwise_shape, pointwise_shape, strides, padding, data_format, dilations, compute, method,
          workers, measure, backend, names=NAMES) -> SeparablePlan:
    method = planner.check_method(method)
    backend = _checks.check_backend(backend, available_backends())
    measure = _checks.check_flag("measure", measure)
    data_format = "NHWC" if data_format is None else data_format  # TensorFlow's default
    hwio = _checks.check_depthwise_filter(depthwise_shape, name=names[1])
    channels = _checks.input_channels(input_shape, data_format, 2, name=names[0])
    _checks.check_depthwise_channels(channels, depthwise_shape, names[:2])
    pointwise_shape = _checks.check_pointwise_filter(pointwise_shape, depthwise_shape, names[2::-1][:2])
    dilations = _checks.check_dilations_default(dilations)
    depthwise = _checks.check_geometry(input_shape, hwio, 2, strides, padding, data_format, dilations, channels,
                                       False, names=names[:2])
    return _cached_plan(depthwise, pointwise_shape[-1], tuple(depthwise_shape)[-1], data_format, compute, method,
                        resolve_workers(workers), backend, measure)


@functools.lru_cache(maxsize=256)
def _cached_plan(depthwise, c_out, multiplier, data_format, dtype, method, workers, backend, measure):
    g = depthwise
    composed = replace(g, out_channels=c_out, groups=1)
    pointwise = replace(g, spatial=g.out_spatial, in_channels=g.out_channels, out_channels=c_out, groups=1,
                        kernel=(1, 1), strides=(1, 1), dilations=(1, 1), pads=((0, 0), (0, 0)))
    plans = {}
    for name, geom in (("depthwise", depthwise), ("composed", composed)):
        plan = planner.plan(geom, dtype=dtype, method=method, workers=workers, backend=backend)
        plans[name] = measured(plan, backend == "auto") if measure and method == "auto" else plan
    gemm = planner.plan(pointwise, dtype=dtype, method=REFERENCE, workers=workers,
                        backend=backend).estimates[REFERENCE]
    estimates = {"two-step": plans["depthwise"].estimates[plans["depthwise"].method] + gemm,
                 "composed": plans["composed"].estimates[plans["composed"].method]}
    if math.prod(composed.output_shape) == 0:
        estimates["composed"] = 0.0
    route = min(estimates, key=estimates.get)
    return SeparablePlan(plans["depthwise"], plans["composed"], route, estimates, data_format, dtype, multiplier)


def plan_separable_conv2d(input_shape, depthwise_filter_shape, pointwise_filter_shape, strides, padding,
                          data_format=None, dilations=None, *, dtype="float32", method="auto", workers=None,
                          measure=False, backend="auto") -> SeparablePlan:
    """Plan :func:`separable_conv2d` from shapes alone.

    Returns
    -------
    SeparablePlan
        Frozen and callable: ``plan(input, depthwise_filter, pointwise_filter)``;
        ``plan.route`` says which route runs, ``plan.estimates`` what each costs.

    Examples
    --------
    >>> import fftconv
    >>> plan = fftconv.plan_separable_conv2d((1, 64, 64, 32), (21, 21, 32, 1), (1, 1, 32, 64), 1, "SAME")
    >>> plan.route, plan.method
    ('two-step', 'fft')
    >>> fftconv.plan_separable_conv2d((1, 64, 64, 16), (21, 21, 16, 4), (1, 1, 64, 8), 1, "SAME").route
    'composed'
    """
    names = ("input_shape", "depthwise_filter_shape", "pointwise_filter_shape")
    return _plan(input_shape, depthwise_filter_shape, pointwise_filter_shape, strides, padding, data_format,
                 dilations, _checks.real_plan_dtypes(dtype)[0], method, workers, measure, backend, names)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding, data_format=None,
                     dilations=None, *, method="auto", workers=None, measure=False, backend="auto"):
    """Depthwise then pointwise convolution, with the semantics of :func:`tf.nn.separable_conv2d`.

    ``y = conv2d(depthwise_conv2d(input, depthwise_filter, strides, padding,
    dilations=dilations), pointwise_filter)``, planned as one call: the
    plan runs either those two steps or one dense convolution with the
    composed filters, whichever it predicts is faster (see
    :func:`plan_separable_conv2d`).

    Parameters
    ----------
    input : array_like
        ``(N, H, W, C)`` (or NCHW).
    depthwise_filter : array_like
        ``(kh, kw, C, M)``, as for :func:`~fftconv.depthwise_conv2d`.
    pointwise_filter : array_like
        ``(1, 1, C * M, C_out)``.
    strides, padding, data_format, dilations
        Those of the depthwise step, in TensorFlow's forms; ``data_format=None``
        is ``"NHWC"`` and ``dilations=None`` is 1, as in TensorFlow.
    method, workers, measure, backend
        As for :func:`~fftconv.conv2d`.

    Returns
    -------
    ndarray
        ``(N, out_h, out_w, C_out)`` (or NCHW); the dtype of the three arrays
        promoted under :func:`~fftconv.conv2d`'s rules.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.ones((1, 5, 5, 2))
    >>> dw = np.ones((3, 3, 2, 1))
    >>> pw = np.array([1.0, -1.0]).reshape(1, 1, 2, 1)
    >>> float(np.abs(fftconv.separable_conv2d(x, dw, pw, 1, "SAME")).max())
    0.0
    """
    x, dw, pw = (_checks.as_real_array(n, a) for n, a in zip(NAMES, (input, depthwise_filter, pointwise_filter)))
    compute = separable_dtypes(x, dw, pw)[0]
    plan = _plan(x.shape, dw.shape, pw.shape, strides, padding, data_format, dilations, compute, method, workers,
                 measure, backend)
    return plan(x, dw, pw)
