"""The method protocol: every question the engine asks of a convolution method.

A method is one module that defines a subclass of :class:`Method` and
implements every abstract member; one line in :mod:`fftconv.methods`
registers it. The planner, the memory model, the guards, ``measure=True``,
calibration, the command line and the plans' reports then iterate over the
registry, so they never name a method, and the test suite covers the new one
(``tests/test_method_protocol.py`` registers a naive reference method to show it).

A method sees a *real* convolution (complex ones arrive as their real
embedding, :mod:`fftconv._engine.complex`) on channels-last arrays, described
by a :class:`~fftconv._shapes.geometry.ConvGeometry`. Its ``settings`` are
whatever it chooses from shapes alone (a tile layout, a strategy): hashable,
frozen, and read back by every other member.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import numpy as np

from fftconv._shapes.geometry import ConvGeometry

__all__ = ["Method"]


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
    """

    name: ClassVar[str]
    costly_prepare: ClassVar[bool]
    local: ClassVar[bool]
    integer_exact: ClassVar[bool]
    uses_backend: ClassVar[bool] = False

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
        and C-contiguous."""

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

    # -- what the guards need --------------------------------------------------------------

    @abc.abstractmethod
    def gain(self, geom: ConvGeometry, settings: Any) -> float:
        """A bound of the method's intermediates over ``max|x| * max_o sum|w_o|``: 1 for sums of
        products, more for transforms (the overflow guard keeps inputs below
        ``finfo.max / (margin * gain * sum|w|)``)."""

    def integer_result_exact(self, x: np.ndarray, filters: np.ndarray, geom: ConvGeometry,
                             settings: Any) -> bool:
        """Whether rounding this method's result of integer data gives the exact sums."""
        return self.integer_exact

    def __repr__(self) -> str:
        return f"<fftconv method {self.name!r}>"
