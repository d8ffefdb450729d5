"""Plans of folded convolutions: a dilated kernel whose taps mostly read pads runs folded.

:func:`fftconv._shapes.fold.fold` finds the convolution that gives the same
outputs with the taps that read the same samples (or only zeros) merged; a
:class:`FoldedPlan` is a :class:`~fftconv._engine.plan.ConvPlan` of the
original shapes that gathers the folded input, folds the filters and runs the
plan of the folded shapes. Its method, estimates, settings and peak are the
folded plan's (plus the gathered input), so a 2x2 kernel dilated by 100,000
over a 10x10 image costs what a 10x10 convolution costs.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from fftconv import _checks
from fftconv._engine import guards as _guards
from fftconv._engine.plan import BoundPlan, ConvPlan
from fftconv._shapes.fold import Fold

__all__ = ["FoldedPlan", "FoldedBound", "folded", "window_any"]


@dataclass(frozen=True, repr=False, eq=False)
class FoldedPlan(ConvPlan):
    """A :class:`~fftconv._engine.plan.ConvPlan` run through the plan of its folded shapes.

    Attributes
    ----------
    inner : ConvPlan
        The plan of the folded convolution (``fold.folded``); ``method``, ``backend`` and
        ``measured`` are kept equal to this plan's.
    fold : Fold
        The original and folded geometries and the folded axes.
    """

    inner: ConvPlan | None = None
    fold: Fold | None = None

    def __post_init__(self):
        # a plan made with dataclasses.replace (measure=True, tests forcing a path) changes what runs inside
        inner = self.inner
        mine = (self.method, self.backend, self.measured, self.settings)
        if (inner.method, inner.backend, inner.measured, inner.settings) != mine:
            inner = dataclasses.replace(inner, method=self.method, backend=self.backend, measured=self.measured,
                                        settings=self.settings)
            object.__setattr__(self, "inner", inner)

    @property
    def run_geometry(self):
        """The real convolution the method runs: the folded one (embedded, if complex)."""
        return self.inner.run_geometry

    def _bind(self, w, one_shot=False) -> "FoldedBound":
        return FoldedBound(self, w.dtype, self.inner._bind(self.fold.filters(w), one_shot))

    def __repr__(self) -> str:
        f = self.fold.folded
        axes = ", ".join(f"{a.axis}: {len(a.taps)} taps as {a.patterns}" for a in self.fold.axes)
        lines = super().__repr__().split("\n")
        lines.insert(3, f"  folded     taps that read the same samples (or only pads) merged, axis {axes}; "
                        f"runs as input spatial {f.spatial} kernel {f.kernel} dilations {f.dilations}")
        return "\n".join(lines)


@dataclass(frozen=True, repr=False, eq=False)
class FoldedBound:
    """A :class:`FoldedPlan` with its folded filters prepared: call it on a stream of inputs."""

    plan: FoldedPlan
    filters_dtype: np.dtype
    bound: BoundPlan

    __call__ = BoundPlan.__call__  # the same checks; only the execution below differs

    def _execute(self, x, out_dtype):
        return self.bound._execute(self.plan.fold.gather(x, self.plan.channels_first), out_dtype)

    def explain(self, input) -> str:
        """What the guards would do with ``input`` (:meth:`fftconv._engine.plan.BoundPlan.explain`),
        for the folded convolution that runs."""
        x = _checks.as_array("input", input)
        self.plan._check_input(x, self.filters_dtype)
        return self.bound.explain(self.plan.fold.gather(x, self.plan.channels_first))

    @property
    def last_run(self) -> dict | None:
        """What the last call ran (:attr:`fftconv._engine.plan.BoundPlan.last_run`): the folded run's."""
        return self.bound.last_run

    def __repr__(self) -> str:
        text = f"BoundPlan(filters bound, dtype {self.filters_dtype})\n{self.plan!r}"
        run = self.last_run
        if run is not None:
            text += f"\n  last call  ran {run['method']!r} in {run['dtype']} ({run['why']})"
        return text


def folded(fold: Fold, inner: ConvPlan) -> FoldedPlan:
    """The :class:`FoldedPlan` of ``fold.original`` running ``inner``, the plan of ``fold.folded``
    (made with the call's format, dtype, workers and backend); its peak adds the gathered input."""
    gathered = math.prod(fold.folded.input_shape) * inner.real_dtype.itemsize * (2 if inner.embedding else 1)
    return FoldedPlan(fold.original, inner.data_format, inner.dtype, inner.method, inner.requested,
                      dict(inner.estimates), dict(inner.settings), inner.workers, inner.backend,
                      inner.peak_bytes + gathered, inner.measured, inner.calibration, inner.embedding,
                      inner=inner, fold=fold)


def window_any(plan: ConvPlan, mask: np.ndarray) -> np.ndarray:
    """:func:`fftconv._engine.guards.window_any` for a plan's channels-last input ``mask``, folded
    when the plan is (its used extent can be the dilation's size)."""
    if isinstance(plan, FoldedPlan):
        return _guards.window_any(plan.fold.gather(mask), plan.fold.folded)
    return _guards.window_any(mask, plan.geometry)
