"""Every input check of fftconv, and every message it raises.

Public functions validate here, before any heavy work, and get back
normalised values: tuples of ints, a :class:`~fftconv._shapes.geometry.ConvGeometry`,
dtypes.  ``ValueError`` is for bad values and shapes, ``TypeError`` for bad
types; each message names the argument, the value and what is accepted.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Set
import functools
import math
import operator
import os

import numpy as np

from fftconv._shapes.adjoint import input_size_range
from fftconv._shapes.geometry import ConvGeometry, output_size, same_pads
from fftconv._shapes.padding import ALIASES, MODES

#: The machine's CPU count, read once (``os.cpu_count`` costs microseconds per call).
CPUS = os.cpu_count() or 1
DATA_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}
_SPATIAL_NAMES = {1: "w", 2: "h, w", 3: "d, h, w"}
_KERNEL_NAMES = {1: "kw", 2: "kh, kw", 3: "kd, kh, kw"}
_FLOAT_DTYPES = (np.float16, np.float32, np.float64)
_COMPLEX_DTYPES = (np.complex64, np.complex128)
_NUMBERS = "float16, float32, float64, complex64, complex128, integer or bool"
#: Boundary-mode names of scipy.ndimage and scipy.signal, with the padding_mode that means the same.
_FOREIGN_MODES = {"mirror": "reflect", "nearest": "edge", "grid-wrap": "wrap", "grid-mirror": "symmetric",
                  "grid-constant": "constant", "symm": "symmetric", "fill": "constant"}
#: OpenCV's ``BORDER_*`` names (without the prefix), with the padding_mode that means the same.
_OPENCV_MODES = {"reflect": "symmetric", "reflect_101": "reflect", "reflect101": "reflect",
                 "default": "reflect", "replicate": "edge", "wrap": "wrap", "constant": "constant"}


def check_plan_shape(name, shape, expected, also=None) -> None:
    """Raise ``ValueError`` unless an array named ``name`` has the ``expected`` shape a plan was made
    for (or the shape ``also``, where the plan accepts a second form of the same array)."""
    if tuple(shape) != tuple(expected) and (also is None or tuple(shape) != tuple(also)):
        made = f"{tuple(expected)}" if also is None else f"{tuple(also)} (or its grouped form {tuple(expected)})"
        raise ValueError(f"`{name}` has shape {tuple(shape)} but this plan was made for {made}; "
                         f"make a new plan for other shapes")


def check_method(method, allowed) -> str:
    """Return ``method`` if it is one of ``allowed`` (``"auto"`` and the registered methods),
    else raise ``ValueError`` listing them."""
    if not isinstance(method, str) or method not in allowed:
        raise ValueError(f"`method` must be one of {', '.join(map(repr, allowed))}; got {method!r}")
    return method


#: How to install each backend fftconv knows, for the message when one is missing.
BACKEND_INSTALLS = {
    "pyfftw": "pyFFTW is a dependency of fftconv that cannot be imported here: pip install pyfftw "
              "(it needs FFTW's libraries where no wheel fits this platform)",
    "ducc0": "ducc0 is an optional extra: pip install \"fftconv[ducc0]\"",
}


def check_backend(backend, available) -> str:
    """Return ``backend`` if it is ``"auto"`` or an available backend's name; a known backend that
    is not installed here gets how to install it.

    Examples
    --------
    >>> check_backend("ducc0", ("scipy", "ducc0"))
    'ducc0'
    >>> check_backend("ducc0", ("scipy",))
    Traceback (most recent call last):
    ...
    ValueError: `backend` 'ducc0' is not installed here (ducc0 is an optional extra: pip install "fftconv[ducc0]"); the installed ones are 'auto', 'scipy'
    """
    allowed = ("auto", *available)
    if not isinstance(backend, str) or backend not in allowed:
        names = ", ".join(map(repr, allowed))
        if isinstance(backend, str) and backend in BACKEND_INSTALLS:
            raise ValueError(f"`backend` {backend!r} is not installed here ({BACKEND_INSTALLS[backend]}); "
                             f"the installed ones are {names}")
        raise ValueError(f"`backend` must be one of {names}; got {backend!r}")
    return backend


def check_workers(workers) -> int | None:
    """Apply scipy.fft's rules: ``None`` is the default, negatives count back from the CPUs."""
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise TypeError(f"`workers` must be an int or None; got {type(workers).__name__} {workers!r}")
    workers = int(workers)
    if workers > 0:
        return workers
    cpus = CPUS
    if workers == 0 or workers < -cpus:
        raise ValueError(
            f"`workers` must be a positive int, or a negative int from -1 to -{cpus} "
            f"(counting back from the {cpus} CPUs); got {workers}"
        )
    return cpus + 1 + workers


def check_data_format(data_format, ndim: int) -> bool:
    """Return True for channels-first formats (``NCHW`` and kin)."""
    allowed = DATA_FORMATS[ndim]
    if data_format not in allowed:
        raise ValueError(
            f"`data_format` must be {' or '.join(map(repr, allowed))} for a {ndim}-D "
            f"convolution; got {data_format!r}"
        )
    return data_format == allowed[1]


def _scalar(value):
    """A 0-d array as the Python scalar it holds; anything else unchanged."""
    return value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value


def check_positive_int(name: str, value) -> int:
    """A positive int (numpy ints and 0-d integer arrays too)."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be a positive int; got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"`{name}` must be a positive int; got {value!r}")
    return int(value)


def _as_int(name: str, value, what: str) -> int:
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must hold ints{what}; got {type(value).__name__} {value!r}")
    return int(value)


def check_flag(name: str, value) -> bool:
    """A boolean argument: ``True`` or ``False`` (numpy bools too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False; got {type(value).__name__} {value!r}")
    return bool(value)


def check_int_tuple(name: str, value, ndim: int, channels_first: bool) -> tuple[int, ...]:
    """Normalise ``strides`` or ``dilations``: an int, or 1, ndim or ndim + 2 positive ints.

    The ndim + 2 form is TensorFlow's, in data_format order; its batch and
    channel entries must be 1.
    """
    accepted = f"an int or a sequence of 1, {ndim} or {ndim + 2} positive ints"
    value = _scalar(value)
    if isinstance(value, (str, bytes, Mapping, Set)) or not (
        isinstance(value, numbers.Integral) or hasattr(value, "__len__")
    ):
        raise TypeError(f"`{name}` must be {accepted}; got {type(value).__name__} {value!r}")
    values = [value] if isinstance(value, numbers.Integral) else list(value)
    values = [_as_int(name, v, "") for v in values]
    if len(values) == 1:
        values = values * ndim
    elif len(values) == ndim + 2:
        outer = (values[0], values[1]) if channels_first else (values[0], values[-1])
        if outer != (1, 1):
            raise ValueError(
                f"`{name}` in the {ndim + 2}-element form must be 1 in the batch and "
                f"channel entries; got {value!r}"
            )
        values = values[2:] if channels_first else values[1:-1]
    elif len(values) != ndim:
        raise ValueError(f"`{name}` must be {accepted}; got {len(values)} values: {value!r}")
    if min(values) < 1:
        raise ValueError(f"`{name}` must be {accepted}; got {value!r}")
    return tuple(values)


def check_padding(padding, ndim: int, channels_first: bool):
    """Normalise ``padding`` to ``"SAME"``, ``"VALID"`` or a tuple of (before, after) pairs.

    Accepted: the strings SAME and VALID (any case); one non-negative int for
    every side; TensorFlow's list of ndim + 2 pairs in data_format order with
    zeros for batch and channels; ndim pairs ``((top, bottom), (left, right))``;
    or ndim ints, each applied to both sides of its axis.
    """
    accepted = (
        f"'SAME', 'VALID', an int, {ndim} (before, after) pairs, {ndim} ints, or "
        f"TensorFlow's {ndim + 2} pairs in data_format order"
    )
    padding = _scalar(padding)
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise ValueError(f"`padding` must be {accepted}; got {padding!r}")
        return padding.upper()
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        pairs = [(padding, padding)] * ndim
    elif hasattr(padding, "__len__") and not isinstance(padding, (bytes, Mapping, Set)):
        pairs = _padding_pairs(padding, ndim, channels_first, accepted)
    else:
        raise TypeError(f"`padding` must be {accepted}; got {type(padding).__name__} {padding!r}")
    pairs = tuple((_as_int("padding", a, ""), _as_int("padding", b, "")) for a, b in pairs)
    if min(min(p) for p in pairs) < 0:
        raise ValueError(f"`padding` must not be negative; got {padding!r}")
    return pairs


def _padding_pairs(padding, ndim, channels_first, accepted):
    items = [_scalar(v) for v in padding]
    if len(items) == ndim and all(isinstance(v, numbers.Integral) for v in items):
        return [(v, v) for v in items]
    if not all(hasattr(p, "__len__") and len(p) == 2 for p in items):
        raise ValueError(f"`padding` must be {accepted}; got ragged or malformed {padding!r}")
    if len(items) == ndim + 2:
        outer = (items[0], items[1]) if channels_first else (items[0], items[-1])
        if any(_as_int("padding", v, "") != 0 for pair in outer for v in pair):
            raise ValueError(
                f"`padding` in the {ndim + 2}-pair form must be [0, 0] for the batch and "
                f"channel axes; got {padding!r}"
            )
        return items[2:] if channels_first else items[1:-1]
    if len(items) != ndim:
        raise ValueError(f"`padding` must be {accepted}; got {len(items)} entries: {padding!r}")
    return items


def check_padding_mode(padding_mode) -> str:
    """numpy.pad's name for ``padding_mode``: one of :data:`~fftconv._shapes.padding.MODES`, or a torch
    alias of one (:data:`~fftconv._shapes.padding.ALIASES`).

    Examples
    --------
    >>> check_padding_mode("circular"), check_padding_mode("reflect")
    ('wrap', 'reflect')
    """
    accepted = ", ".join(map(repr, (*MODES, *ALIASES)))
    if not isinstance(padding_mode, str):
        raise TypeError(f"`padding_mode` must be a string, one of {accepted}; got "
                        f"{type(padding_mode).__name__} {padding_mode!r}")
    if padding_mode in MODES:
        return padding_mode
    if padding_mode in ALIASES:
        return ALIASES[padding_mode]
    hint, lower = "", padding_mode.lower()
    same = _OPENCV_MODES.get(lower[7:]) if lower.startswith("border_") else _FOREIGN_MODES.get(lower)
    if same:
        hint = f" ({padding_mode!r} elsewhere is padding_mode={same!r} here: see docs/boundaries.rst)"
    elif lower in MODES or lower in ALIASES:
        hint = f" (names are lower case: {lower!r})"
    elif lower in ("linear_ramp", "maximum", "mean", "median", "minimum", "empty"):
        hint = " (numpy.pad's statistical, ramp and empty modes are not offered)"
    raise ValueError(f"`padding_mode` must be one of {accepted}; got {padding_mode!r}{hint}")


def check_dtype(name: str, dtype) -> np.dtype:
    """The dtype ``name`` is computed in: float and complex kinds as they are, ints and bool as
    float64."""
    known = _COMPUTED.get(dtype) if isinstance(dtype, np.dtype) else None
    if known is not None:  # a dtype accepted before (every call checks its arrays' dtypes)
        return known
    computed = _check_dtype(name, dtype)
    if isinstance(dtype, np.dtype):
        _COMPUTED[dtype] = computed
    return computed


#: The dtypes :func:`check_dtype` accepted, with the dtype each computes in.
_COMPUTED: dict = {}


def _check_dtype(name: str, dtype) -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"`{name}` must be a numeric dtype ({_NUMBERS}); got {dtype!r}, which numpy does not "
            f"understand"
        ) from None
    if dtype.kind in "iub":
        return np.dtype(np.float64)
    if (dtype.kind == "f" and dtype.type in _FLOAT_DTYPES) or (dtype.kind == "c" and dtype.type in
                                                                _COMPLEX_DTYPES):
        return dtype.newbyteorder("=")
    raise TypeError(f"`{name}` must hold numbers ({_NUMBERS}); got dtype {dtype}")


_REALS = "float16, float32, float64, integer or bool"


def check_real_dtype(name: str, dtype) -> np.dtype:
    """:func:`check_dtype` for the operations that take real numbers only (the gradient side)."""
    computed = check_dtype(name, dtype)
    if computed.kind == "c":
        raise TypeError(f"`{name}` must hold real numbers ({_REALS}); got dtype {np.dtype(dtype)} "
                        f"(complex inputs are taken by the forward convolutions, not by the gradient-side ops)")
    return computed


def as_real_array(name: str, value) -> np.ndarray:
    """:func:`as_array` for the operations that take real numbers only."""
    array = as_array(name, value)
    check_real_dtype(name, array.dtype)
    return array


def real_result_dtypes(input_dtype, filters_dtype, names=("input", "filters")) -> tuple[np.dtype, np.dtype]:
    """:func:`result_dtypes` for the operations that take real numbers only."""
    check_real_dtype(names[0], input_dtype)
    check_real_dtype(names[1], filters_dtype)
    return result_dtypes(input_dtype, filters_dtype, names)


def real_plan_dtypes(dtype) -> tuple[np.dtype, np.dtype]:
    """:func:`plan_dtypes` for the operations that take real numbers only."""
    check_real_dtype("dtype", dtype)
    return plan_dtypes(dtype)


def result_dtypes(input_dtype, filters_dtype, names=("input", "filters")) -> tuple[np.dtype, np.dtype]:
    """Return ``(compute_dtype, output_dtype)`` under the spec's promotion rules.

    Complex results are complex64 only when everything is complex64, float32
    or float16 (:func:`numpy.result_type`'s rule, integers counting as float64).

    Examples
    --------
    >>> result_dtypes(np.float16, np.float16)
    (dtype('float32'), dtype('float16'))
    >>> result_dtypes(np.int32, np.float32)
    (dtype('float64'), dtype('float64'))
    >>> result_dtypes(np.complex64, np.float16), result_dtypes(np.complex64, np.int8)
    ((dtype('complex64'), dtype('complex64')), (dtype('complex128'), dtype('complex128')))
    """
    pair = (check_dtype(names[0], input_dtype), check_dtype(names[1], filters_dtype))
    known = _RESULTS.get(pair)
    if known is None:
        out = np.result_type(*pair)
        known = _RESULTS[pair] = (np.dtype(np.float32) if out == np.float16 else out), out
    return known


#: :func:`result_dtypes` of each pair of compute dtypes met.
_RESULTS: dict = {}


def plan_dtypes(dtype) -> tuple[np.dtype, np.dtype]:
    """``(compute_dtype, output_dtype)`` for a plan's ``dtype`` argument (inputs and filters alike)."""
    return result_dtypes(dtype, dtype, ("dtype", "dtype"))


def is_dask_array(value) -> bool:
    """Whether ``value`` is a dask array (without importing dask)."""
    return type(value).__module__.startswith("dask.") and hasattr(value, "__dask_graph__")


def as_array(name: str, value) -> np.ndarray:
    """``np.asarray`` with errors that name the argument; never copies an ndarray.

    A dask array is refused (``TypeError``) rather than computed whole behind the caller's back:
    :mod:`fftconv.dask` runs the same calls chunk by chunk.
    """
    if type(value) is not np.ndarray and is_dask_array(value):
        raise TypeError(f"`{name}` is a dask array (shape {value.shape}, chunks {value.chunksize}), which this "
                        f"in-memory function would compute whole; for a lazy result chunk by chunk call "
                        f"fftconv.dask.conv1d, conv2d, conv3d or depthwise_conv2d with the same arguments "
                        f"(`import fftconv.dask`), or pass `{name}.compute()` to compute it here")
    if isinstance(value, np.ma.MaskedArray) and np.ma.getmaskarray(value).any():
        raise TypeError(f"`{name}` is a masked array with masked samples, whose mask fftconv would "
                        f"ignore; pass `{name}.filled(np.nan)` with nan_treatment='interpolate' or "
                        f"'fill', or `{name}.filled(value)`")
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"`{name}` must be an array or a nested sequence of numbers with a regular "
                f"shape; could not convert it ({exc})"
            ) from None
    check_dtype(name, array.dtype)
    return array


def check_shape(name: str, shape, ndim: int, layout: str) -> tuple[int, ...]:
    """Check that ``shape`` has ``ndim`` non-negative entries."""
    try:
        shape = tuple(operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(f"`{name}` must be a sequence of ints; got {shape!r}") from None
    if len(shape) != ndim:
        raise ValueError(f"`{name}` must be {ndim}-D {layout}; got ndim={len(shape)} with shape {shape}")
    if min(shape, default=0) < 0:
        raise ValueError(f"`{name}` must have non-negative sizes; got shape {shape}")
    return shape


def check_geometry(input_shape, filters_shape, ndim, strides, padding, data_format,
                   dilations, groups, flip, *, names=("input", "filters"),
                   padding_mode="constant") -> ConvGeometry:
    """Validate every shape argument together and return the normalised geometry.

    ``input_shape`` is in ``data_format`` order; ``filters_shape`` is
    ``(*kernel, C_in / groups, C_out)``.  The geometry's ``padding_mode`` is
    numpy's name of the mode, and ``"constant"`` when there is nothing to pad
    (a mode changes nothing then).
    """
    channels_first = check_data_format(data_format, ndim)
    input_shape = check_shape(names[0], input_shape, ndim + 2, _input_layout(data_format, ndim))
    filters_shape = check_shape(
        names[1], filters_shape, ndim + 2, f"({_KERNEL_NAMES[ndim]}, C_in, C_out)"
    )
    if channels_first:
        batch, channels, spatial = input_shape[0], input_shape[1], input_shape[2:]
    else:
        batch, channels, spatial = input_shape[0], input_shape[-1], input_shape[1:-1]
    strides = check_int_tuple("strides", strides, ndim, channels_first)
    dilations = check_int_tuple("dilations", dilations, ndim, channels_first)
    given_padding = padding
    padding = check_padding(padding, ndim, channels_first)
    flip = check_flag("flip", flip)
    padding_mode = check_padding_mode(padding_mode)
    kernel, group_in, out_channels = filters_shape[:-2], filters_shape[-2], filters_shape[-1]
    if channels == 0:
        raise ValueError(f"`{names[0]}` has 0 channels (shape {input_shape}); a convolution needs at "
                         f"least one input channel")
    groups = _check_groups(groups, channels, group_in, out_channels, names, filters_shape)
    if min(kernel) < 1:
        raise ValueError(f"`{names[1]}` must have spatial sizes of at least 1; got shape {filters_shape}")
    pads, out = _pads_and_output(spatial, kernel, strides, dilations, padding, names)
    if not any(lo or hi for lo, hi in pads):
        padding_mode = "constant"
    _check_mode_can_pad(padding_mode, spatial, pads, given_padding, names)
    geom = ConvGeometry(batch, spatial, channels, out_channels, groups, kernel, strides,
                        dilations, pads, out, bool(flip), padding_mode)
    _check_sizes(geom, given_padding, names)
    return geom


def _check_mode_can_pad(mode, spatial, pads, padding, names) -> None:
    """numpy.pad's own limit: only zeros can extend an empty axis."""
    empty = [axis for axis, (n, (lo, hi)) in enumerate(zip(spatial, pads)) if n == 0 and (lo or hi)]
    if mode != "constant" and empty:
        raise ValueError(
            f"`padding_mode` {mode!r} cannot pad `{names[0]}`'s empty spatial axis {empty[0]} (spatial sizes "
            f"{tuple(spatial)}, pads {pads} from `padding` {padding!r}): there are no values to repeat, "
            f"and numpy.pad refuses it too; use padding_mode='constant' or padding='VALID'")


#: No array fftconv makes may hold more elements than this (numpy's own limit is 2**63 bytes).
MAX_ELEMENTS = 2**56


def _check_sizes(geom: ConvGeometry, padding, names) -> None:
    """Reject shapes whose output or padded input could not exist as an array."""
    padded = geom.batch * math.prod(geom.used_extent) * geom.in_channels
    out = math.prod(geom.output_shape)
    if max(padded, out) > MAX_ELEMENTS:
        dilated = "" if all(d == 1 for d in geom.dilations) else \
            f" and `dilations` {geom.dilations} (a dilated kernel of {geom.eff_kernel})"
        raise ValueError(
            f"`padding` {padding!r} with `{names[0]}` spatial sizes {geom.spatial}{dilated} makes an output of "
            f"{out:.3g} elements and a padded input of {padded:.3g}; at most {MAX_ELEMENTS:.3g} "
            f"elements fit in an array")


def _input_layout(data_format, ndim) -> str:
    """E.g. ``"NHWC (batch, h, w, channels)"``, for messages."""
    if data_format == DATA_FORMATS[ndim][1]:
        return f"{data_format} (batch, channels, {_SPATIAL_NAMES[ndim]})"
    return f"{data_format} (batch, {_SPATIAL_NAMES[ndim]}, channels)"


def _check_groups(groups, channels, group_in, out_channels, names, filters_shape=None):
    hint = torch_layout_hint(names[1], filters_shape, channels) if filters_shape is not None else ""
    if group_in < 1:
        raise ValueError(f"`{names[1]}` must have at least one input channel; got C_in / groups = {group_in}"
                         f"{hint}")
    if groups is None:
        if channels % group_in:
            raise ValueError(
                f"`{names[0]}` has {channels} channels, which is not a multiple of the "
                f"{group_in} input channels of `{names[1]}` (shape[-2]){hint}"
            )
        groups = channels // group_in
    else:
        groups = _as_int("groups", groups, " or None")
        if groups < 1 or groups * group_in != channels:
            raise ValueError(
                f"`groups` must satisfy groups * filters.shape[-2] == C_in ({group_in} * "
                f"groups == {channels}); got groups={groups}{hint}"
            )
    if groups < 1 or out_channels % groups:
        raise ValueError(
            f"`{names[1]}` has {out_channels} output channels, which is not a multiple of "
            f"groups={groups}{hint}"
        )
    return groups


def torch_layout_hint(name: str, filters_shape, channels: int) -> str:
    """A message's ending when ``filters_shape`` fits torch's ``(C_out, C_in / groups, *kernel)``
    weights for ``channels`` input channels: the filters are HWIO, and how to convert.

    Examples
    --------
    >>> torch_layout_hint("filters", (16, 3, 5, 5), 3)[:56]
    '; `filters` must be (*kernel, C_in / groups, C_out), Ten'
    >>> torch_layout_hint("filters", (5, 5, 3, 16), 3)
    ''
    """
    shape = tuple(filters_shape)
    c_out, group_in = shape[0], shape[1]
    if len(shape) < 3 or group_in < 1 or channels % group_in or c_out % (channels // group_in):
        return ""
    order = ", ".join(map(str, (*range(2, len(shape)), 1, 0)))
    return (f"; `{name}` must be (*kernel, C_in / groups, C_out), TensorFlow's HWIO, whatever `data_format` "
            f"says, and its shape {shape} reads as torch's (C_out, C_in / groups, *kernel): pass "
            f"w.transpose({order})")


def _pads_and_output(spatial, kernel, strides, dilations, padding, names):
    effs = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    if padding == "SAME":
        pads = tuple(same_pads(n, e, s) for n, e, s in zip(spatial, effs, strides))
        # out = ceil(n / s) always, as in TensorFlow: 0 (not an error) for an empty axis
        return pads, tuple(-(-n // s) for n, s in zip(spatial, strides))
    elif padding == "VALID":
        pads = ((0, 0),) * len(spatial)
    else:
        pads = padding
    out = tuple(output_size(n, e, s, lo, hi) for n, e, s, (lo, hi) in zip(spatial, effs, strides, pads))
    if min(out) < 0:
        raise ValueError(
            f"the dilated kernel {tuple(effs)} of `{names[1]}` is larger than the padded "
            f"`{names[0]}` {tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pads))} "
            f"(spatial sizes {tuple(spatial)}, padding {padding!r}); use padding='SAME' or "
            f"a smaller kernel"
        )
    return pads, out


def check_depthwise_filter(filter_shape, ndim: int = 2, name: str = "filter") -> tuple[int, ...]:
    """Validate a depthwise filter ``(kh, kw, C, M)``; return its HWIO equivalent shape."""
    shape = check_shape(name, filter_shape, ndim + 2, f"({_KERNEL_NAMES[ndim]}, C, M)")
    return (*shape[:-2], 1, shape[-2] * shape[-1])


def check_depthwise_channels(channels: int, filter_shape, names=("input", "filter")) -> None:
    """The depthwise filter's third axis must equal the input's channel count."""
    shape = tuple(filter_shape)
    if shape[-2] != channels:
        hint = ""
        if shape[1] == 1 and shape[0] % channels == 0:  # torch's depthwise weight, (C * M, 1, *kernel)
            nd = len(shape) - 2
            kernel = ", ".join(f"k{i}" for i in range(nd))
            order = ", ".join(map(str, (*range(2, nd + 2), 0, 1)))
            hint = (f"; `{names[1]}` is TensorFlow's (*kernel, C, M), whatever `data_format` says, and its shape "
                    f"reads as torch's depthwise (C * M, 1, *kernel): pass w.reshape(C, M, {kernel})"
                    f".transpose({order})")
        raise ValueError(
            f"`{names[1]}` shape[-2] must equal the {channels} input channels; got filter shape "
            f"{shape}{hint}"
        )


def input_channels(input_shape, data_format, ndim, name: str = "input") -> int:
    """The channel count of an input shape in ``data_format`` order."""
    channels_first = check_data_format(data_format, ndim)
    shape = check_shape(name, input_shape, ndim + 2, _input_layout(data_format, ndim))
    return shape[1] if channels_first else shape[-1]


def check_options(ndim: int, *, strides, padding, dilations, groups, flip, method, workers, measure,
                  backend, data_format, padding_mode="constant") -> dict:
    """Every shape-independent option, checked and normalised (for :class:`fftconv.FilterBank`).

    ``backend`` is ``(name, available names)``, ``method`` ``(name, accepted names)``.  Returns the options as keywords
    for the planner.
    """
    channels_first = check_data_format(data_format, ndim)
    if groups is not None:
        groups = check_positive_int("groups", groups)
    return dict(strides=check_int_tuple("strides", strides, ndim, channels_first),
                padding=check_padding(padding, ndim, channels_first),
                dilations=check_int_tuple("dilations", dilations, ndim, channels_first),
                groups=groups, flip=check_flag("flip", flip), method=check_method(*method),
                workers=check_workers(workers), measure=check_flag("measure", measure),
                backend=check_backend(*backend), data_format=data_format,
                padding_mode=check_padding_mode(padding_mode))


@functools.lru_cache(maxsize=1)
def _physical_memory() -> int | None:
    """Bytes of RAM on this machine, where the OS says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(nbytes: int, output_shape) -> None:
    """Refuse, before allocating, a call that needs more bytes than the machine has."""
    total = _physical_memory()
    if total and nbytes > total:
        raise ValueError(
            f"this convolution needs about {nbytes / 2**30:.1f} GiB (output shape {tuple(output_shape)} "
            f"and working memory), more than the {total / 2**30:.1f} GiB of memory here; check "
            f"`padding` and the shapes")


# -- the gradient-side ops ------------------------------------------------------------------

def check_dilations_default(dilations):
    """TensorFlow's ``dilations=None`` of the gradient-side ops: 1 along every axis."""
    return 1 if dilations is None else dilations


def _axis_names(ndim: int) -> list[str]:
    return _SPATIAL_NAMES[ndim].split(", ")


def check_sizes_argument(name: str, value, ndim: int, layout: str, *, spatial_ok: bool = False) -> tuple[int, ...]:
    """A shape given as an argument (``output_shape``, ``input_sizes``, ``filter_sizes``):
    ``ndim + 2`` non-negative ints, or with ``spatial_ok`` also ``ndim`` (the spatial sizes)."""
    value = _scalar(value)
    try:
        shape = tuple(operator.index(_scalar(s)) for s in value)
    except TypeError:
        raise TypeError(f"`{name}` must be a sequence of ints {layout}; got {value!r}") from None
    if len(shape) != ndim + 2 and not (spatial_ok and len(shape) == ndim):
        forms = f"{ndim + 2} ints {layout}" + (f" or {ndim} spatial sizes" if spatial_ok else "")
        raise ValueError(f"`{name}` must be {forms}; got {len(shape)} values: {value!r}")
    if min(shape, default=0) < 0:
        raise ValueError(f"`{name}` must have non-negative sizes; got {shape}")
    return shape


def check_transpose_geometry(dy_shape, filters_shape, output_shape, ndim, strides, padding, data_format,
                             dilations, groups, *, names=("input", "filters", "output_shape"),
                             filters_layout=None) -> ConvGeometry:
    """The forward convolution whose input gradient a transposed convolution computes.

    ``dy_shape`` (the transposed convolution's input, the forward output) is
    in ``data_format`` order; ``filters_shape`` is the forward
    ``(*kernel, C_in / groups, C_out)`` (TensorFlow's ``(*kernel, out_channels,
    in_channels)`` of ``conv2d_transpose``); ``output_shape`` (the forward input)
    is ``ndim + 2`` sizes in ``data_format`` order or the ``ndim`` spatial sizes.
    Every size whose forward convolution gives ``dy``'s spatial sizes is
    accepted, as in TensorFlow.
    """
    dy_name, w_name, out_name = names
    channels_first = check_data_format(data_format, ndim)
    layout = _input_layout(data_format, ndim)
    dy_shape = check_shape(dy_name, dy_shape, ndim + 2, layout)
    filters_shape = check_shape(w_name, filters_shape, ndim + 2,
                                filters_layout or f"({_KERNEL_NAMES[ndim]}, C_out, C_in)")
    out = check_sizes_argument(out_name, output_shape, ndim, layout, spatial_ok=True)
    dy_batch, dy_channels = dy_shape[0], dy_shape[1] if channels_first else dy_shape[-1]
    dy_spatial = dy_shape[2:] if channels_first else dy_shape[1:-1]
    if dy_channels != filters_shape[-1]:
        raise ValueError(
            f"`{dy_name}` has {dy_channels} channels but `{w_name}` {filters_shape} takes "
            f"{filters_shape[-1]} (its last axis); the filters of a transposed convolution are the "
            f"forward convolution's, (*kernel, C_in / groups, C_out) with C_out the channels of `{dy_name}`"
            + (f", whatever `data_format` says; its shape reads as torch's conv_transpose weight (C_out, C_in / "
               f"groups, *kernel): pass w.transpose({', '.join(map(str, (*range(2, ndim + 2), 1, 0)))})"
               if filters_shape[0] == dy_channels else ""))
    if len(out) == ndim:
        channels = filters_shape[-2] * (1 if groups is None else check_positive_int("groups", groups))
        out = (dy_batch, channels, *out) if channels_first else (dy_batch, *out, channels)
    elif out[0] != dy_batch:
        raise ValueError(f"`{out_name}` {out} has batch {out[0]}, but `{dy_name}` has batch {dy_batch}; "
                         f"they must be equal")
    out_spatial = out[2:] if channels_first else out[1:-1]
    strides_ = check_int_tuple("strides", strides, ndim, channels_first)
    dilations_ = check_int_tuple("dilations", dilations, ndim, channels_first)
    pads = check_padding(padding, ndim, channels_first)
    if filters_shape[:-2] and min(filters_shape[:-2]) < 1:
        raise ValueError(f"`{w_name}` must have spatial sizes of at least 1; got shape {filters_shape}")
    for axis, (n, o, k, s, d) in enumerate(zip(out_spatial, dy_spatial, filters_shape[:-2], strides_,
                                               dilations_)):
        eff = (k - 1) * d + 1
        kind = pads if isinstance(pads, str) else "EXPLICIT"
        pair = pads[axis] if kind == "EXPLICIT" else (0, 0)
        valid = input_size_range(o, eff, s, kind, pair)
        if valid is None or not valid[0] <= n <= valid[1]:
            sizes = ("no size" if valid is None else f"{valid[0]}" if valid[0] == valid[1]
                     else f"{valid[0]} to {valid[1]}")
            raise ValueError(
                f"`{out_name}` {tuple(out)} does not fit `{dy_name}` {dy_shape}: along "
                f"{_axis_names(ndim)[axis]}, a convolution with the dilated kernel {eff}, stride {s} and "
                f"padding {padding!r} gives the {o} samples of `{dy_name}` only from {sizes} input samples "
                f"(TensorFlow's rule); got {n}")
    geom = check_geometry(out, filters_shape, ndim, strides, padding, data_format, dilations, groups, False,
                          names=(out_name, w_name))
    assert geom.out_spatial == tuple(dy_spatial) and geom.out_channels == dy_channels
    return geom


def check_filter_gradient_geometry(x_shape, filter_sizes, dy_shape, ndim, strides, padding, data_format,
                                   dilations, groups, *, names=("input", "filter_sizes", "out_backprop"),
                                   sizes_argument=True) -> ConvGeometry:
    """The forward convolution of ``x_shape`` with filters of ``filter_sizes``, checked against the
    output gradient's shape ``dy_shape`` (all in ``data_format`` order)."""
    x_name, w_name, dy_name = names
    channels_first = check_data_format(data_format, ndim)
    layout = _input_layout(data_format, ndim)
    if sizes_argument:
        filter_sizes = check_sizes_argument(w_name, filter_sizes, ndim, f"({_KERNEL_NAMES[ndim]}, C_in, C_out)")
    geom = check_geometry(x_shape, filter_sizes, ndim, strides, padding, data_format, dilations, groups, False,
                          names=(x_name, w_name))
    dy_shape = check_shape(dy_name, dy_shape, ndim + 2, layout)
    expected = geom.output_shape
    if channels_first:
        expected = (expected[0], expected[-1], *expected[1:-1])
    if dy_shape != expected:
        raise ValueError(
            f"`{dy_name}` has shape {dy_shape}, but the convolution of `{x_name}` {tuple(x_shape)} with "
            f"filters {tuple(filter_sizes)} (strides {geom.strides}, dilations {geom.dilations}, padding "
            f"{padding!r}) gives {expected}")
    return geom


def check_pointwise_filter(shape, depthwise_shape, names=("pointwise_filter", "depthwise_filter")) -> tuple:
    """``separable_conv2d``'s pointwise filter: ``(1, 1, C * M, C_out)`` for a depthwise ``(kh, kw, C, M)``."""
    shape = check_shape(names[0], shape, 4, "(1, 1, C * M, C_out)")
    width = depthwise_shape[-2] * depthwise_shape[-1]
    if shape[:3] != (1, 1, width):
        raise ValueError(
            f"`{names[0]}` must be (1, 1, C * M, C_out) with C * M = {width} (from `{names[1]}` "
            f"{tuple(depthwise_shape)}); got shape {shape}")
    return shape


def check_depthwise_gradient_channels(channels: int, filter_shape, names=("out_backprop", "filter")) -> None:
    """A depthwise output gradient has ``C * M`` channels for a ``(kh, kw, C, M)`` filter."""
    expected = filter_shape[-2] * filter_shape[-1]
    if channels != expected:
        raise ValueError(
            f"`{names[0]}` has {channels} channels, but `{names[1]}` {tuple(filter_shape)} makes C * M = "
            f"{expected} output channels")


# -- scipy.signal's entry points and NaN treatment -----------------------------------------

#: ``mode`` of :func:`fftconv.convolve` and :func:`fftconv.correlate` (scipy.signal's).
SIGNAL_MODES = ("full", "same", "valid")
#: ``nan_treatment`` of every convolution.
NAN_TREATMENTS = ("propagate", "fill", "interpolate")
#: Convolution axes :func:`fftconv.convolve` runs on the engine (conv1d, conv2d, conv3d).
MAX_SIGNAL_AXES = 3


def check_signal_mode(mode) -> str:
    """scipy.signal's ``mode``: ``"full"``, ``"same"`` or ``"valid"`` (``ValueError`` otherwise,
    as scipy raises)."""
    if not isinstance(mode, str) or mode not in SIGNAL_MODES:
        raise ValueError(f"`mode` must be one of {', '.join(map(repr, SIGNAL_MODES))}; got {mode!r}")
    return mode


def check_nan_treatment(nan_treatment, fill_value) -> tuple[str, object]:
    """``(nan_treatment, fill_value)`` checked: one of :data:`NAN_TREATMENTS`, and a real or
    complex number (a Python, numpy or 0-d array scalar).

    Examples
    --------
    >>> check_nan_treatment("fill", np.float32(2))
    ('fill', 2.0)
    """
    if not isinstance(nan_treatment, str) or nan_treatment not in NAN_TREATMENTS:
        raise ValueError(f"`nan_treatment` must be one of {', '.join(map(repr, NAN_TREATMENTS))}; got "
                         f"{nan_treatment!r}")
    value = _scalar(fill_value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Number):
        raise TypeError(f"`fill_value` must be a real or complex number; got {type(value).__name__} "
                        f"{value!r}")
    if value != 0 and nan_treatment != "fill":
        raise ValueError(f"`fill_value` {value!r} is used only with nan_treatment='fill'; got "
                         f"nan_treatment={nan_treatment!r}")
    return nan_treatment, (complex(value) if isinstance(value, numbers.Complex)
                           and not isinstance(value, numbers.Real) else float(value))


def check_fill_fits(fill_value, dtype, name="input") -> None:
    """A complex ``fill_value`` cannot stand in for a sample of a real ``name``."""
    if isinstance(fill_value, complex) and np.dtype(dtype).kind != "c":
        raise ValueError(f"`fill_value` {fill_value!r} is complex, but `{name}` is real (dtype {dtype}); "
                         f"give a real fill_value")


def check_same_ndim(shape1, shape2, names=("in1", "in2")) -> None:
    """scipy.signal's rule: both arrays have the same number of dimensions."""
    if len(shape1) != len(shape2):
        raise ValueError(f"`{names[0]}` and `{names[1]}` must have the same number of dimensions; got "
                         f"ndim={len(shape1)} (shape {tuple(shape1)}) and ndim={len(shape2)} "
                         f"(shape {tuple(shape2)})")


def check_axes(axes, ndim: int) -> tuple[int, ...]:
    """``axes`` as sorted, non-negative, unique ints (``None``: every axis), as scipy.fft reads them.

    Examples
    --------
    >>> check_axes(None, 3), check_axes(-1, 3), check_axes([2, 0], 3)
    ((0, 1, 2), (2,), (0, 2))
    """
    if axes is None:
        return tuple(range(ndim))
    accepted = f"an int or a sequence of ints from {-ndim} to {ndim - 1}"
    value = _scalar(axes)
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        items = [value]
    elif hasattr(value, "__len__") and not isinstance(value, (str, bytes, Mapping, Set)):
        items = [_scalar(v) for v in value]
    else:
        raise TypeError(f"`axes` must be None, {accepted}; got {type(value).__name__} {value!r}")
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise TypeError(f"`axes` must be None, {accepted}; got {axes!r}")
    if not items:
        raise ValueError(f"`axes` must not be empty when given; got {axes!r} (None means every axis)")
    if any(not -ndim <= v < ndim for v in items):
        raise ValueError(f"`axes` must hold ints from {-ndim} to {ndim - 1} for arrays of ndim={ndim}; "
                         f"got {axes!r}")
    normal = [int(v) % ndim for v in items]
    if len(set(normal)) != len(normal):
        raise ValueError(f"`axes` must not repeat an axis; got {axes!r}")
    return tuple(sorted(normal))


def check_signal_shapes(shape1, shape2, axes, explicit_axes: bool, mode: str,
                        names=("in1", "in2")) -> tuple[int, ...]:
    """Check two shapes for :func:`fftconv.convolve` with scipy's rules; return the convolution axes
    that hold more than one sample in both arrays (the others are broadcasts).

    Axes not in ``axes`` must be equal or 1 in one of the arrays. For ``"valid"`` one array must
    be at least as large as the other along every axis of ``axes`` (as
    :func:`scipy.signal.convolve` checks) or, when ``axes`` is given, along the axes where neither
    has one sample (as :func:`scipy.signal.fftconvolve` checks). At most
    :data:`MAX_SIGNAL_AXES` axes may be convolution axes.

    Examples
    --------
    >>> check_signal_shapes((5, 100, 3), (5, 7, 1), (1, 2), True, "same")
    (1,)
    """
    conv = tuple(a for a in axes if shape1[a] != 1 and shape2[a] != 1)
    bad = [a for a in range(len(shape1)) if a not in axes and
           shape1[a] != shape2[a] and shape1[a] != 1 and shape2[a] != 1] if len(axes) < len(shape1) else None
    if bad:  # only axes not in `axes` can be: the others convolve, or broadcast a single sample
        raise ValueError(f"`{names[0]}` shape {tuple(shape1)} and `{names[1]}` shape {tuple(shape2)} are "
                         f"incompatible: axis {bad[0]} (not in `axes`) must have equal sizes or size 1 in "
                         f"one of them, to broadcast")
    if mode == "valid":
        checked = conv if explicit_axes else axes
        ge = all(shape1[a] >= shape2[a] for a in checked)
        le = all(shape2[a] >= shape1[a] for a in checked)
        if not (ge or le):
            raise ValueError(f"mode 'valid' needs one of `{names[0]}` (shape {tuple(shape1)}) and "
                             f"`{names[1]}` (shape {tuple(shape2)}) to be at least as large as the other "
                             f"along every convolution axis {tuple(checked)}")
    if len(conv) > MAX_SIGNAL_AXES:
        raise ValueError(f"at most {MAX_SIGNAL_AXES} axes can be convolved (conv1d, conv2d, conv3d); "
                         f"`{names[0]}` shape {tuple(shape1)} and `{names[1]}` shape {tuple(shape2)} have "
                         f"{len(conv)} axes {conv} of `axes` with more than one sample in both. Pass "
                         f"`axes`, or use scipy.signal.fftconvolve for more axes")
    return conv
