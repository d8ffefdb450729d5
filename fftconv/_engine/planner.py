"""The one planning entry of every op: check the options, choose a method, make a :class:`ConvPlan`.

Every operation (forward convolutions, transposes, filter gradients,
separable convolutions, scipy.signal's functions, NaN treatment) plans the
convolutions it runs here, with keyword arguments only:

- :func:`plan` plans a checked :class:`~fftconv._shapes.geometry.ConvGeometry`
  (cached: the same geometry and options give the same plan object);
- :func:`check_and_plan` checks shapes and options first, as a public function
  must, then plans (and with ``measure=True`` times the candidates,
  :mod:`fftconv._engine.measure`).

``method`` names a registered method (:data:`fftconv.methods.METHODS`) or
``"auto"``, the method the cost model (:mod:`fftconv._engine.costs`) predicts
fastest.
"""

from __future__ import annotations

import functools

import numpy as np

from fftconv import _checks
from fftconv._engine import complex as _complex
from fftconv._engine import constants as _constants
from fftconv._engine import costs
from fftconv._engine.folded import folded
from fftconv._engine.measure import measured
from fftconv._engine.plan import ConvPlan, predicted_peak_bytes
from fftconv._runtime.threads import resolve_workers
from fftconv._shapes.fold import fold
from fftconv.backends import DEFAULT_BACKEND, available_backends, get_backend
from fftconv.methods import METHODS
from fftconv.methods.base import MethodCannotRun, SubPlanner, set_subplanner

__all__ = ["plan", "check_and_plan", "check_method", "method_names", "clear"]

#: The channels-last layout of each number of spatial axes (what ops that build a geometry run in).
CHANNELS_LAST = {1: "NWC", 2: "NHWC", 3: "NDHWC"}


def method_names() -> tuple[str, ...]:
    """What ``method=`` accepts: ``"auto"`` and every registered method."""
    return ("auto", *METHODS)


def check_method(method) -> str:
    """``method`` if it is ``"auto"`` or a registered method's name, else a ValueError listing them."""
    return _checks.check_method(method, method_names())


def plan(geometry, *, dtype, method="auto", workers=1, backend="auto", data_format=None,
         reuse_filters=False, embedding=None, input_as_is=False) -> ConvPlan:
    """The plan of a checked geometry.

    Parameters
    ----------
    geometry : ConvGeometry
        Checked shapes, strides, dilations and pads.
    dtype : numpy.dtype
        The compute dtype (float32, float64, complex64 or complex128).
    method : str
        ``"auto"`` or a registered method, already checked (:func:`check_method`).
    workers : int
        Resolved thread count.
    backend : str
        ``"auto"`` or an available FFT backend.
    data_format : str, optional
        Layout of inputs and outputs; channels-last by default.
    reuse_filters : bool
        The filters' preparation will be kept (a filter bank): price the steady state only.
    embedding : {None, "input", "filters", "both"}
        What is complex (:mod:`fftconv._engine.complex`).
    input_as_is : bool
        Inputs arrive in the compute dtype, so a method may read them in place.
    """
    data_format = data_format or CHANNELS_LAST[geometry.ndim]
    return _plan(geometry, data_format, np.dtype(dtype), method, workers, reuse_filters, backend,
                 embedding, input_as_is)


@functools.lru_cache(maxsize=256)
def _plan(geom, data_format, dtype, requested, workers, reuse_filters, backend, embedding,
          input_as_is) -> ConvPlan:
    folding = fold(geom)
    if folding is not None:  # taps that read only pads (or the same samples) merged: fftconv._shapes.fold
        return folded(folding, _plan(folding.folded, data_format, dtype, requested, workers, reuse_filters,
                                     backend, embedding, input_as_is))
    if backend == "auto":  # resolved here, once per cached plan, not on every call
        backend = _constants.preferred_backend(available_backends(), DEFAULT_BACKEND)
    # a complex convolution is planned as the real one it runs (:mod:`fftconv._engine.complex`)
    run, itemsize = _complex.embedded_geometry(geom, embedding), _complex.real_dtype(dtype).itemsize
    # the model is fitted on the reference backend: others' transforms run at their measured ratio
    estimates, settings = costs.estimate(run, itemsize, _constants.load_constants(),
                                         reuse_filters=reuse_filters,
                                         backend_speed=_constants.backend_ratios().get(backend, 1.0),
                                         complex_pairs=embedding == "both")
    chosen = min(estimates, key=estimates.get) if requested == "auto" else requested
    reason = None if requested == "auto" else METHODS[chosen].unsupported(run)
    if reason is not None:
        raise MethodCannotRun(f"method={requested!r} cannot run this convolution: {reason}")
    peak = predicted_peak_bytes(geom, chosen, settings[chosen], itemsize, backend=get_backend(backend),
                                copy_out=data_format.startswith("NC"), embedding=embedding,
                                input_as_is=input_as_is, workers=workers)
    return ConvPlan(geom, data_format, dtype, chosen, requested, estimates, settings, workers,
                    backend, peak, calibration=_constants.calibration_in_force(), embedding=embedding)


def check_and_plan(ndim, input_shape, filters_shape, *, compute, data_format, strides=1, padding="VALID",
                   dilations=1, groups=None, flip=False, method="auto", workers=None,
                   measure=False, backend="auto", names=("input", "filters"), reuse_filters=False,
                   padding_mode="constant", embedding=None, input_dtype=None) -> ConvPlan:
    """Check every option and the shapes (messages name ``names``), then :func:`plan`.

    ``compute`` is an already checked compute dtype; ``input_dtype`` the
    dtype inputs will arrive in (a method reads them in place where that is
    ``compute``).
    """
    method = check_method(method)
    backend = _checks.check_backend(backend, available_backends())
    measure = _checks.check_flag("measure", measure)
    geom = _checks.check_geometry(input_shape, filters_shape, ndim, strides, padding, data_format,
                                  dilations, groups, flip, names=names, padding_mode=padding_mode)
    as_is = input_dtype is not None and np.dtype(input_dtype) == compute
    result = plan(geom, dtype=compute, method=method, workers=resolve_workers(workers), backend=backend,
                  data_format=data_format, reuse_filters=reuse_filters, embedding=embedding,
                  input_as_is=as_is)
    if measure and method == "auto":
        result = measured(result, backend == "auto")
    return result


def clear() -> None:
    """Forget every plan (after the calibration in force changed)."""
    _plan.cache_clear()


class _SubConvolutions(SubPlanner):
    """The engine's side of :class:`fftconv.methods.base.SubPlanner`: a method's sub-convolutions
    (the low-rank method's 1-D passes) planned here like any convolution, run by bound plans."""

    def plan(self, geom, dtype, workers, backend, method="auto"):
        return plan(geom, dtype=dtype, method=method, workers=workers, backend=backend, input_as_is=True)

    def seconds(self, sub):
        return sub.estimates[sub.method]

    def describe(self, sub):
        g, setting = sub.geometry, sub.settings[sub.method]
        what = f"{sub.method} {setting!r}" if isinstance(setting, str) else sub.method
        return f"{max(g.kernel)} taps {g.in_channels}->{g.out_channels} {what}"

    def integer_exact(self, sub):
        return METHODS[sub.method].integer_exact

    def peak_bytes(self, sub, *, kept_only=False):
        chosen = METHODS[sub.method]
        threads = {"workers": sub.workers} if chosen.peak_uses_workers else {}
        return chosen.peak_bytes(sub.run_geometry, sub.settings[sub.method], sub.real_dtype.itemsize,
                                 backend=get_backend(sub.backend), input_as_is=True, kept_only=kept_only,
                                 **threads)

    def bind(self, sub, filters):
        return sub._bind(filters)._inner


set_subplanner(_SubConvolutions())
