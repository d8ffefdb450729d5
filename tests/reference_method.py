"""A naive reference method, registered to show that a new method is one module and one line.

``NaiveMethod`` implements the method protocol (:class:`fftconv.methods.base.Method`)
in the plainest way: the padded input read by the same rules as every method
(:func:`fftconv._shapes.padding.read_padded`), then one multiply-add per tap
over strided views, in the compute dtype. It is priced as very slow, so
``method="auto"`` never picks it; tests ask for it by name.

``tests/test_method_protocol.py`` registers it in a fresh process and runs the
registry-wide tests (planner, invariants over every path, errors, reprs, the
command line) with it, so they cover it without naming it.
"""

from __future__ import annotations

import math

import numpy as np

from fftconv._shapes.padding import box_reads, read_padded
from fftconv.methods.base import Method

NAME = "naive"


class NaiveMethod(Method):
    """One multiply-add per tap over strided views of the padded input."""

    name = NAME
    costly_prepare = False
    local = True
    integer_exact = True

    def plan(self, geom, itemsize, constants, *, reuse_filters=False, backend_speed=1.0, complex_pairs=False):
        # far slower than anything real: auto never runs it
        return 1e6 + math.prod(geom.output_shape) * math.prod(geom.kernel), "per tap"

    def settings(self, geom, options=None):
        return "per tap"

    def seconds(self, geom, settings, itemsize, constants):
        return self.plan(geom, itemsize, constants)[0]

    def peak_bytes(self, geom, settings, itemsize, *, backend=None, final_copy=0, input_as_is=False,
                   contiguous_input=True, kept_only=False):
        padded = geom.batch * math.prod(geom.used_extent) * geom.in_channels * itemsize
        out = math.prod(geom.output_shape) * itemsize
        outputs = geom.batch * math.prod(geom.out_spatial)
        term = outputs * (geom.group_in + geom.group_out) * itemsize  # one group's window and product
        return padded + out + (0 if kept_only else max(term, final_copy))

    def describe(self, settings):
        return "naive      one multiply-add per tap"

    def prepare(self, filters, geom, settings, backend, workers):
        return filters

    def execute(self, x, prepared, geom, settings, backend, workers, dtype):
        w = prepared.astype(dtype, copy=False)
        xp = read_padded(x, box_reads(geom, (0,) * geom.ndim, geom.used_extent),
                         np.empty((geom.batch, *geom.used_extent, geom.in_channels), dtype), geom.padding_mode)
        y = np.zeros((geom.batch, *geom.out_spatial, geom.out_channels), dtype)
        g, cg, og = geom.groups, geom.group_in, geom.group_out
        for tap in np.ndindex(*geom.kernel):
            index = (slice(None), *(slice(t * d, t * d + (o - 1) * s + 1, s)
                                    for t, d, s, o in zip(tap, geom.dilations, geom.strides, geom.out_spatial)))
            window = xp[index]  # (N, *out, C_in)
            for group in range(g):
                part = np.ascontiguousarray(window[..., group * cg:(group + 1) * cg])
                y[..., group * og:(group + 1) * og] += part @ w[tap][:, group * og:(group + 1) * og]
                del part
        return y

    def gain(self, geom, settings):
        return 1.0


def register() -> None:
    """Register the naive method (once per process)."""
    from fftconv import methods

    if NAME not in methods.METHODS:
        methods.register(NaiveMethod())
