"""Plans: frozen, callable, reusable decisions about how to run one convolution."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field

import numpy as np

from fftconv import _checks
from fftconv._engine import cells as _cells
from fftconv._engine import complex as _complex
from fftconv._engine import coverage as _coverage
from fftconv._engine import constants as _constants
from fftconv._engine import guards as _guards
from fftconv._engine import spectra as _spectra
from fftconv._runtime.arrays import owned
from fftconv._runtime.scratch import trim as trim_scratch
from fftconv._shapes.geometry import ConvGeometry
from fftconv._shapes.padding import read_padded
from fftconv.backends import get_backend
from fftconv.methods import METHODS, REFERENCE

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
        Precision the convolution is computed in: float32 or float64, or
        complex64 or complex128 for complex convolutions (which run as real
        ones in float32 or float64, see ``embedding``; the FFT method runs
        complex inputs with complex filters as complex transforms, see
        :attr:`fftconv.methods.fft.TileLayout.complex_pairs`).
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
    calibration : str
        Which cost-model constants made the decision (the shipped defaults,
        or the calibration file in force; see :mod:`fftconv._engine.constants`).
    embedding : str or None
        For complex convolutions, what is complex (``"input"``, ``"filters"``
        or ``"both"``) and so which exact real convolution runs
        (:mod:`fftconv._engine.complex`); the method, its settings, the estimates and
        ``peak_bytes`` are those of that real convolution,
        :attr:`run_geometry`. None for real ones.
    depthwise_shape : tuple of int or None
        For plans of :func:`fftconv.plan_depthwise_conv2d`, TensorFlow's depthwise filter
        shape ``(kh, kw, C, M)``: filters of that shape are accepted as well as of
        ``filters_shape``, ``(kh, kw, 1, C * M)`` (the same array, reshaped). None otherwise.
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
    calibration: str = ""
    embedding: str | None = None
    depthwise_shape: tuple | None = None

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return self.geometry.ndim

    @functools.cached_property
    def run_geometry(self) -> ConvGeometry:
        """The real convolution the method runs: :attr:`geometry` itself unless complex."""
        return _complex.embedded_geometry(self.geometry, self.embedding)

    @functools.cached_property
    def real_dtype(self) -> np.dtype:
        """The real precision the method computes in (float32 for complex64)."""
        return _complex.real_dtype(self.dtype)

    @property
    def padding_mode(self) -> str:
        """How the pads are filled (numpy.pad's name; ``"constant"`` when nothing is padded)."""
        return self.geometry.padding_mode

    @property
    def layout(self):
        """The tile layout of the method that runs FFT backends (also present when another
        method was chosen); None if no such method is registered."""
        return next((s for name, s in self.settings.items() if METHODS[name].uses_backend), None)

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
        finite = [t for t in self.estimates.values() if math.isfinite(t)]
        return max(finite) / chosen if chosen and finite else 1.0

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
        return self._run_checked(x, w)

    def _filters_of(self, w, name="filters"):
        """``w`` checked against the planned filter shape (a depthwise plan's ``(kh, kw, C, M)``
        filters reshaped to ``(kh, kw, 1, C * M)``)."""
        if self.depthwise_shape is not None and tuple(w.shape) == tuple(self.depthwise_shape):
            return w.reshape(self.filters_shape)
        _checks.check_plan_shape(name, w.shape, self.filters_shape, also=self.depthwise_shape)
        return w

    def _run_checked(self, x, w, names=("input", "filters")):
        """Check both arrays against the plan (before the filters are transformed), then run."""
        w = self._filters_of(w, names[1])
        out_dtype = self._check_input(x, w.dtype, names)
        self._check_complex(names[1], w.dtype, ("filters", "both"))
        _checks.check_memory(self.peak_bytes, self.output_shape)
        return self._bind(w)._execute(x, out_dtype)  # what bind(w)(x) would check again, checked

    def _run_trusted(self, x, w, out_dtype):
        """:meth:`_run_checked` for arrays whose shapes and dtypes an identical earlier call
        checked (see ``fftconv._ops.forward._convolve``): no check is repeated, and filters that the
        method reads as they are are not copied (they are not kept beyond this call)."""
        return self._bind(w, one_shot=True)._execute(x, out_dtype)

    def bind(self, filters) -> "BoundPlan":
        """Prepare ``filters`` once (for the FFT method, their spectrum) for many inputs."""
        w = self._filters_of(_checks.as_array("filters", filters))
        self._check_complex("filters", w.dtype, ("filters", "both"))
        return self._bind(w)

    def _bind(self, w, one_shot=False) -> "BoundPlan":
        w_ready = w[(slice(None, None, -1),) * self.ndim] if self.geometry.flip else w
        plan = self._refined(w_ready)
        cheap = one_shot and not METHODS[plan.method].costly_prepare
        if cheap and plan.embedding is None:
            # read during this call only: the filters themselves where they have the compute dtype
            w_ready = np.ascontiguousarray(w_ready, dtype=plan.real_dtype)
        else:  # a copy (later edits don't leak in), as the real filters of a complex convolution
            w_ready = _complex.embed_filters(w_ready, plan.embedding, plan.geometry.groups, plan.real_dtype)
        bound = BoundPlan(plan, w.dtype, w_ready)
        if not plan.geometry.is_empty and not cheap:  # prepared now, not at the first input
            bound.prepared(plan.method, plan.real_dtype)
        return bound

    # -- methods that need the filters' values ---------------------------------------------------

    def _refined(self, w) -> "ConvPlan":
        """This plan, or with the filters ``w`` (flipped) known, the plan of a method that needs
        their values (:attr:`fftconv.methods.base.Method.needs_filters`, the low-rank method) where
        that is predicted faster, or asked for by name; the refinement is kept with the plan
        (what shapes decide) and with the filters' content (:mod:`fftconv._engine.spectra`)."""
        if self.geometry.is_empty:
            return self
        names = [n for n, m in METHODS.items() if m.needs_filters and (n == self.requested or self.requested == "auto")]
        names = [n for n in names if n == self.requested or self._screen(n) is None]
        if not names:
            return self
        real = _complex.embed_filters(w, self.embedding, self.geometry.groups, self.real_dtype) \
            if self.embedding is not None else np.ascontiguousarray(w, dtype=self.real_dtype)
        derived = _spectra.shared(("refined", self, tuple(names)), real)
        plan = derived.get("plan")
        if plan is None:
            plan = derived["plan"] = self._refine(names, real)
        return plan

    def _screen(self, name):
        """The method's answer from shapes alone (None: test the filters), kept with the plan."""
        screens = self.__dict__.setdefault("_screens", {})
        if name not in screens:
            screens[name] = METHODS[name].screen(
                self.run_geometry, self.settings[name], self.real_dtype.itemsize, _constants.load_constants(),
                budget=self.estimates[self.method], workers=self.workers, backend=self.backend)
        return screens[name]

    def _refine(self, names, w) -> "ConvPlan":
        estimates, settings, method = dict(self.estimates), dict(self.settings), self.method
        for name in names:
            forced = name == self.requested
            seconds, settings[name] = METHODS[name].refine(
                self.run_geometry, w, self.settings[name], self.real_dtype.itemsize, _constants.load_constants(),
                budget=math.inf if forced else self.estimates[self.method], workers=self.workers,
                backend=self.backend)
            estimates[name] = seconds
            if forced or seconds < estimates[method]:
                method = name
        peak = self.peak_bytes
        if method != self.method or self.requested == method:
            peak = predicted_peak_bytes(self.geometry, method, settings[method], self.real_dtype.itemsize,
                                        backend=get_backend(self.backend), copy_out=self.channels_first,
                                        embedding=self.embedding, workers=self.workers)
        return dataclasses.replace(self, method=method, estimates=estimates, settings=settings, peak_bytes=peak)

    def _check_input(self, x, filters_dtype, names=("input", "filters")) -> np.dtype:
        """Check an input array against the plan; return the output dtype."""
        _checks.check_plan_shape(names[0], x.shape, self.input_shape)
        compute, out_dtype = _checks.result_dtypes(x.dtype, filters_dtype, names)
        if compute != self.dtype:
            raise ValueError(
                f"`input` of dtype {x.dtype} with filters of dtype {filters_dtype} computes in "
                f"{compute}, but this plan computes in {self.dtype}; plan with dtype={str(compute)!r}"
            )
        self._check_complex(names[0], x.dtype, ("input", "both"))
        return out_dtype

    def _check_complex(self, name, dtype, embeddings):
        """A complex array runs only through the ``embeddings`` that take it complex."""
        if dtype.kind != "c" or self.embedding in embeddings:
            return
        made_for = {None: f"real arrays (it computes in {self.dtype})",
                    "input": "complex inputs with real filters",
                    "filters": "real inputs with complex filters"}[self.embedding]
        wanted = np.result_type(self.dtype, dtype)
        raise ValueError(f"`{name}` has dtype {dtype}, but this plan was made for {made_for}; plan with "
                         f"dtype={str(wanted)!r} for complex inputs and filters")

    # -- reporting -------------------------------------------------------------

    def __repr__(self) -> str:
        return self._report(bound=False)

    def _report(self, bound: bool) -> str:
        """The plan's report; ``bound``: as a bound plan's, with what binding found for the methods
        that need the filters' values (a plan alone names them only when asked for by name)."""
        g = self.geometry
        est = "   ".join(f"{k} {_fmt_seconds(v)}" for k, v in self.estimates.items() if math.isfinite(v))
        unpriced = [k for k, v in self.estimates.items() if not math.isfinite(v)]
        mode = f" {g.padding_mode}" if g.padding_mode != "constant" else ""
        lines = [
            f"ConvPlan: conv{g.ndim}d {self.data_format} {self.dtype}, method={self.method!r}"
            f" (asked {self.requested!r})",
            f"  input {self.input_shape}  filters {self.filters_shape}  ->  output {self.output_shape}",
            f"  strides {g.strides}  dilations {g.dilations}  pads {g.pads}{mode}  groups {g.groups}"
            f"{'  flip' if g.flip else ''}",
        ]
        if self.embedding:
            run = self.run_geometry
            what = {"input": "complex input, real filters: the parts as 2x the batch",
                    "filters": "real input, complex filters: the parts as 2x the output channels",
                    "both": "complex input and filters: the parts as 2x the input and output channels"}
            if getattr(self.settings.get(self.method), "complex_pairs", False):
                what["both"] = "complex input and filters: complex transforms, channels mixed as complex"
            lines.append(f"  complex    {what[self.embedding]}; runs in {self.real_dtype}, input "
                         f"{run.input_shape} filters {run.filters_shape}")
        if self.estimates:
            priced = len(self.estimates) - len(unpriced)
            others = "the other" if priced == 2 else "the slowest"
            lines.append(f"  predicted  {est}   ({self.method} {self.speedup:.1f}x faster than {others})")
        if self.measured:
            times = "   ".join(f"{k} {_fmt_seconds(v)}" for k, v in self.measured.items())
            lines.append(f"  measured   {times}   (measure=True: the faster one runs)")
        # the settings of the method that runs first, then the other candidates'; for a method that
        # needs the filters' values, what binding found from shapes alone where it did not test them
        screens = self.__dict__.get("_screens", {}) if bound else {}
        for name in sorted(self.settings, key=lambda name: name != self.method):
            if METHODS[name].needs_filters and not bound and name != self.method:
                continue
            if screens.get(name) is not None:
                lines.append(f"  {name:<10} not tested when bound: {screens[name]}")
            elif self.settings[name] is not None:
                lines.append(f"  {METHODS[name].describe(self.settings[name])}")
        lines.append(f"  memory     peak ~{self.peak_bytes / 2**20:.1f} MiB   workers {self.workers}"
                     f"   backend {self.backend}")
        if self.calibration:
            lines.append(f"  constants  {self.calibration}")
        return "\n".join(lines)


@dataclass(frozen=True, repr=False, eq=False)
class BoundPlan:
    """A plan with its filters prepared: call it on a stream of inputs.

    Made by :meth:`ConvPlan.bind`; for the FFT method the filters' spectrum is
    computed once, at binding, and reused by every call.  Every call runs
    under the guards of :mod:`fftconv._engine.guards`, and every array it returns
    is new: it owns its memory and shares none with scratch space or with
    any earlier result.
    """

    plan: ConvPlan
    filters_dtype: np.dtype
    filters: np.ndarray  # flipped if asked, real (a complex convolution's embedding), in the real compute dtype
    _prepared: dict = field(default_factory=dict)
    _state: dict = field(default_factory=dict)  # this bound plan's own: what its last call ran

    def __post_init__(self):
        plan = self.plan
        # what is derived from the filters at a cost, kept across calls
        if not plan.geometry.is_empty and METHODS[plan.method].costly_prepare:
            key = (plan.run_geometry, plan.settings.get(plan.method), plan.backend, plan.method)
            object.__setattr__(self, "_prepared", _spectra.shared(key, self.filters))

    def __call__(self, input):
        """Convolve ``input`` (of the planned shape) with the bound filters."""
        plan = self.plan
        x = _checks.as_array("input", input)
        out_dtype = plan._check_input(x, self.filters_dtype)
        _checks.check_memory(plan.peak_bytes, plan.output_shape)
        return self._execute(x, out_dtype)

    def _execute(self, x, out_dtype):
        """Convolve a checked input; the one place where results leave the engine."""
        plan = self.plan
        if plan.geometry.is_empty:
            return np.zeros(plan.output_shape, dtype=out_dtype)
        if plan.channels_first:
            x = np.moveaxis(x, 1, -1)
        embedding = plan.embedding
        y = _complex.combine(self._guarded(_complex.embed_input(x, embedding)), embedding, out_dtype)
        if plan.channels_first:
            y = np.moveaxis(y, -1, 1)
        y = owned(y, out_dtype)  # the one place results leave the engine
        trim_scratch()
        return y

    def _inner(self, x):
        """Convolve a channels-last input in the compute dtype as a pass of another method (no
        layout change, no copy): a local method as it is (the caller's guards see its result),
        any other under the guards."""
        method = self.plan.method
        if METHODS[method].local:
            return self._run(x, method, self.plan.real_dtype)
        return self._guarded(x)

    def prepared(self, method: str, dtype) -> object:
        """The filters prepared for ``method`` in ``dtype`` (for the FFT method, their spectrum), kept.

        Where the plan's method prepares at a cost, what a bound plan derives from
        its filters is shared through :mod:`fftconv._engine.spectra`, keyed on their
        content: a loop of one-shot calls with the same filters transforms them once.
        """
        key = (method, np.dtype(dtype))
        ready = self._prepared.get(key)
        if ready is None:
            plan = self.plan
            ready = METHODS[method].prepare(self.filters.astype(dtype, copy=False), plan.run_geometry,
                                            plan.settings[method], get_backend(plan.backend),
                                            plan.workers)
            if isinstance(ready, np.ndarray) and ready.base is not self.filters and ready is not self.filters:
                ready.flags.writeable = False  # may be shared by every call with these filters
            self._prepared[key] = ready
            if METHODS[plan.method].costly_prepare:
                _spectra.trim()
        return ready

    def _run(self, x, method, dtype=None, checked=False):
        """``method`` on a channels-last input, computed in ``dtype``; by default as the
        dynamic-range guard says for the whole call (:meth:`_whole_call`). ``checked``: return
        the output and the outputs' sum (:meth:`fftconv.methods.base.Method.execute_checked`)."""
        plan = self.plan
        if dtype is None:
            method, dtype = self._whole_call(x, method)
        self._record(method, dtype)
        run = METHODS[method].execute_checked if checked else METHODS[method].execute
        return run(x, self.prepared(method, dtype), plan.run_geometry, plan.settings[method],
                   get_backend(plan.backend), plan.workers, np.dtype(dtype))

    def _whole_call(self, x, method) -> tuple:
        """``(method, dtype)`` for a whole input under the dynamic-range guard (where it applies):
        ``method`` in the call's precision where every tile allows it, in float64 where
        float64 transforms suffice, else the reference method.  Used where the guard cannot
        work tile by tile (an input whose non-finite or huge values were set aside)."""
        plan = self.plan
        guard = self._range_guard(method)
        if guard is None:
            return method, plan.real_dtype
        stats = _cells.cell_stats(x, self._cells_geometry, plan.workers)
        if not _finite_stats(stats):
            return method, plan.real_dtype
        levels = guard.assess(guard.tile_stats(stats), plan.real_dtype).levels
        if (levels == 0).all():
            return method, plan.real_dtype
        if (levels <= 1).all():
            self._note("dynamic-range guard: float64 transforms")
            return method, np.dtype(np.float64)
        self._note(f"dynamic-range guard: {REFERENCE} (too wide a range for transforms)")
        return REFERENCE, plan.real_dtype

    def _note(self, why: str) -> None:
        """A guard's reason for the run that follows; that run is then recorded as the call's."""
        self._state["why"] = why
        self._state.pop("recorded", None)

    def _record(self, method, dtype) -> None:
        """Record the call's run (once per call: later runs redo parts of it)."""
        state = self._state
        if state.get("recorded"):
            return
        state["recorded"] = True
        details = {k: v for k, v in state.get("last_run", {}).items() if k not in ("method", "dtype", "why")}
        state["last_run"] = {"method": method, "dtype": np.dtype(dtype), "why": state.pop("why", "as planned"),
                             **details}

    def _detail(self, **details) -> None:
        """Add to the record of this call: what the guards did, tile by tile."""
        run = self._state.setdefault("last_run", {"method": self.plan.method, "dtype": self.plan.real_dtype,
                                                   "why": "as planned"})
        run.update(details)

    @property
    def last_run(self) -> dict | None:
        """What the last call ran, or None before the first call.

        A dict with ``"method"`` and ``"dtype"`` (what ran for the call, or for most of it),
        ``"why"`` (``"as planned"``, or the guard that chose otherwise and its reason: the
        dynamic-range guard, integer exactness, non-finite or huge values), and, where the
        dynamic-range guard looked at the input, ``"tiles"`` (tiles times images times
        channel groups), ``"worst ratio"`` (its predicted worst ratio of an output's error to
        the direct method's, :class:`~fftconv._engine.guards.Verdict`), ``"float64 tiles"``
        and ``"reference outputs"`` (what ran in float64 transforms, and the outputs the
        reference method recomputed); ``"zero outputs"`` counts the outputs set to exactly 0
        because their window holds only zeros.
        """
        run = self._state.get("last_run")
        return None if run is None else dict(run)

    @property
    def _cells_geometry(self) -> ConvGeometry:
        """The run geometry with the filters' reach (:func:`fftconv._engine.cells.reach`): the
        guards' cells are sized from the taps that carry the filters' weight (kept)."""
        geom = self._prepared.get("cells geometry")
        if geom is None:
            run = self.plan.run_geometry
            geom = self._prepared["cells geometry"] = dataclasses.replace(run, reach=_cells.reach(self.filters, run.ndim))
        return geom

    def _range_guard(self, method):
        """The plan's :class:`~fftconv._engine.guards.RangeGuard` where it applies: ``method="auto"``
        running a method that is not local (transforms)."""
        plan = self.plan
        if METHODS[method].local or plan.requested != "auto":
            return None
        guard = self._prepared.get(("range_guard", method))
        if guard is None:
            rounding = METHODS[method].rounding(plan.run_geometry, plan.settings[method], self.filters,
                                                self.prepared(method, plan.real_dtype))
            guard = self._prepared[("range_guard", method)] = _guards.RangeGuard(
                self._cells_geometry, rounding, self.filters)
        return guard

    @property
    def _abs_sum(self) -> float:
        """``max_o sum|w_o|``: the filters' gain, for the overflow limit."""
        value = self._prepared.get("abs_sum")
        if value is None:
            w = self.filters
            sums = np.abs(w.reshape(-1, w.shape[-1]), dtype=np.float64).sum(axis=0)
            value = self._prepared["abs_sum"] = float(sums.max(initial=0.0))
        return value

    def _guarded(self, x):
        """The plan's method under the guards: integers exact, non-finite and huge values local,
        exact zeros exact, and, for ``auto``, every output within the accuracy contract."""
        plan = self.plan
        self._state.clear()  # this call's record starts afresh
        method, geom, settings = plan.method, plan.run_geometry, plan.settings[plan.method]
        if _guards.is_integer(x.dtype) and _guards.is_integer(self.filters_dtype):
            chosen = METHODS[method]
            if not chosen.integer_exact and not chosen.integer_result_exact(x, self.filters, geom, settings):
                # exact float64 sums where the method's rounding could not be undone
                self._note(f"integer guard: {method}'s rounding could not be undone")
                method = REFERENCE
            y = self._run(x, method, plan.real_dtype)
            return y if METHODS[method].integer_exact else np.rint(y, out=y)
        if not math.isfinite(self._abs_sum):
            return self._nonfinite_filters(x, method)
        limit = _guards.overflow_limit(METHODS[method].gain(geom, settings), plan.real_dtype, self._abs_sum)
        if METHODS[method].local:  # IEEE arithmetic keeps NaN, Inf and zeros local: only an overflow needs more
            # an overflow here is found by the sum and redone under the guards; Inf - Inf is NaN: no warning
            with np.errstate(over="ignore", invalid="ignore"):
                y, total = self._run(x, method, plan.real_dtype, checked=True)
            if math.isfinite(total):  # a finite sum: every output finite, none overflowed
                return y
            self._note("non-finite or huge-value guard: such samples set aside, the outputs they reach "
                       "recomputed")
            return _guards.run_guarded(lambda a, dtype=None: self._run(a, method, dtype), x,
                                       geom, limit, plan.real_dtype, local=True, result=y)
        # one pass of cell statistics serves the non-finite, huge-value, zero and dynamic-range checks
        geom = self._cells_geometry  # (the cells sized from the filters' reach)
        stats = _cells.cell_stats(x, geom, plan.workers)
        peak = float(stats[0].max(initial=0.0))
        if not (_finite_stats(stats) and peak <= limit):
            self._note("non-finite or huge-value guard: such samples set aside, the outputs they reach "
                       "recomputed")
            y = _guards.run_guarded(lambda a, dtype=None: self._run(a, method, dtype), x,
                                    geom, limit, plan.real_dtype)
            return self._exact_zeros(y, x, stats)
        if peak == 0:  # every sample an output reads is zero
            self._note("zero guard: every sample the outputs read is zero; nothing ran")
            self._record(method, plan.real_dtype)
            self._detail(**{"zero outputs": math.prod(geom.output_shape)})
            return np.zeros(geom.output_shape, plan.real_dtype)
        guard = self._range_guard(method)
        if guard is None:  # method="fft" as asked: its own precision, exact zeros only
            y = self._run(x, method, plan.real_dtype)
            self._exact_zeros(y, x, stats)
            return y
        y, tiles, run_dtype, suspects = self._auto(x, method, stats, guard)
        far = self._unfollowed_suspects(y, tiles, run_dtype, guard)
        if far is not None:
            suspects = far if suspects is None else suspects | far
        zero = self._zero_mask(x, stats)
        if suspects is not None:
            if zero is not None:
                suspects = suspects & ~zero
            y = self._settle(y, x, stats, suspects, tiles, guard, run_dtype)
        self._set_zeros(y, zero)
        self._support_zeros(y, x, stats, tiles, guard, run_dtype, zero)
        return y

    def _nonfinite_filters(self, x, method):
        """A call with filters that hold NaN or Inf: every output such a filter reaches is not
        finite, whatever runs (:doc:`numerics`), so the output channels of those filters come
        from a run without guards; every other channel keeps every guard (NaN local, exact
        zeros, the accuracy contract): it comes from a run under the guards with those filters
        set to zero (:meth:`_finite_twin`).  A local method's run needs no twin."""
        plan = self.plan
        with np.errstate(over="ignore", invalid="ignore"):
            y = self._run(x, method, plan.real_dtype)
        twin, bad = self._finite_twin()
        if twin is None or METHODS[method].local:  # (IEEE arithmetic keeps a local method's NaN local)
            self._note("non-finite filters: the outputs of their channels are not finite")
            self._record(method, plan.real_dtype)
            return y
        guarded = twin._guarded(x)
        guarded[..., bad] = y[..., bad]
        run = twin.last_run or {}
        self._state["last_run"] = {**run, "why": f"non-finite filters in {int(bad.sum())} of {bad.size} output "
                                   f"channels (theirs not finite, run without guards); the others: "
                                   f"{run.get('why', 'as planned')}"}
        self._state["recorded"] = True
        return guarded

    def _finite_twin(self):
        """``(twin, bad)``: ``bad`` ``(C_out,)`` marks the output channels whose filters hold NaN
        or Inf, and ``twin`` is a bound plan of the same plan whose filters are these with
        those channels' set to zero (kept), or None where every channel's holds one."""
        kept = self._prepared.get("finite twin")
        if kept is None:
            w = self.filters
            bad = ~np.isfinite(w).reshape(-1, w.shape[-1]).all(axis=0)
            twin = None
            if not bad.all():
                clean = w.copy()
                clean[..., bad] = 0
                twin = BoundPlan(self.plan, self.filters_dtype, clean)
            kept = self._prepared["finite twin"] = (twin, bad)
        return kept

    def _support_zeros(self, y, x, stats, tiles, guard, run_dtype, zero):
        """Set to exactly 0 the outputs whose filter has zero taps under every non-zero sample
        of the window (a Laplacian's corners, a disc's): exact zeros by the definition, which
        the zero windows (of the kernel's bounding box) do not find.  Only outputs whose
        magnitude is within the transforms' error bound can be such, and only where the
        filters have zero taps inside their bounding box."""
        geom = self._cells_geometry
        lists = self._prepared.get("tap lists")
        if lists is None:
            lists = self._prepared["tap lists"] = _cells.tap_lists(self.filters, geom)
        taps = self._prepared["support"]
        if lists[0][-1] == math.prod(hi - lo for lo, hi in taps) * geom.group_in * geom.out_channels:
            return  # every filter's weights fill the bounding box: the zero windows found them all
        small = np.abs(y) <= guard.error_bound(tiles, run_dtype)
        if zero is not None:
            small &= ~np.repeat(zero, geom.group_out, axis=-1)
        found = _cells.support_zeros(x, geom, lists, small, stats)
        if found.any():
            y[found] = 0
            self._detail(**{"zero outputs": self._state["last_run"].get("zero outputs", 0) + int(found.sum())})

    def _auto(self, x, method, stats, guard):
        """``auto``'s run of a method that is not local: per tile, in the call's precision
        where the dynamic-range guard allows it, else with float64 transforms (see
        :class:`~fftconv._engine.guards.RangeGuard` and :doc:`numerics`).

        Returns ``(y, tiles, run_dtype, suspects)``: the result, the tiles' statistics, the
        precision whose error bound holds for every tile (float64 only where every tile ran
        float64 transforms), and the outputs ``(N, *out, G)`` (None
        for none) that even those transforms may not keep within the contract, for
        :meth:`_settle`."""
        plan = self.plan
        dtype, wide = plan.real_dtype, np.dtype(np.float64)
        tiles = guard.tile_stats(stats)
        verdict = guard.assess(tiles, dtype)
        self._detail(tiles=int(verdict.ratio.size), **{"worst ratio": float(f"{verdict.worst:.4g}")})
        if verdict.worst <= verdict.limit:  # every tile fine in the call's precision
            y = self._run(x, method, dtype)
            return y, tiles, dtype, self._window_suspects(x, y, method, stats, tiles, dtype, guard, verdict)
        levels = verdict.levels
        tiles_wide = (levels >= 1).any(axis=(0, -1))  # per tile position: any image or group
        run_dtype = dtype if dtype == wide or not (levels == 1).any() else wide
        if run_dtype != dtype and float(tiles_wide.mean()) > BOX_FRACTION:
            self._note(f"dynamic-range guard: float64 transforms (worst ratio {verdict.worst:.3g} "
                       f"beyond {verdict.limit:.3g} in {dtype})")
            y = self._run(x, method, wide)
            self._detail(**{"float64 tiles": int((levels >= 1).sum())})
        else:
            y = self._run(x, method, dtype)
            if run_dtype != dtype:  # the few tiles that need it, again in float64
                boxes = _guards.boxes_of(_guards.expand(levels >= 1, [t[2:] for t in guard.tiles],
                                                        plan.run_geometry.out_spatial), guard.tiles,
                                         3 - plan.run_geometry.ndim)
                self._note(f"dynamic-range guard: float64 transforms for {len(boxes)} tile(s) "
                           f"(worst ratio {verdict.worst:.3g} beyond {verdict.limit:.3g} in {dtype})")
                self._record(method, dtype)
                for lo, hi in boxes:
                    self._run_box(y, x, method, wide, lo, hi)
                self._detail(**{"float64 tiles": len(boxes)})
                run_dtype = dtype  # the other tiles' error bound still holds for the call
        suspects = None
        if (levels == 2).any():
            blocks, fine = guard.refine(stats, tiles, dtype, levels == 2)
            limit = fine.limit if run_dtype == dtype else fine.wide_limit
            bad = fine.ratio > limit  # (N, *blocks, G)
            if bad.any():
                suspects = _guards.expand(bad, blocks, plan.run_geometry.out_spatial)
        rim = self._window_suspects(x, y, method, stats, tiles, run_dtype, guard, verdict)
        if rim is not None:
            suspects = rim if suspects is None else suspects | rim
        return y, tiles, run_dtype, suspects

    def _unfollowed_suspects(self, y, tiles, run_dtype, guard):
        """Where the cells cannot follow the filters' reach (:func:`~fftconv._engine.cells.follows_reach`:
        a thin footprint, such as a line or a comb's single taps, over a large input), so that
        a faint region as narrow as the footprint may hide inside cells that look bright: the
        outputs ``(N, *out, G)`` (None for none) whose ``|y|`` does not show that the
        transforms' error bound is within the contract (:meth:`_shown`, with nothing known of
        the filters' weight on non-zero samples: ``|y| >= bound * (1 + 1 / room)``), for
        :meth:`_settle` to sum directly.  Over every output: a few passes over the output,
        no pass over the input."""
        geom = self._cells_geometry
        if geom.reach is None or _cells.follows_reach(geom):
            return None
        bound = guard.tile_bound(tiles, run_dtype)  # (N, *tiles, C_out): tile by tile, not expanded
        y3 = y.reshape(y.shape[0], *([1] * (3 - geom.ndim)), *y.shape[1:])
        far = np.zeros((*y3.shape[:-1], geom.groups), bool)
        spans = [t[2:] for t in guard.tiles]  # per axis, the tiles' output ranges
        for tile in np.ndindex(*bound.shape[1:4]):
            box = (slice(None), *(slice(int(lo[i]), int(hi[i])) for (lo, hi), i in zip(spans, tile)))
            shown = self._shown(y3[box], bound[(slice(None), *tile)][:, None, None, None, :], 1, run_dtype, guard)
            far[box] = ~shown.reshape(*shown.shape[:-1], geom.groups, geom.group_out).all(axis=-1)
        if not far.any():
            return None
        self._detail(**{"unfollowed outputs": int(np.count_nonzero(far)) * geom.group_out})
        return far.reshape(y.shape[0], *geom.out_spatial, geom.groups)

    def _window_suspects(self, x, y, method, stats, tiles, run_dtype, guard, verdict):
        """The outputs ``(N, *out, G)`` (None for none) whose windows the cell statistics cannot
        vouch for (:mod:`~fftconv._engine.coverage`) and whose ``|y|`` does not show the
        accuracy: the rim bands (:meth:`_rim_suspects`), then the windows that hold no
        non-zero cell whole and those whose filter weighs input samples too little
        (:meth:`_coverage_suspects`)."""
        rim = self._rim_suspects(x, y, method, tiles, run_dtype, guard)
        more = self._coverage_suspects(x, y, stats, tiles, run_dtype, guard, verdict)
        if more is None:
            return rim
        self._detail(**{"coverage outputs": int(np.count_nonzero(more)) * self.plan.run_geometry.group_out})
        return more if rim is None else rim | more

    def _coverage_suspects(self, x, y, stats, tiles, run_dtype, guard, verdict):
        """Of the outputs whose window holds no non-zero cell whole beside cells of zeros
        (:func:`~fftconv._engine.coverage.thin_windows`) and whose cells' faintest non-zero
        sample does not vouch for them (:meth:`~fftconv._engine.guards.RangeGuard.floor_ratio`),
        or whose filter puts less of its weight on input samples than the tiles' worst ratio
        leaves room for, beyond the concentration the error model already allows for, and on
        fewer than ``FULL_TAPS`` taps' worth (:func:`~fftconv._engine.coverage.tap_fractions`:
        ``share * FULL_TAPS < worst / limit`` and ``taps < FULL_TAPS``; weight spread over more
        taps reads as many samples as the windows the cells judge), those ``(N, *out, G)``
        (None for none) whose ``|y|`` does not show the accuracy.  The rim bands are left to
        :meth:`_rim_suspects`."""
        geom = self._cells_geometry
        looks = []
        limit = verdict.limit if run_dtype == self.plan.real_dtype else verdict.wide_limit
        thin = _coverage.thin_windows(stats, geom, self._gaps)
        if thin is not None and thin.any():
            floor = _cells.nonzero_floor(x, geom, self.plan.workers)
            if floor is not None:  # vouched for where even their faintest non-zero sample suffices
                thin &= guard.floor_ratio(tiles, _coverage.thin_floor(floor, geom)) > limit
            if thin.any():
                looks.append((tuple(c for c, _ in _coverage.window_classes(geom)), thin.any(axis=(0, -1)), True))
        fractions = self._tap_fractions()
        if fractions is not None:
            low = (fractions[1] * _guards.FULL_TAPS < (verdict.worst / limit if limit > 0 else 1.0)) & \
                (fractions[2] < _guards.FULL_TAPS)
            if low.any():
                looks.append((fractions[0], low, False))
        if not looks:
            return None
        lead = 3 - geom.ndim
        partial = _coverage.partial_windows(geom)
        found = None
        for classes, chosen, thin_look in looks:
            points = _coverage.class_points(chosen, classes)
            fresh = ~(partial[0][points[0]] | partial[1][points[1]] | partial[2][points[2]])
            points = tuple(p[fresh] for p in points)  # (the rim bands are checked already)
            if not points[0].size:
                continue
            share = self._share(points, x if thin_look else None)
            unshown = self._unshown_points(y, points, tiles, run_dtype, guard, share)
            if unshown is None:
                continue
            if found is None:
                found = np.zeros((y.shape[0], *([1] * lead), *geom.out_spatial, geom.groups), bool)
            n, p, g = np.nonzero(unshown)
            found[n, points[0][p], points[1][p], points[2][p], g] = True
        return None if found is None else found.reshape(y.shape[0], *geom.out_spatial, geom.groups)

    @property
    def _gaps(self) -> bool:
        """Whether some filter has zero taps inside the bounding box of all their non-zero taps
        (a disc, a ring, a Laplacian's corners; not a box or a comb on its lattice): kept."""
        if "gaps" not in self._prepared:
            lattice = _cells.lattice3(self._cells_geometry)[3 - self.plan.run_geometry.ndim:]
            box = self.filters[tuple(slice(first, first + (taps - 1) * step + 1, step)
                                     for first, step, taps, _ in lattice)]  # the lattice of non-zero taps
            self._prepared["gaps"] = bool(box.size) and not (box != 0).any(axis=-2).all()  # per output channel
        return self._prepared["gaps"]

    def _tap_fractions(self):
        """:func:`~fftconv._engine.coverage.tap_fractions` of the plan's filters (kept)."""
        if "tap fractions" not in self._prepared:
            self._prepared["tap fractions"] = _coverage.tap_fractions(self.filters, self.plan.run_geometry)
        return self._prepared["tap fractions"]

    def _share(self, points, x=None):
        """At the outputs ``points`` (per axis of the grid, ``(P,)``), an upper bound, broadcastable
        to ``(N, P, G)``, of the share of the filters' ``sum |w|`` that lies on non-zero samples:
        the share on input samples (zero pads are structure, :doc:`numerics`), and given the
        input ``x``, ``max |w| / sum |w|`` times the window's non-zero samples
        (:func:`~fftconv._engine.coverage.nonzero_counts`)."""
        geom = self._cells_geometry
        fractions = self._tap_fractions()
        share = np.ones((1, len(points[0]), 1))
        if fractions is not None:
            classes, table = fractions[:2]
            share = share * table[classes[0][points[0]], classes[1][points[1]], classes[2][points[2]]][None, :, None]
        counts = None if x is None else _coverage.nonzero_counts(x, geom, points)
        if counts is not None:
            if "peak share" not in self._prepared:
                flat = np.abs(self.filters.astype(np.float64)).reshape(-1, geom.out_channels)
                with np.errstate(divide="ignore", invalid="ignore"):
                    peak = np.where(flat.sum(axis=0) > 0, flat.max(axis=0) / flat.sum(axis=0), 0.0)
                self._prepared["peak share"] = peak.reshape(geom.groups, geom.group_out).max(axis=1)
            share = np.minimum(share, counts * self._prepared["peak share"])
        return share

    def _unshown_points(self, y, points, tiles, dtype, guard, share):
        """Of the outputs at ``points`` (per axis of the grid, ``(P,)`` positions), those
        ``(N, P, G)`` whose ``|y|`` does not show that the transforms' error bound (in
        ``dtype``) is within the contract, or None for none.

        The contract's scale at an output is ``D' = D sum|w| / W`` (:doc:`numerics`: zeros
        count at the magnitude of the window's non-zero samples), ``W`` the filter's weight on
        them and ``D >= |y| - bound``; with ``share >= W / sum|w|`` (:meth:`_share`,
        broadcastable to ``(N, P, G)``), ``|y| >= bound (1 + share / room)`` shows
        ``bound <= room D'``."""
        geom = self._cells_geometry
        y3 = y.reshape(y.shape[0], *([1] * (3 - geom.ndim)), *y.shape[1:])
        values = y3[:, points[0], points[1], points[2], :]  # (N, P, C_out)
        share = np.repeat(np.broadcast_to(share, (*values.shape[:2], geom.groups)), geom.group_out, axis=-1)
        shown = self._shown(values, guard.bound_points(tiles, dtype, points), share, dtype, guard) \
            | (share == 0)  # (no non-zero sample under the window: an exact zero, set by the zero guard)
        unshown = ~shown.reshape(*shown.shape[:-1], geom.groups, geom.group_out).all(axis=-1)
        return unshown if unshown.any() else None

    def _shown(self, values, bound, share, dtype, guard) -> np.ndarray:
        """Where the outputs ``values`` show by their magnitude that the transforms' error
        ``bound`` (in ``dtype``) is within the contract: ``|y| >= bound * (1 + share / room)``,
        ``room`` the contract's error scale less what transforms in ``dtype`` add locally, in
        units of ``sum |x| |w|``, and ``share`` at least the part of the filters' ``sum |w|``
        on the window's non-zero samples (1 where nothing smaller is known; :doc:`numerics`)."""
        room = _guards.ACCURACY_FACTOR * _guards.precision(self.plan.real_dtype) - \
            _guards.KAPPA_LOCAL * guard.log * _guards.precision(dtype)
        return np.abs(values) >= bound * (1 + share / room)

    def _rim_suspects(self, x, y, method, tiles, run_dtype, guard):
        """The outputs ``(N, *out, G)`` (None for none) whose window holds no whole cell of input
        samples (:func:`~fftconv._engine.cells.partial_windows`: a band along the rims, where
        pads are wide) and whose ``|y|`` does not show the accuracy that the tile statistics
        cannot vouch for there, for :meth:`_settle` to sum directly.  Only the band is read.
        A band with such outputs is first computed again as a box of its own, by the direct
        method (the reference: nothing is left to check) or, in a float32 call where that is
        cheaper, with float64 transforms."""
        geom = self._cells_geometry
        if not _coverage.has_partial_windows(geom):
            return None
        partial = _coverage.partial_windows(geom)
        lead, wide = 3 - geom.ndim, np.dtype(np.float64)
        found = None
        for axis in range(lead, 3):
            rows = np.flatnonzero(partial[axis])
            for run in np.split(rows, np.flatnonzero(np.diff(rows) != 1) + 1) if rows.size else []:
                unshown = self._unshown(y, run, axis, tiles, run_dtype, guard)
                if unshown is None:
                    continue
                lo, hi = [0] * geom.ndim, list(geom.out_spatial)
                lo[axis - lead], hi[axis - lead] = int(run[0]), int(run[-1]) + 1
                if run_dtype == wide or self._direct_box_is_cheaper(method, lo, hi):
                    self._run_box(y, x, REFERENCE, self.plan.real_dtype, lo, hi)  # the reference itself
                    self._detail(**{"direct rim boxes": self._state["last_run"].get("direct rim boxes", 0) + 1})
                    continue
                self._run_box(y, x, method, wide, lo, hi)
                self._detail(**{"float64 rim boxes": self._state["last_run"].get("float64 rim boxes", 0) + 1})
                unshown = self._unshown(y, run, axis, tiles, wide, guard)
                if unshown is None:
                    continue
                if found is None:
                    found = np.zeros((y.shape[0], *([1] * lead), *geom.out_spatial, geom.groups), bool)
                where = [slice(None)] * 5
                where[axis + 1] = run
                found[tuple(where)] |= unshown
        if found is None:
            return None
        self._detail(**{"rim outputs": int(np.count_nonzero(found)) * geom.group_out})
        return found.reshape(y.shape[0], *geom.out_spatial, geom.groups)

    def _unshown(self, y, rows, axis, tiles, dtype, guard):
        """Of the outputs at ``rows`` of grid axis ``axis`` (every position along the other
        axes), those ``(N, ..., G)`` whose ``|y|`` does not show that the transforms' error
        bound (in ``dtype``) is within the contract, or None for none (the test of
        :meth:`_unshown_points`, with the filters' share on input samples)."""
        geom = self._cells_geometry
        lead = 3 - geom.ndim
        y3 = y.reshape(y.shape[0], *([1] * lead), *y.shape[1:])
        index = [rows if a == axis else np.arange(y3.shape[1 + a]) for a in range(3)]
        band = np.take(y3, rows, axis=axis + 1)
        share = 1.0
        fractions = self._tap_fractions()
        if fractions is not None:  # (zero pads are structure: they count at the window's samples)
            classes, table = fractions[:2]
            share = table[np.ix_(*(c[i] for c, i in zip(classes, index)))][None, ..., None]
        shown = self._shown(band, guard.bound_at(tiles, dtype, index), share, dtype, guard)
        unshown = ~shown.reshape(*shown.shape[:-1], geom.groups, geom.group_out).all(axis=-1)
        return unshown if unshown.any() else None

    def _settle(self, y, x, stats, suspects, tiles, guard, run_dtype):
        """Outputs ``suspects`` ``(N, *out, G)`` whose accuracy the tile statistics cannot
        vouch for: each is kept where ``|y|`` itself shows that its window's ``sum |x| |w|``
        (at least ``|y|`` less the error bound) is large enough for the bound, and computed
        again by the reference method's sums otherwise (in float64, from the window alone)."""
        plan = self.plan
        geom, dtype = self._cells_geometry, plan.real_dtype
        found = np.nonzero(suspects)  # looked at where they are only: (n, *out, g) of each
        lead, count = 3 - geom.ndim, len(found[0])
        if not count:
            return y
        points = [np.zeros(count, np.int64)] * lead + list(found[1:-1])
        y3 = y.reshape(y.shape[0], *([1] * lead), *y.shape[1:])
        pick = (np.arange(count), found[-1])
        values = y3[found[0], points[0], points[1], points[2], :].reshape(count, geom.groups, -1)[pick]
        bound = guard.bound_points(tiles, run_dtype, points)[found[0], np.arange(count)]  # (F, C_out), absolute
        bound = bound.reshape(count, geom.groups, -1)[pick]
        shown = self._shown(values, bound, 1, run_dtype, guard).all(axis=-1)  # sum|x||w| >= |y| - bound
        redo = tuple(f[~shown] for f in found)  # (n, *out, g) of the outputs to sum, as np.nonzero gives them
        count = len(redo[0])
        if not count:
            return y
        wide = np.dtype(np.float64)
        if run_dtype != wide and _sum_reads(geom, redo, stats) * geom.group_in * geom.group_out * SUM_SECONDS > \
                WIDE_COST * plan.estimates.get(plan.method, 0.0):
            # cheaper to run every transform in float64 than to sum these outputs directly
            self._note(f"dynamic-range guard: float64 transforms ({count * geom.group_out} outputs beyond "
                       f"{dtype} transforms' reach)")
            self._state.pop("recorded", None)
            y = self._run(x, plan.method, wide)
            self._detail(**{"float64 tiles": int(tiles[0].size)})
            return self._settle(y, x, stats, suspects, tiles, guard, wide)
        total = math.prod(geom.output_shape[:-1]) * geom.groups
        if count > REFERENCE_FRACTION * total:
            self._note(f"dynamic-range guard: {REFERENCE} for the whole call ({count} outputs beyond "
                       f"the transforms' reach)")
            self._state.pop("recorded", None)
            y[...] = self._run(x, REFERENCE, dtype)
        else:
            if _cells.compiled():
                sums = _cells.window_sums(x, self.filters, geom, redo, stats, plan.workers)
                groups = redo[-1][:, None] * geom.group_out + np.arange(geom.group_out)
                y[(*(f[:, None] for f in redo[:-1]), groups)] = sums
            else:
                mask = np.zeros_like(suspects)
                mask[redo] = True
                _guards.direct_outputs(y, x, self.filters, geom, mask)
            why = self._state["last_run"]["why"]
            self._state["last_run"]["why"] = (why if why != "as planned" else "dynamic-range guard") + \
                f"; {count * geom.group_out} output(s) summed directly"
        self._detail(**{"reference outputs": count * geom.group_out})
        return y

    def _run_box(self, y, x, method, dtype, lo, hi):
        """Outputs ``[lo, hi)`` of ``y`` recomputed by ``method`` in ``dtype``, from the padded
        input's part that they read (its spatial axes reordered as :meth:`_box` says)."""
        plan = self.plan
        sub, reads, order = self._box(method, dtype, lo, hi)
        # the reads follow the call's axes (one swap or none: undoing it is doing it again)
        part = read_padded(x, reads, np.empty((x.shape[0], *_permuted(sub, order).spatial, x.shape[-1]), dtype),
                           plan.run_geometry.padding_mode)
        nd = sub.ndim
        part = np.ascontiguousarray(part.transpose(0, *(1 + a for a in order), nd + 1))
        filters = self.filters.astype(dtype, copy=False).transpose(*order, nd, nd + 1)
        chosen = METHODS[method]
        settings = chosen.settings(sub)
        prepared = chosen.prepare(filters, sub, settings, get_backend(plan.backend), plan.workers)
        out = chosen.execute(part, prepared, sub, settings, get_backend(plan.backend), plan.workers, np.dtype(dtype))
        y[(slice(None), *(slice(a, b) for a, b in zip(lo, hi)))] = out.transpose(0, *(1 + a for a in order), nd + 1)

    def _box(self, method, dtype, lo, hi):
        """``(geometry, reads, order)`` of outputs ``[lo, hi)`` as a problem of their own
        (:func:`~fftconv._engine.guards.box_problem`), its spatial axes in ``order``: for the
        direct method, the box's longest output axis last (the compiled loops run along rows;
        a band a few outputs wide runs far faster across than along)."""
        sub, reads = _guards.box_problem(self.plan.run_geometry, lo, hi)
        order = list(range(sub.ndim))
        longest = int(np.argmax(sub.out_spatial))
        if method == REFERENCE and sub.out_spatial[longest] > sub.out_spatial[-1]:
            order[longest], order[-1] = order[-1], order[longest]
        return _permuted(sub, order), reads, order

    def _direct_box_is_cheaper(self, method, lo, hi) -> bool:
        """Whether the cost model prices the direct method on outputs ``[lo, hi)`` below
        ``method`` with float64 transforms (decided once per box: the shapes decide)."""
        key = ("direct box", method, self.plan.real_dtype.str, tuple(lo), tuple(hi))
        if key not in self._prepared:
            self._prepared[key] = self._box_seconds(REFERENCE, self.plan.real_dtype, lo, hi) <= \
                self._box_seconds(method, np.float64, lo, hi)
        return self._prepared[key]

    def _box_seconds(self, method, dtype, lo, hi) -> float:
        """The cost model's seconds for :meth:`_run_box` (the filters' preparation left out)."""
        sub, _, _ = self._box(method, dtype, lo, hi)
        chosen = METHODS[method]
        return chosen.seconds(sub, chosen.settings(sub), np.dtype(dtype).itemsize, _constants.load_constants())

    def _exact_zeros(self, y, x, stats):
        """``y`` with every output whose window holds only zeros set to exactly 0."""
        self._set_zeros(y, self._zero_mask(x, stats))
        return y

    def _zero_mask(self, x, stats):
        """The outputs ``(N, *out, G)`` whose window holds only zeros, or None where there is
        none (looked for where some cell of the input holds only zeros or the zero pads can
        hold a window: elsewhere no window can)."""
        geom = self._cells_geometry
        taps = self._prepared.get("support")
        if taps is None:
            taps = self._prepared["support"] = _cells.support(self.filters, geom.ndim)
        trimmed = any((lo, hi) != (0, k) for (lo, hi), k in zip(taps, geom.kernel))
        if not (trimmed or _cells.may_have_zero_windows(stats, geom, taps)):
            return None  # (cells hold half a window: a narrower support may meet scattered zeros)
        zero = _cells.zero_windows(x, geom, taps, self.plan.workers)  # (N, *out, G)
        return zero if zero.any() else None

    def _set_zeros(self, y, zero) -> None:
        """Outputs ``zero`` ``(N, *out, G)`` (every output channel of the group) set to exactly 0."""
        if zero is None:
            return
        geom = self._cells_geometry
        if y.flags.c_contiguous:  # over each group's outputs, without an output-sized mask
            np.copyto(y.reshape(*zero.shape, geom.group_out), 0, where=zero[..., None])
        else:
            y[np.repeat(zero, geom.group_out, axis=-1)] = 0
        self._detail(**{"zero outputs": int(np.count_nonzero(zero)) * geom.group_out})

    def explain(self, input) -> str:
        """What the guards would do with ``input``, without running the convolution.

        Returns
        -------
        str
            The plan's method, the cell statistics' verdict (non-finite or huge values,
            zeros, and for ``method="auto"`` the dynamic-range guard's worst predicted ratio
            of an output's error to the direct method's, and what runs tile by tile).

        Examples
        --------
        >>> import fftconv
        >>> x = np.zeros((1, 64, 64, 1), np.float32)
        >>> x[0, 16:48, 16:48] = np.random.default_rng(0).random((32, 32, 1))
        >>> bound = fftconv.plan_conv2d(x.shape, (9, 9, 1, 1), padding="SAME").bind(np.ones((9, 9, 1, 1), np.float32))
        >>> print(bound.explain(x).splitlines()[0])
        input (1, 64, 64, 1) float32: no NaN, Inf or value above the overflow limit
        """
        plan = self.plan
        x = _checks.as_array("input", input)
        plan._check_input(x, self.filters_dtype)
        if plan.channels_first:
            x = np.moveaxis(x, 1, -1)
        x = _complex.embed_input(x, plan.embedding)
        geom, method = self._cells_geometry, plan.method
        lines = []
        stats = _cells.cell_stats(x, geom, plan.workers) if not geom.is_empty else None
        if stats is None:
            return f"input {tuple(input.shape)}: empty output, nothing runs"
        limit = _guards.overflow_limit(METHODS[method].gain(geom, plan.settings[method]), plan.real_dtype,
                                       self._abs_sum)
        peak = float(stats[0].max(initial=0.0))
        special = not (_finite_stats(stats) and peak <= limit)
        lines.append(f"input {tuple(np.shape(input))} {np.asarray(input).dtype}: " +
                     ("NaN, Inf or values above the overflow limit: set aside, the outputs they reach "
                      "recomputed" if special else "no NaN, Inf or value above the overflow limit"))
        zero_cells = int((stats[0] == 0).sum())
        lines.append(f"cells      {_cells.cell_grid(geom).members[3 - geom.ndim:]} samples per axis, "
                     f"{stats[0].size} cells, {zero_cells} holding only zeros")
        lattice = _cells.lattice3(geom)[3 - geom.ndim:]
        if any(r != (0, 1, k, k) for r, k in zip(lattice, geom.kernel)):
            where = ", ".join(f"taps {first}-{first + (taps - 1) * step}" + (f" every {step}" if step > 1 else "")
                              + f" ({carrying} carry it)" for first, step, taps, carrying in lattice)
            follows = "cells and windows follow it" if _cells.follows_reach(geom) else \
                "cells this fine would be too many for the input: every output's |y| is checked"
            lines.append(f"reach      the filters' weight per axis: {where}; {follows}")
        guard = self._range_guard(method) if not special else None
        if guard is None:
            why = "local method" if METHODS[method].local else f"method={plan.requested!r}"
            lines.append(f"range      not guarded ({why}): {method} runs in {plan.real_dtype}")
            return "\n".join(lines)
        verdict = guard.assess(guard.tile_stats(stats), plan.real_dtype)
        levels = verdict.levels
        counts = [int((levels == v).sum()) for v in range(3)]
        lines.append(f"range      worst predicted ratio {verdict.worst:.3g} (fine within {verdict.limit:.3g} "
                     f"in {plan.real_dtype}" + (f", {verdict.wide_limit:.3g} with float64 transforms)"
                                                  if verdict.wide_limit else ")"))
        lines.append(f"tiles      {levels.size} (images x tiles x groups): {counts[0]} in {plan.real_dtype}, "
                     f"{counts[1]} need float64 transforms, {counts[2]} looked at output by output "
                     f"({REFERENCE} sums where the bound cannot vouch)")
        rims = [int(p.sum()) for p in _coverage.partial_windows(geom)[3 - geom.ndim:]]
        if any(rims):
            lines.append(f"rims       {rims} outputs per axis read a few samples beside wide pads: each is "
                         f"checked against |y| after the run, a band with one that fails computed again")
        thin = _coverage.thin_windows(stats, geom, self._gaps)
        if thin is not None and thin.any():
            classes = [c for c, _ in _coverage.window_classes(geom)]
            count = int(thin.any(axis=(0, -1))[np.ix_(*classes)].sum())
            lines.append(f"zeros      {count} output positions meet non-zero cells beside cells of zeros without "
                         f"holding one whole: vouched for by their cells' faintest non-zero sample, or "
                         f"checked against |y|")
        fractions = self._tap_fractions()
        if fractions is not None:
            least = float(fractions[1].min())
            lines.append(f"pads       at least {least:.3g} of each filter's sum |w| lands on input samples; "
                         f"outputs below {verdict.worst / verdict.limit / _guards.FULL_TAPS:.3g} are checked "
                         f"against |y|")
        return "\n".join(lines)

    def __repr__(self) -> str:
        text = f"BoundPlan(filters bound, dtype {self.filters_dtype})\n{self.plan._report(bound=True)}"
        run = self.last_run
        if run is not None:
            text += f"\n  last call  ran {run['method']!r} in {run['dtype']} ({run['why']})"
            details = {k: v for k, v in run.items() if k not in ("method", "dtype", "why")}
            if details:
                text += "\n             " + ", ".join(f"{k} {v}" for k, v in details.items())
        return text


#: Where more than this fraction of the tile positions need float64 transforms, the whole
#: call runs them (rather than the flagged tiles again).
BOX_FRACTION = 0.25
#: Where the reference method would recompute more than this fraction of the outputs, it runs
#: the whole call instead.
REFERENCE_FRACTION = 0.5


def _permuted(geom, order):
    """``geom`` with its spatial axes taken in ``order`` (a permutation)."""
    if list(order) == sorted(order):
        return geom
    pick = lambda values: tuple(values[a] for a in order)  # noqa: E731
    return dataclasses.replace(geom, spatial=pick(geom.spatial), kernel=pick(geom.kernel), strides=pick(geom.strides),
                               dilations=pick(geom.dilations), pads=pick(geom.pads),
                               out_spatial=pick(geom.out_spatial))


def _sum_reads(geom, found, stats) -> int:
    """Input samples (per channel pair) that the direct sums of the outputs ``found`` (their
    ``(n, *out, g)`` indices into ``(N, *out, G)``, as :func:`numpy.nonzero` gives them) read:
    their windows' taps on input samples, not on zero pads, and with the compiled sums
    (:func:`~fftconv._engine.cells.window_sums`), only those in the box of the non-zero
    samples."""
    lead = 3 - geom.ndim
    if _cells.compiled() and geom.padding_mode == "constant":
        box = _cells.nonzero_box(stats, geom)[lead:]
        reads = []
        for (lo, hi), o, s, d, k in zip(box, geom.out_spatial, geom.strides, geom.dilations, geom.kernel):
            start = np.arange(o) * s
            reads.append(np.clip(-((start - hi) // d), 0, k) - np.clip(-((start - lo) // d), 0, k))
    else:
        reads = _coverage.window_reads(geom)[lead:]
    per = np.ones(len(found[0]), np.int64)
    for axis, r in enumerate(reads):
        per *= np.maximum(r[found[1 + axis]], 0)
    return int(per.sum())


#: Seconds per product of the guard's direct sums (:func:`fftconv._engine.cells.window_sums`),
#: an upper figure (taps beyond the non-zero samples are skipped): where the outputs to sum
#: would take longer than the call's transforms, a float32 call runs them in float64 instead.
SUM_SECONDS = 1e-9
#: A float32 call run again with float64 transforms costs about this many times its estimate
#: (twice the bytes, half the vector lanes).
WIDE_COST = 2.0


def _finite_stats(stats) -> bool:
    """Whether cell statistics show only finite samples (a NaN or infinity makes a sum non-finite)."""
    return math.isfinite(float(stats[1].max(initial=0.0)))


def _to_format(shape, channels_first):
    return (shape[0], shape[-1], *shape[1:-1]) if channels_first else tuple(shape)


def _fmt_seconds(t: float) -> str:
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} us"


def predicted_peak_bytes(geom: ConvGeometry, method: str, settings, itemsize: int, *, backend=None,
                         copy_out: bool = False, embedding: str | None = None,
                         input_as_is: bool = False, contiguous_input: bool | None = None,
                         kept_only: bool = False, workers: int | None = None) -> int:
    """An upper bound of the memory one call allocates: the filters' copy, then the method's
    peak (:func:`fftconv.methods.direct.peak_bytes`, :func:`fftconv.methods.fft.peak_bytes`),
    the output and, with ``copy_out``, its final copy (to NCHW order or another dtype).

    ``itemsize`` is that of the real compute dtype.  For a complex convolution
    (``embedding``, see :mod:`fftconv._engine.complex`) the method's peak is that of
    the real convolution it runs, whose result is always copied once more (into
    the complex result), plus :func:`fftconv._engine.complex.extra_bytes`.
    ``input_as_is`` says that inputs arrive in the compute dtype, channels-last,
    so that the direct method may read them in place; ``workers`` are the call's
    threads (None: one).

    The models mirror the allocations buffer by buffer and phase by phase;
    :data:`PEAK_MARGIN` covers the small temporaries they leave out.  Methods
    that are not local add the guards' cell statistics
    (:func:`fftconv._engine.cells.stats_bytes`), with cells sized from the kernel:
    filters whose weight rests on a few of their taps get finer cells once bound
    (:func:`fftconv._engine.cells.reach`; at most 24 bytes per eight used points
    and channel group), not counted.  The guards' work on
    non-finite or huge inputs, on inputs with regions of zeros and on inputs
    the dynamic-range guard flags is not counted.
    """
    if embedding is not None:
        # the embedded input (made in the compute dtype) lives while the real run does; then the
        # run's result is assembled into the complex one, and copied to channels-first order
        run = _complex.embedded_geometry(geom, embedding)
        # the embedded input is in the compute dtype, but not always C-contiguous (a real input
        # reaches the run as it came), which the shifted strategy needs to read it in place
        inner = predicted_peak_bytes(run, method, settings, itemsize, backend=backend, input_as_is=True,
                                     contiguous_input=False, workers=workers)
        kept = predicted_peak_bytes(run, method, settings, itemsize, backend=backend, input_as_is=True,
                                    contiguous_input=False, kept_only=True, workers=workers)
        embedded_in, channels_first = _complex.extra_parts(geom, embedding, itemsize, copy_out)
        # the complex result is assembled from the real one, but for the FFT method's complex pairs
        pairs = getattr(settings, "complex_pairs", False)
        assembled = 0 if pairs else math.prod(run.output_shape) * itemsize
        # plus numpy's buffers for the embedding's own ufuncs on complex operands
        return max(embedded_in + inner, kept + assembled + channels_first) + PEAK_MARGIN[1]
    out = math.prod(geom.output_shape) * itemsize
    if geom.is_empty:
        return out
    final_copy = out if copy_out else 0
    contiguous = not copy_out if contiguous_input is None else contiguous_input
    threads = {"workers": workers} if METHODS[method].peak_uses_workers else {}
    peak = METHODS[method].peak_bytes(geom, settings, itemsize, backend=backend, final_copy=final_copy,
                                      input_as_is=input_as_is, contiguous_input=contiguous,
                                      kept_only=kept_only, **threads)
    filters = 2 * math.prod(geom.filters_shape) * itemsize  # bind's copy and the one kept with what is derived
    if not METHODS[method].local and not kept_only:  # the guards' cell statistics live through the run
        peak += _cells.stats_bytes(geom)
    return int((peak + filters) * PEAK_MARGIN[0] + PEAK_MARGIN[1] + UFUNC_BUFFERS * itemsize)


#: ``(factor, bytes)`` added to the modelled peak: what the models leave out.
PEAK_MARGIN = (1.05, 2**16)
#: Elements of the buffers numpy's ufuncs take for strided operands (two of 8192), also
#: added to the modelled peak.
UFUNC_BUFFERS = 2 * 8192
