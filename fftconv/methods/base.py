"""The method protocol: every question the engine asks of a convolution method.

A method is one module that defines a subclass of :class:`Method` and
implements every abstract member; one line in :mod:`fftconv.methods`
registers it. The planner, the memory model, the guards, ``measure=True``,
calibration, the command line and the plans' reports then iterate over the
registry, so they never name a method, and the test suite covers the new one
(``tests/test_method_protocol.py`` registers a naive reference method to show it).

A method whose choice needs the filters' values (``needs_filters``: the
low-rank method cannot know a kernel's rank from its shape) prices itself as
unavailable from shapes alone; binding the filters (``plan.bind``,
``FilterBank``, one-shot calls) asks it to :meth:`Method.screen` the plan and,
where that finds it could win, to :meth:`Method.refine` its settings with the
filters' values, and switches to it where it is then predicted faster.  Such a
method may run sub-convolutions (1-D passes, say) planned by the engine: the
engine installs its :class:`SubPlanner` here when it is imported
(:func:`subplanner`), so that methods never import the engine.

A method sees a *real* convolution (complex ones arrive as their real
embedding, :mod:`fftconv._engine.complex`) on channels-last arrays, described
by a :class:`~fftconv._shapes.geometry.ConvGeometry`. Its ``settings`` are
whatever it chooses from shapes alone (a tile layout, a strategy): hashable,
frozen, and read back by every other member.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from fftconv._shapes.geometry import ConvGeometry

__all__ = ["Method", "MethodCannotRun", "Rounding", "SubPlanner", "subplanner", "set_subplanner"]


class MethodCannotRun(ValueError):
    """Raised when a method asked for by name cannot run a convolution's shapes
    (:meth:`Method.unsupported` says why)."""


@dataclass(frozen=True, eq=False)
class Rounding:
    """Where a method that is not local spreads its rounding errors: over transforms of
    ``points`` points, one per tile, each mixing a tile's whole input.

    The dynamic-range guard (:class:`fftconv._engine.guards.RangeGuard`) bounds the error
    of every output of a tile from the energy and the peak of the tile's input and from
    ``gains`` (see :doc:`numerics`).

    Attributes
    ----------
    points : int
        Points per transform (``P``).
    tiles : tuple
        Per spatial axis, ``(in_lo, in_hi, out_lo, out_hi)``, int arrays with one entry per
        tile along that axis: the tile reads padded positions ``[in_lo, in_hi)`` (of the
        used extent) and writes outputs ``[out_lo, out_hi)``.
    gains : ndarray
        Per output channel ``j``, ``sqrt(sum_k max_f |H_kj(f)|**2)`` over the transformed
        input channels ``k`` (polyphase components included): a bound of the factor by
        which the mixing of spectra can grow the rounding errors of a tile's transforms.
    """

    points: int
    tiles: tuple
    gains: np.ndarray


def whole_extent(geom: ConvGeometry, filters: np.ndarray) -> Rounding:
    """The :class:`Rounding` of a method that mixes the whole used extent at once: one tile
    of ``prod(used extent)`` points, gains bounded by the filters' absolute sums
    (``max_f |H(f)| <= sum |h|``)."""
    per_out = np.abs(filters.reshape(-1, geom.group_in, filters.shape[-1]).astype(np.float64)).sum(axis=0)
    tiles = tuple((np.array([0]), np.array([u]), np.array([0]), np.array([o]))
                  for u, o in zip(geom.used_extent, geom.out_spatial))
    return Rounding(max(1, math.prod(geom.used_extent)), tiles, np.sqrt((per_out ** 2).sum(axis=0)))


class Method(abc.ABC):
    """What a convolution method tells the engine and does for it.

    Attributes
    ----------
    name : str
        The name users pass as ``method=``.
    costly_prepare : bool
        ``prepare`` costs enough to keep its result across one-shot calls
        with the same filters (:mod:`fftconv._engine.spectra`); ``execute``
        must then treat it as read-only. When False, ``prepare`` may return
        the filters themselves, which may be the caller's array: ``execute``
        only reads them.
    local : bool
        Each output is a sum of its own window's products, rounded as such:
        IEEE arithmetic alone keeps a NaN or Inf inside the outputs whose
        window holds it, and an output's error scales with its own window.
        Methods that are not local (transforms) run under the dynamic-range
        guard with ``method="auto"``, and under the non-finite guard always.
    integer_exact : bool
        Integer inputs and filters give exact sums (in float64) whenever
        those fit 2**53, with no rounding to undo. Methods that are not run
        integers only where :meth:`integer_result_exact` says so; their
        result is rounded to the nearest integer.
    uses_backend : bool
        The method runs FFT backends, so ``measure=True`` with
        ``backend="auto"`` times it on each.
    needs_filters : bool
        The method's cost depends on the filters' values: :meth:`plan` prices
        it from shapes alone as unavailable (``inf``) and binding refines it
        (:meth:`screen`, :meth:`refine`).
    peak_uses_workers : bool
        The memory a call allocates depends on its threads (each holds buffers
        of its own): the engine passes :meth:`peak_bytes` the call's
        ``workers=``.
    """

    name: ClassVar[str]
    costly_prepare: ClassVar[bool]
    local: ClassVar[bool]
    integer_exact: ClassVar[bool]
    uses_backend: ClassVar[bool] = False
    needs_filters: ClassVar[bool] = False
    peak_uses_workers: ClassVar[bool] = False

    # -- planning, from shapes alone ---------------------------------------------------

    @abc.abstractmethod
    def plan(self, geom: ConvGeometry, itemsize: int, constants: dict, *, reuse_filters: bool = False,
             backend_speed: float = 1.0, complex_pairs: bool = False) -> tuple[float, Any]:
        """``(predicted seconds, settings)``: the cheapest candidate settings for ``geom``.

        ``itemsize`` is the real compute dtype's; ``constants`` the cost
        model's (:data:`fftconv._engine.constants.DEFAULT_CONSTANTS`, or a
        calibration's); ``reuse_filters``: the filters' preparation is kept
        (a filter bank), so a first call need not be cheap; ``backend_speed``:
        the backend's time over the reference backend's, for methods that
        use one; ``complex_pairs``: ``geom`` is the real embedding of a
        complex convolution with complex filters. An empty problem
        (``geom.is_empty``) costs the method's fixed cost per call.
        """

    @abc.abstractmethod
    def settings(self, geom: ConvGeometry, options: dict | None = None) -> Any:
        """Settings for ``geom`` chosen without pricing, or forced by ``options`` (calibration and
        tests force a tiling or a strategy this way)."""

    @abc.abstractmethod
    def seconds(self, geom: ConvGeometry, settings: Any, itemsize: int, constants: dict) -> float:
        """Predicted seconds of one call with these settings (what calibration fits)."""

    @abc.abstractmethod
    def peak_bytes(self, geom: ConvGeometry, settings: Any, itemsize: int, *, backend=None,
                   final_copy: int = 0, input_as_is: bool = False, contiguous_input: bool = True,
                   kept_only: bool = False) -> int:
        """Peak bytes ``prepare`` and ``execute`` allocate, the output included, then a copy of
        ``final_copy`` bytes; with ``kept_only``, what is left allocated once the call returns.
        ``input_as_is``: inputs arrive in the compute dtype, channels-last; ``contiguous_input``:
        and C-contiguous.  A method with ``peak_uses_workers`` also takes ``workers=``, the
        call's threads."""

    @abc.abstractmethod
    def describe(self, settings: Any) -> str:
        """One line for a plan's report, e.g. ``"direct     strategy 'im2col'"``."""

    # -- running ---------------------------------------------------------------------------

    @abc.abstractmethod
    def prepare(self, filters: np.ndarray, geom: ConvGeometry, settings: Any, backend, workers: int) -> Any:
        """Everything that depends on the filters only (flipped, real, in the compute dtype)."""

    @abc.abstractmethod
    def execute(self, x: np.ndarray, prepared: Any, geom: ConvGeometry, settings: Any, backend,
                workers: int, dtype: np.dtype) -> np.ndarray:
        """Convolve a channels-last input; return a new channels-last output in ``dtype``."""

    def execute_checked(self, x: np.ndarray, prepared: Any, geom: ConvGeometry, settings: Any, backend,
                        workers: int, dtype: np.dtype) -> tuple[np.ndarray, float]:
        """:meth:`execute`, and a number that is finite if every output is (the engine's check of
        a local method's result): the outputs' sum, here after the call; a method may find it
        while it computes."""
        y = self.execute(x, prepared, geom, settings, backend, workers, dtype)
        return y, y.sum()

    # -- what the guards need --------------------------------------------------------------

    @abc.abstractmethod
    def gain(self, geom: ConvGeometry, settings: Any) -> float:
        """A bound of the method's intermediates over ``max|x| * max_o sum|w_o|``: 1 for sums of
        products, more for transforms (the overflow guard keeps inputs below
        ``finfo.max / (margin * gain * sum|w|)``)."""

    def rounding(self, geom: ConvGeometry, settings: Any, filters: np.ndarray, prepared: Any) -> Rounding | None:
        """Where the method's rounding errors spread (:class:`Rounding`): None for a ``local``
        method, whose errors stay with each output's own window.  ``filters`` are the real,
        flipped filters in the compute dtype, ``prepared`` what :meth:`prepare` made of them.
        A method that is not local and does not say more is treated as one transform of its
        whole used extent (:func:`whole_extent`)."""
        return None if self.local else whole_extent(geom, filters)

    def unsupported(self, geom: ConvGeometry) -> str | None:
        """Why the method cannot run ``geom`` at all (None where it can): asked by name for
        such shapes, planning raises :class:`MethodCannotRun` (a ValueError) with this reason.
        A method that prices such shapes ``inf`` under ``auto`` says so here."""
        return None

    def integer_result_exact(self, x: np.ndarray, filters: np.ndarray, geom: ConvGeometry,
                             settings: Any) -> bool:
        """Whether rounding this method's result of integer data gives the exact sums."""
        return self.integer_exact

    # -- methods that need the filters' values (``needs_filters``) --------------------------

    def screen(self, geom: ConvGeometry, settings: Any, itemsize: int, constants: dict, *, budget: float,
               workers: int, backend: str) -> str | None:
        """From shapes alone, before any filter value is read: None where binding should
        :meth:`refine` (the method could beat ``budget`` seconds, the planned method's
        prediction), else the reason it cannot. The engine keeps the answer with the plan."""
        return "the method does not depend on the filters' values"

    def refine(self, geom: ConvGeometry, filters: np.ndarray, settings: Any, itemsize: int, constants: dict, *,
               budget: float, workers: int, backend: str) -> tuple[float, Any]:
        """``(predicted seconds, settings)`` with the filters known (flipped, real, in the compute
        dtype, C-contiguous; read only). ``budget`` is the planned method's predicted seconds
        (``inf`` when the caller asked for this method by name: it must then return settings it
        can run). The engine keeps the answer with the filters' content
        (:mod:`fftconv._engine.spectra`), so a loop of calls with the same filters refines once."""
        return self.seconds(geom, settings, itemsize, constants), settings

    def __repr__(self) -> str:
        return f"<fftconv method {self.name!r}>"


class SubPlanner:
    """What the engine offers a method that runs sub-convolutions (1-D passes, say).

    The engine (:mod:`fftconv._engine.planner`) installs one instance when it
    is imported; :func:`subplanner` returns it. Each sub-convolution is planned
    and run as a convolution of its own: a channels-last input in the compute
    dtype, VALID, with the method ``auto`` picks for it and that method's
    guards.
    """

    def plan(self, geom: ConvGeometry, dtype, workers: int, backend: str, method: str = "auto") -> Any:
        """The engine's plan (opaque to the method) of a checked geometry, running ``method``
        (``"auto"``: the engine's choice)."""
        raise NotImplementedError

    def seconds(self, plan) -> float:
        """Predicted seconds of a plan's method."""
        raise NotImplementedError

    def describe(self, plan) -> str:
        """A short name of what a plan runs, e.g. ``"direct 'lines'"``."""
        raise NotImplementedError

    def integer_exact(self, plan) -> bool:
        """Whether a plan's method sums integers exactly (in float64, below 2**53)."""
        raise NotImplementedError

    def peak_bytes(self, plan, *, kept_only: bool = False) -> int:
        """Bytes a run of ``plan`` allocates (its output included), as the method models them; with
        ``kept_only``, what stays allocated once it returns."""
        raise NotImplementedError

    def bind(self, plan, filters: np.ndarray):
        """A callable ``run(x) -> y`` convolving channels-last inputs in the plan's dtype with
        ``filters`` (prepared once): the method runs directly where it is local, else under the
        engine's guards (non-finite and huge values, dynamic range)."""
        raise NotImplementedError


_SUBPLANNER: SubPlanner | None = None


def set_subplanner(engine: SubPlanner) -> None:
    """Install the engine's :class:`SubPlanner` (done once, by :mod:`fftconv._engine.planner`)."""
    global _SUBPLANNER
    _SUBPLANNER = engine


def subplanner() -> SubPlanner:
    """The engine's :class:`SubPlanner`; a RuntimeError before the engine is imported."""
    if _SUBPLANNER is None:
        raise RuntimeError("fftconv's engine is not imported: import fftconv first")
    return _SUBPLANNER
