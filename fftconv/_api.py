"""The public functions: check the arguments, plan, run.

Parameters shared by every function here
----------------------------------------
strides : int or sequence of int
    An int, or 1, ``nd`` or ``nd + 2`` ints (the last form in ``data_format``
    order, with 1 for batch and channels), as in TensorFlow.
padding : {"VALID", "SAME"}, int or sequence
    ``"VALID"``, ``"SAME"`` (TensorFlow's split: the odd pixel goes to the
    end), one int for every side, ``nd`` ``(before, after)`` pairs, ``nd`` ints
    (each for both sides of its axis), or TensorFlow's ``nd + 2`` pairs in
    ``data_format`` order. Padding is zeros.
data_format : str
    ``"NHWC"`` or ``"NCHW"`` (2-D), ``"NWC"``/``"NCW"`` (1-D),
    ``"NDHWC"``/``"NCDHW"`` (3-D).
dilations : int or sequence of int
    Same forms as ``strides``; the kernel covers ``(k - 1) * d + 1`` samples.
groups : int, optional
    Channel groups; ``None`` infers ``C_in // filters.shape[-2]`` as TF does.
flip : bool
    ``False`` (default) computes cross-correlation, like TensorFlow; ``True``
    reverses the kernel for true convolution, like :func:`scipy.signal.convolve`.
method : {"auto", "direct", "fft"}
    ``"auto"`` runs whichever the planner predicts is faster.
workers : int, optional
    Threads for the transforms: ``None`` is the :func:`set_workers` default
    (all CPUs), negative counts back from the CPU count.
measure : bool
    With ``method="auto"``, time both methods once for these shapes instead
    of trusting the cost model, and remember the winner for the rest of the
    process (like ``torch.backends.cudnn.benchmark``). A method predicted
    more than :data:`MEASURE_CUTOFF` times slower than the other is not timed.
    With ``backend="auto"`` the FFT method is timed on every available backend.
backend : {"auto", "scipy", "pyfftw"}
    FFT backend. ``"auto"`` uses :data:`fftconv.backends.DEFAULT_BACKEND`
    (scipy.fft: no planning delay), unless ``fftconv calibrate`` found
    another backend at least 10% faster on this machine (see
    :func:`fftconv.calibration.preferred_backend`); with ``measure=True``,
    whichever ran fastest for these shapes.
"""

from __future__ import annotations

import dataclasses
import functools
import threading

import numpy as np

from . import _checks, _planner
from ._plan import ConvPlan, predicted_peak_bytes
from ._workers import resolve_workers
from .backends import DEFAULT_BACKEND, available_backends

__all__ = ["conv1d", "conv2d", "conv3d", "depthwise_conv2d", "plan_conv1d", "plan_conv2d",
           "plan_conv3d", "plan_depthwise_conv2d", "FilterBank"]

#: ``measure=True`` does not time a method predicted this many times slower.
MEASURE_CUTOFF = 20.0
_measured_winners: dict = {}
_measure_lock = threading.Lock()


# -- planning ----------------------------------------------------------------------

def _plan(ndim, input_shape, filters_shape, strides, padding, data_format, dilations, groups,
          flip, dtype, method, workers, measure=False, backend="auto", *,
          names=("input", "filters"), reuse_filters=False) -> ConvPlan:
    method = _checks.check_method(method)
    backend = _checks.check_backend(backend, available_backends())
    geom = _checks.check_geometry(input_shape, filters_shape, ndim, strides, padding, data_format,
                                  dilations, groups, flip, names=names)
    compute = _checks.result_dtypes(dtype, dtype)[0]
    plan = _cached_plan(geom, data_format, compute, method, resolve_workers(workers),
                        reuse_filters, backend)
    if _checks.check_flag("measure", measure) and method == "auto":
        plan = _measured(plan, backend == "auto")
    return plan


@functools.lru_cache(maxsize=256)
def _cached_plan(geom, data_format, dtype, method, workers, reuse_filters=False,
                 backend=DEFAULT_BACKEND) -> ConvPlan:
    from .calibration import backend_ratios, load_constants, preferred_backend
    if backend == "auto":  # resolved here, once per cached plan, not on every call
        backend = preferred_backend(available_backends())
    estimates, settings = _planner.estimate(geom, dtype.itemsize, load_constants(),
                                            reuse_filters=reuse_filters)
    estimates["fft"] *= backend_ratios().get(backend, 1.0)  # the model is fitted on scipy
    chosen = min(estimates, key=estimates.get) if method == "auto" else method
    peak = predicted_peak_bytes(geom, chosen, settings["fft"], dtype.itemsize)
    return ConvPlan(geom, data_format, dtype, chosen, method, estimates, settings, workers,
                    backend, peak)


def _measured(plan: ConvPlan, any_backend: bool) -> ConvPlan:
    """``plan`` with the method (and backend) that ran fastest here, timed once per process."""
    key = (plan.geometry, plan.dtype, plan.workers, plan.backend, any_backend)
    with _measure_lock:
        if key not in _measured_winners:
            _measured_winners[key] = _time_candidates(plan, any_backend)
    times = _measured_winners[key]
    method, _, backend = min(times, key=times.get).partition("/")
    return dataclasses.replace(plan, method=method, backend=backend or plan.backend,
                               measured=times)


def _time_candidates(plan: ConvPlan, any_backend: bool) -> dict:
    """Seconds of each method, and of the FFT method on each backend when ``any_backend``."""
    fastest = min(plan.estimates.values())
    rng = np.random.default_rng(0)
    x = rng.standard_normal(plan.input_shape).astype(plan.dtype)
    w = rng.standard_normal(plan.filters_shape).astype(plan.dtype)
    candidates = {m: {"method": m} for m, t in plan.estimates.items() if t <= MEASURE_CUTOFF * fastest}
    if any_backend and "fft" in candidates:
        for name in available_backends():
            candidates[f"fft/{name}"] = {"method": "fft", "backend": name}
        del candidates["fft"]
    from .calibration import best_seconds

    runs = {name: dataclasses.replace(plan, **change).bind(w) for name, change in candidates.items()}
    # two runs each, the first also warming caches and FFT plans
    return {name: best_seconds(lambda run=run: run(x), 2, warmup=False) for name, run in runs.items()}


def plan_conv2d(input_shape, filters_shape, strides=1, padding="VALID", data_format="NHWC",
                dilations=1, *, groups=None, flip=False, dtype="float32", method="auto",
                workers=None, measure=False, backend="auto") -> ConvPlan:
    """Plan a 2-D convolution from shapes alone.

    Parameters
    ----------
    input_shape : tuple of int
        ``(N, H, W, C_in)`` (or ``(N, C_in, H, W)`` for NCHW).
    filters_shape : tuple of int
        ``(kh, kw, C_in / groups, C_out)``.
    dtype : dtype
        Precision of the arrays the plan will run on; float16 and float32 plan
        a float32 computation, integers and float64 a float64 one.
    strides, padding, data_format, dilations, groups, flip, method, workers, measure, backend
        As for :func:`conv2d`.

    Returns
    -------
    ConvPlan
        Frozen and callable: ``plan(input, filters)``. ``plan.method`` says what
        will run, ``plan.estimates`` the predicted seconds of each method, and
        its repr explains the decision.

    Examples
    --------
    >>> import fftconv
    >>> plan = fftconv.plan_conv2d((4, 256, 256, 3), (31, 31, 3, 16))
    >>> plan.method
    'fft'
    >>> plan.output_shape
    (4, 226, 226, 16)
    """
    return _plan(2, input_shape, filters_shape, strides, padding, data_format, dilations,
                 groups, flip, dtype, method, workers, measure, backend)


def plan_conv1d(input_shape, filters_shape, strides=1, padding="VALID", data_format="NWC",
                dilations=1, *, groups=None, flip=False, dtype="float32", method="auto",
                workers=None, measure=False, backend="auto") -> ConvPlan:
    """Plan a 1-D convolution: input ``(N, W, C_in)``, filters ``(kw, C_in / groups, C_out)``.

    See :func:`plan_conv2d`.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.plan_conv1d((1, 100000, 1), (2001, 1, 1)).method
    'fft'
    """
    return _plan(1, input_shape, filters_shape, strides, padding, data_format, dilations,
                 groups, flip, dtype, method, workers, measure, backend)


def plan_conv3d(input_shape, filters_shape, strides=1, padding="VALID", data_format="NDHWC",
                dilations=1, *, groups=None, flip=False, dtype="float32", method="auto",
                workers=None, measure=False, backend="auto") -> ConvPlan:
    """Plan a 3-D convolution: input ``(N, D, H, W, C_in)``, filters ``(kd, kh, kw, C_in / groups, C_out)``.

    See :func:`plan_conv2d`.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.plan_conv3d((1, 16, 16, 16, 2), (3, 3, 3, 2, 4), padding="SAME").output_shape
    (1, 16, 16, 16, 4)
    """
    return _plan(3, input_shape, filters_shape, strides, padding, data_format, dilations,
                 groups, flip, dtype, method, workers, measure, backend)


def plan_depthwise_conv2d(input_shape, filter_shape, strides=1, padding="VALID",
                          data_format="NHWC", dilations=1, *, flip=False, dtype="float32",
                          method="auto", workers=None, measure=False,
                          backend="auto") -> ConvPlan:
    """Plan a depthwise convolution with TF's ``(kh, kw, C, M)`` filter.

    The plan's ``filters_shape`` is the equivalent grouped one,
    ``(kh, kw, 1, C * M)``: reshape the depthwise filter to it, or use
    :func:`depthwise_conv2d`.

    Examples
    --------
    >>> import fftconv
    >>> fftconv.plan_depthwise_conv2d((1, 64, 64, 8), (31, 31, 8, 1)).filters_shape
    (31, 31, 1, 8)
    """
    hwio = _checks.check_depthwise_filter(filter_shape)
    channels = _checks.input_channels(input_shape, data_format, 2)
    _checks.check_depthwise_channels(channels, filter_shape)
    return _plan(2, input_shape, hwio, strides, padding, data_format, dilations, channels,
                 flip, dtype, method, workers, measure, backend, names=("input", "filter"))


# -- running -----------------------------------------------------------------------

def _convolve(ndim, input, filters, strides, padding, data_format, dilations, groups, flip,
              method, workers, measure, backend="auto", *, names=("input", "filters")):
    x = _checks.as_array(names[0], input)
    w = _checks.as_array(names[1], filters)
    compute, _ = _checks.result_dtypes(x.dtype, w.dtype)
    plan = _plan(ndim, x.shape, w.shape, strides, padding, data_format, dilations, groups,
                 flip, compute, method, workers, measure, backend, names=names)
    return plan(x, w)


def conv2d(input, filters, strides=1, padding="VALID", data_format="NHWC", dilations=1, *,
           groups=None, flip=False, method="auto", workers=None, measure=False,
           backend="auto"):
    """2-D convolution with exactly the semantics of :func:`tf.nn.conv2d`.

    Parameters
    ----------
    input : array_like
        ``(N, H, W, C_in)``, or ``(N, C_in, H, W)`` with ``data_format="NCHW"``.
    filters : array_like
        ``(kh, kw, C_in / groups, C_out)`` (HWIO).
    strides, padding, data_format, dilations, groups, flip, method, workers, measure, backend
        See the shared parameters in :mod:`fftconv._api`: TensorFlow's forms,
        plus ``groups``, ``flip`` for true convolution, the ``method``, the
        number of FFT ``workers``, ``measure`` to time the methods instead of
        predicting, and the FFT ``backend``.

    Returns
    -------
    ndarray
        ``(N, out_h, out_w, C_out)`` (or NCHW). float32 in gives float32,
        float64 gives float64, float16 is computed in float32 and returned as
        float16, integers and bools give float64.

    Raises
    ------
    ValueError
        Bad shapes or values, before any work is done.
    TypeError
        Bad types, e.g. complex or string arrays.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.ones((1, 5, 5, 1), dtype=np.float32)
    >>> w = np.ones((3, 3, 1, 1), dtype=np.float32)
    >>> fftconv.conv2d(x, w, padding="SAME")[0, :, :, 0]
    array([[4., 6., 6., 6., 4.],
           [6., 9., 9., 9., 6.],
           [6., 9., 9., 9., 6.],
           [6., 9., 9., 9., 6.],
           [4., 6., 6., 6., 4.]], dtype=float32)
    """
    return _convolve(2, input, filters, strides, padding, data_format, dilations, groups, flip,
                     method, workers, measure, backend)


def conv1d(input, filters, strides=1, padding="VALID", data_format="NWC", dilations=1, *,
           groups=None, flip=False, method="auto", workers=None, measure=False,
           backend="auto"):
    """1-D convolution with the semantics of :func:`tf.nn.conv1d` (NWC input, WIO filters).

    Long FIR filters on signals are where the FFT method shines.

    Parameters
    ----------
    input : array_like
        ``(N, W, C_in)``, or ``(N, C_in, W)`` with ``data_format="NCW"``.
    filters : array_like
        ``(kw, C_in / groups, C_out)``.
    strides, padding, data_format, dilations, groups, flip, method, workers, measure, backend
        As for :func:`conv2d`, with one spatial axis.

    Returns
    -------
    ndarray
        ``(N, out_w, C_out)`` (or NCW), with :func:`conv2d`'s dtype rules.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> signal = np.arange(6.0).reshape(1, 6, 1)
    >>> fftconv.conv1d(signal, np.ones((3, 1, 1)))[0, :, 0]
    array([ 3.,  6.,  9., 12.])
    """
    return _convolve(1, input, filters, strides, padding, data_format, dilations, groups, flip,
                     method, workers, measure, backend)


def conv3d(input, filters, strides=1, padding="VALID", data_format="NDHWC", dilations=1, *,
           groups=None, flip=False, method="auto", workers=None, measure=False,
           backend="auto"):
    """3-D convolution with the semantics of :func:`tf.nn.conv3d` (NDHWC input, DHWIO filters).

    Parameters
    ----------
    input : array_like
        ``(N, D, H, W, C_in)``, or ``(N, C_in, D, H, W)`` with ``data_format="NCDHW"``.
    filters : array_like
        ``(kd, kh, kw, C_in / groups, C_out)``.
    strides, padding, data_format, dilations, groups, flip, method, workers, measure, backend
        As for :func:`conv2d`, with three spatial axes.

    Returns
    -------
    ndarray
        ``(N, out_d, out_h, out_w, C_out)`` (or NCDHW), with :func:`conv2d`'s dtype rules.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> volume = np.ones((1, 4, 4, 4, 1))
    >>> fftconv.conv3d(volume, np.ones((2, 2, 2, 1, 1))).shape
    (1, 3, 3, 3, 1)
    """
    return _convolve(3, input, filters, strides, padding, data_format, dilations, groups, flip,
                     method, workers, measure, backend)


def depthwise_conv2d(input, filter, strides=1, padding="VALID", data_format="NHWC",
                     dilations=1, *, flip=False, method="auto", workers=None, measure=False,
                     backend="auto"):
    """Depthwise 2-D convolution with the semantics of :func:`tf.nn.depthwise_conv2d`.

    Parameters
    ----------
    input : array_like
        ``(N, H, W, C)`` (or NCHW).
    filter : array_like
        ``(kh, kw, C, M)``: ``M`` filters per input channel.

    Returns
    -------
    ndarray
        ``C * M`` output channels; channel ``k * M + q`` comes from input channel ``k``.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> x = np.ones((1, 4, 4, 2))
    >>> w = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))], axis=-1)[..., None]
    >>> fftconv.depthwise_conv2d(x, w)[0, 0, 0]
    array([ 9., 18.])
    """
    x = _checks.as_array("input", input)
    w = _checks.as_array("filter", filter)
    hwio = _checks.check_depthwise_filter(w.shape)
    channels = _checks.input_channels(x.shape, data_format, 2)
    _checks.check_depthwise_channels(channels, w.shape)
    return _convolve(2, x, w.reshape(hwio), strides, padding, data_format, dilations, channels,
                     flip, method, workers, measure, backend, names=("input", "filter"))


class FilterBank:
    """A fixed filter bank applied to a stream of inputs, with its spectrum kept.

    The first input of each shape is planned, and the filters prepared for
    that plan (for the FFT method, transformed) once; later inputs of the
    same shape reuse both.

    Parameters
    ----------
    filters : array_like
        ``(*kernel, C_in / groups, C_out)``; 1, 2 or 3 spatial axes.
    strides, padding, data_format, dilations, groups, flip, method, workers, measure, backend
        As for :func:`conv2d`; ``data_format`` defaults to channels-last.

    Examples
    --------
    >>> import numpy as np, fftconv
    >>> bank = fftconv.FilterBank(np.ones((31, 31, 3, 16), np.float32), padding="SAME")
    >>> frames = np.zeros((10, 1, 128, 128, 3), np.float32)
    >>> [bank(frame).shape for frame in frames][-1]
    (1, 128, 128, 16)
    """

    def __init__(self, filters, strides=1, padding="VALID", data_format=None, dilations=1, *,
                 groups=None, flip=False, method="auto", workers=None, measure=False,
                 backend="auto"):
        self.filters = _checks.as_array("filters", filters)
        if self.filters.ndim not in (3, 4, 5):
            raise ValueError(
                f"`filters` must be 3-D, 4-D or 5-D (*kernel, C_in, C_out); got ndim="
                f"{self.filters.ndim} with shape {self.filters.shape}")
        self.filters = self.filters.copy()  # later changes to the caller's array must not leak in
        self.filters.flags.writeable = False
        self.ndim = self.filters.ndim - 2
        self.options = dict(strides=strides, padding=padding, dilations=dilations, groups=groups,
                            flip=flip, method=_checks.check_method(method), workers=workers,
                            measure=measure, backend=backend,
                            data_format=data_format or _checks.DATA_FORMATS[self.ndim][0])
        _checks.check_data_format(self.options["data_format"], self.ndim)
        self._bound = {}

    def plan_for(self, input_shape, dtype=np.float32) -> ConvPlan:
        """The plan this bank uses for inputs of ``input_shape`` and ``dtype``."""
        compute, _ = _checks.result_dtypes(dtype, self.filters.dtype)
        return _plan(self.ndim, input_shape, self.filters.shape, dtype=compute, reuse_filters=True,
                     **self.options)

    def __call__(self, input):
        """Convolve one input with the bank's filters."""
        x = _checks.as_array("input", input)
        key = (x.shape, _checks.result_dtypes(x.dtype, self.filters.dtype)[0])
        bound = self._bound.get(key)
        if bound is None:
            bound = self._bound[key] = self.plan_for(x.shape, x.dtype).bind(self.filters)
        return bound(x)

    def __repr__(self) -> str:
        return (f"FilterBank(filters {self.filters.shape} {self.filters.dtype}, "
                f"{len(self._bound)} input shape(s) planned)")
