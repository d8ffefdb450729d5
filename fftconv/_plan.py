"""Plans: frozen, callable, reusable decisions about how to run one convolution."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import _checks, _guards
from ._geometry import ConvGeometry
from .backends import get_backend
from .methods import METHODS

__all__ = ["ConvPlan", "BoundPlan"]


@dataclass(frozen=True, repr=False, eq=False)
class ConvPlan:
    """How one convolution will run, decided from shapes alone.

    Make one with :func:`fftconv.plan_conv2d` (or the 1-D/3-D and depthwise
    counterparts); call it on arrays of the planned shapes.

    Attributes
    ----------
    geometry : ConvGeometry
        The normalised shapes, strides, dilations and pads.
    data_format : str
        Layout of inputs and outputs, e.g. ``"NHWC"``.
    dtype : numpy.dtype
        Precision the convolution is computed in (float32 or float64).
    method : str
        ``"direct"`` or ``"fft"``: what will run.
    requested : str
        What the caller asked for (``"auto"``, ``"direct"`` or ``"fft"``).
    estimates : dict
        Predicted seconds of each candidate method.
    settings : dict
        Per-method choices: the FFT :class:`~fftconv.methods.fft.TileLayout`
        and the direct strategy.
    workers : int
        Threads for the transforms.
    backend : str
        FFT backend name.
    peak_bytes : int
        Predicted peak of the memory the chosen method allocates.
    measured : dict or None
        Seconds measured per method when planned with ``measure=True``.
    """

    geometry: ConvGeometry
    data_format: str
    dtype: np.dtype
    method: str
    requested: str
    estimates: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    workers: int = 1
    backend: str = "scipy"
    peak_bytes: int = 0
    measured: dict | None = None

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return self.geometry.ndim

    @property
    def layout(self):
        """The FFT tile layout (also present when the direct method was chosen)."""
        return self.settings.get("fft")

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Input shape in ``data_format`` order."""
        return _to_format(self.geometry.input_shape, self.channels_first)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Output shape in ``data_format`` order."""
        return _to_format(self.geometry.output_shape, self.channels_first)

    @property
    def filters_shape(self) -> tuple[int, ...]:
        """Filter shape, ``(*kernel, C_in / groups, C_out)``."""
        return self.geometry.filters_shape

    @property
    def channels_first(self) -> bool:
        return self.data_format.startswith("NC")

    @property
    def speedup(self) -> float:
        """Predicted time of the slower candidate over the chosen one."""
        chosen = self.estimates.get(self.method, 0.0)
        return max(self.estimates.values()) / chosen if chosen else 1.0

    # -- running -------------------------------------------------------------

    def __call__(self, input, filters):
        """Convolve ``input`` with ``filters``; both must have the planned shapes.

        Returns
        -------
        ndarray
            The output, in ``data_format`` order and the promoted dtype.
        """
        x = _checks.as_array("input", input)
        w = _checks.as_array("filters", filters)
        self._check_shape("filters", w.shape, self.filters_shape)
        self._check_input(x, w.dtype)  # before the filters are transformed
        return self.bind(w)(x)

    def bind(self, filters) -> "BoundPlan":
        """Prepare ``filters`` once (for the FFT method, their spectrum) for many inputs."""
        w = _checks.as_array("filters", filters)
        self._check_shape("filters", w.shape, self.filters_shape)
        w_ready = w[(slice(None, None, -1),) * self.ndim] if self.geometry.flip else w
        w_ready = np.array(w_ready, dtype=self.dtype, order="C")  # a copy: later edits don't leak in
        prepared = None if self.geometry.is_empty else self._prepare(w_ready, self.method)
        return BoundPlan(self, w.dtype, w_ready, prepared)

    def _prepare(self, w_ready, method):
        return METHODS[method].prepare(w_ready, self.geometry, self.settings[method],
                                       get_backend(self.backend), self.workers)

    def _check_input(self, x, filters_dtype) -> np.dtype:
        """Check an input array against the plan; return the output dtype."""
        self._check_shape("input", x.shape, self.input_shape)
        compute, out_dtype = _checks.result_dtypes(x.dtype, filters_dtype)
        if compute != self.dtype:
            raise ValueError(
                f"`input` of dtype {x.dtype} with filters of dtype {filters_dtype} computes in "
                f"{compute}, but this plan computes in {self.dtype}; plan with dtype={str(compute)!r}"
            )
        return out_dtype

    def _check_shape(self, name, shape, expected):
        if tuple(shape) != tuple(expected):
            raise ValueError(
                f"`{name}` has shape {tuple(shape)} but this plan was made for {tuple(expected)}; "
                f"make a new plan for other shapes"
            )

    # -- reporting -------------------------------------------------------------

    def __repr__(self) -> str:
        g = self.geometry
        est = "   ".join(f"{k} {_fmt_seconds(v)}" for k, v in self.estimates.items())
        lines = [
            f"ConvPlan: conv{g.ndim}d {self.data_format} {self.dtype}, method={self.method!r}"
            f" (asked {self.requested!r})",
            f"  input {self.input_shape}  filters {self.filters_shape}  ->  output {self.output_shape}",
            f"  strides {g.strides}  dilations {g.dilations}  pads {g.pads}  groups {g.groups}"
            f"{'  flip' if g.flip else ''}",
        ]
        if self.estimates:
            lines.append(f"  predicted  {est}   ({self.method} {self.speedup:.1f}x faster than the other)")
        if self.measured:
            times = "   ".join(f"{k} {_fmt_seconds(v)}" for k, v in self.measured.items())
            lines.append(f"  measured   {times}   (measure=True: the faster one runs)")
        if self.layout is not None:
            lay = self.layout
            lines.append(f"  fft tiles  {lay.tile} outputs per tile, fft shape {lay.fft_shape}, "
                         f"{lay.n_tiles} tile(s) per image, {lay.phases} phase(s)")
        if "direct" in self.settings:
            lines.append(f"  direct     strategy {self.settings['direct']!r}")
        lines.append(f"  memory     peak ~{self.peak_bytes / 2**20:.1f} MiB   workers {self.workers}"
                     f"   backend {self.backend}")
        return "\n".join(lines)


@dataclass(frozen=True, repr=False, eq=False)
class BoundPlan:
    """A plan with its filters prepared: call it on a stream of inputs.

    Made by :meth:`ConvPlan.bind`; for the FFT method the filters' spectrum is
    computed once, at binding, and reused by every call.
    """

    plan: ConvPlan
    filters_dtype: np.dtype
    filters: np.ndarray  # flipped if asked, in the compute dtype
    prepared: object

    def __call__(self, input):
        """Convolve ``input`` (of the planned shape) with the bound filters."""
        plan = self.plan
        x = _checks.as_array("input", input)
        out_dtype = plan._check_input(x, self.filters_dtype)
        if plan.geometry.is_empty:
            return np.zeros(plan.output_shape, dtype=out_dtype)
        if plan.channels_first:
            x = np.moveaxis(x, 1, -1)
        y = self._run(x) if plan.method == "direct" else self._run_fft(x)
        if plan.channels_first:
            y = np.moveaxis(y, -1, 1)
        return np.ascontiguousarray(y, dtype=out_dtype)

    def _run(self, x, method=None):
        plan = self.plan
        method = method or plan.method
        prepared = self.prepared if method == plan.method else plan._prepare(self.filters, method)
        return METHODS[method].execute(x, prepared, plan.geometry, plan.settings[method],
                                       get_backend(plan.backend), plan.workers, plan.dtype)

    def _run_fft(self, x):
        """The FFT method under the guards of :mod:`fftconv._guards`."""
        plan = self.plan
        if _guards.is_integer(x.dtype) and _guards.is_integer(self.filters_dtype):
            if _guards.integer_fft_is_exact(x, self.filters, plan.geometry, plan.layout):
                return np.rint(self._run(x))
            if plan.requested == "auto":
                return self._run(x, "direct")
            return self._run(x)
        mask = _guards.nonfinite_mask(x)
        if mask is None:
            return self._run(x)
        y = self._run(np.where(mask, 0, x))
        y[_guards.affected_outputs(mask, plan.geometry)] = np.nan
        return y

    def __repr__(self) -> str:
        return f"BoundPlan(filters bound, dtype {self.filters_dtype})\n{self.plan!r}"


def _to_format(shape, channels_first):
    return (shape[0], shape[-1], *shape[1:-1]) if channels_first else tuple(shape)


def _fmt_seconds(t: float) -> str:
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} us"


def predicted_peak_bytes(geom: ConvGeometry, method: str, layout, itemsize: int) -> int:
    """A rough peak of what ``method`` allocates: output, padded input or chunk buffers."""
    out = math.prod(geom.output_shape) * itemsize
    if geom.is_empty:
        return out
    if method == "direct":
        padded = geom.batch * math.prod(geom.used_extent) * geom.in_channels * itemsize
        from .methods.direct import CHUNK_BYTES
        return out + padded + CHUNK_BYTES
    from .methods.fft import CHUNK_BYTES
    freqs = math.prod(layout.fft_shape[:-1]) * (layout.fft_shape[-1] // 2 + 1)
    spectrum = freqs * layout.phases * geom.group_in * geom.out_channels * 2 * itemsize
    return out + spectrum + CHUNK_BYTES
