"""The gradient-side ops against references, adjoint identities and finite differences, for every method.

Hypothesis draws forward convolutions over 1 to 3 spatial axes (every stride,
dilation and padding form, groups, both layouts, both dtypes) and checks:

* the transposed convolution / input gradient and the filter gradient against
  the float64 references of :mod:`fftconv.testing` (written from the
  definition, sharing no code with the methods);
* the adjoint identities ``<conv(z, w), y> == <z, conv_transpose(y, w, z.shape)>``
  and ``<conv(x, w), dy> == <w, backprop_filter(x, w.shape, dy)>``;
* the vector-Jacobian product against central finite differences of a
  quadratic loss (exact for a quadratic, up to rounding);
* ``separable_conv2d`` on both of its routes.

Run more examples with ``FFTCONV_HYPOTHESIS_EXAMPLES``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

import fftconv
from fftconv._shapes import adjoint as _adjoint
from fftconv.testing import reference_conv, reference_filter_gradient, reference_input_gradient

from conftest import CONV, METHOD_NAMES, SPATIAL_FORMATS, assert_close, depthwise_as_grouped, tolerance

METHODS = pytest.mark.parametrize("method", METHOD_NAMES, ids=[f"method={m}" for m in METHOD_NAMES])
TRANSPOSE = {1: fftconv.conv1d_transpose, 2: fftconv.conv2d_transpose, 3: fftconv.conv3d_transpose}
BACKPROP_INPUT = {1: fftconv.conv1d_backprop_input, 2: fftconv.conv2d_backprop_input,
                  3: fftconv.conv3d_backprop_input}
BACKPROP_FILTER = {1: fftconv.conv1d_backprop_filter, 2: fftconv.conv2d_backprop_filter,
                   3: fftconv.conv3d_backprop_filter}
VJP = {1: fftconv.conv1d_vjp, 2: fftconv.conv2d_vjp, 3: fftconv.conv3d_vjp}
PLAN = {1: fftconv.plan_conv1d, 2: fftconv.plan_conv2d, 3: fftconv.plan_conv3d}


@dataclass
class Case:
    """A forward convolution: arrays in ``data_format`` order and fftconv's keyword arguments."""

    x: np.ndarray
    w: np.ndarray
    dy: np.ndarray
    kwargs: dict
    geometry: object  # the forward ConvGeometry

    @property
    def nd(self):
        return self.w.ndim - 2

    @property
    def channels_first(self):
        return self.kwargs["data_format"].startswith("NC")

    def last(self, a):
        """An activation in channels-last order."""
        return np.moveaxis(a, 1, -1) if self.channels_first else a

    def first(self, a):
        """A channels-last activation in ``data_format`` order."""
        return np.moveaxis(a, -1, 1) if self.channels_first else a

    @property
    def ref_kwargs(self):
        g = self.geometry
        return dict(strides=g.strides, padding=g.pads, dilations=g.dilations)

    def reference_dx(self, dy=None, w=None):
        dy = self.last(self.dy if dy is None else dy)
        return self.first(reference_input_gradient(dy, self.w if w is None else w, self.last(self.x).shape,
                                                   **self.ref_kwargs))

    def reference_dw(self):
        return reference_filter_gradient(self.last(self.x), self.last(self.dy), self.w.shape, **self.ref_kwargs)


@st.composite
def forward_cases(draw, max_size=(16, 8, 5), max_kernel=(6, 4, 3), dtypes=("float32", "float64")):
    nd = draw(st.integers(1, 3), label="nd")
    channels_first = draw(st.booleans(), label="channels_first")
    groups = draw(st.integers(1, 3), label="groups")
    c_in = groups * draw(st.integers(1, 2), label="C_in/groups")
    c_out = groups * draw(st.integers(1, 2), label="C_out/groups")
    batch = draw(st.integers(1, 2), label="batch")
    kernel = [draw(st.integers(1, max_kernel[nd - 1])) for _ in range(nd)]
    strides = [draw(st.integers(1, 3)) for _ in range(nd)]
    dilations = [draw(st.integers(1, 3)) for _ in range(nd)]
    effs = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    kind = draw(st.sampled_from(["SAME", "VALID", "pairs", "tf"]), label="padding kind")
    pairs = [(0, 0)] * nd if kind in ("SAME", "VALID") else \
        [(draw(st.integers(0, 4)), draw(st.integers(0, 4))) for _ in range(nd)]
    spatial = []
    for e, (lo, hi) in zip(effs, pairs):
        low = 1 if kind == "SAME" else max(1, e - lo - hi)
        spatial.append(draw(st.integers(low, max(low + 3, max_size[nd - 1]))))
    if kind in ("SAME", "VALID"):
        padding = kind
    elif kind == "pairs":
        padding = [list(p) for p in pairs]
    else:
        padding = [[0, 0], [0, 0], *map(list, pairs)] if channels_first else [[0, 0], *map(list, pairs), [0, 0]]
    data_format = SPATIAL_FORMATS[nd][channels_first]
    dtype = np.dtype(draw(st.sampled_from(dtypes), label="dtype"))
    x_shape = (batch, c_in, *spatial) if channels_first else (batch, *spatial, c_in)
    w_shape = (*kernel, c_in // groups, c_out)
    kwargs = dict(strides=strides, padding=padding, dilations=dilations, data_format=data_format)
    plan = PLAN[nd](x_shape, w_shape, dtype=dtype, **kwargs)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    x, w, dy = (rng.standard_normal(shape).astype(dtype) for shape in (x_shape, w_shape, plan.output_shape))
    note(f"x {x.shape} {dtype}, w {w.shape}, dy {dy.shape}, {kwargs}")
    return Case(x, w, dy, kwargs, plan.geometry)


def _inner(a, b):
    return float(np.vdot(a.astype(np.float64), b.astype(np.float64)))


def _adjoint_close(lhs, rhs, scale, dtype):
    """Two inner products that are equal in exact arithmetic, compared relative to ``scale``
    (the product of the norms: a correct result can always be off by a rounding of that)."""
    err = abs(lhs - rhs) / scale if scale else abs(lhs - rhs)
    assert err <= tolerance(dtype), f"adjoint mismatch {err:.3g} > {tolerance(dtype):.3g} ({lhs} vs {rhs})"


# -- input gradients -------------------------------------------------------------------------

@METHODS
@given(case=forward_cases())
def test_input_gradient_equals_reference(method, case):
    dx = BACKPROP_INPUT[case.nd](case.x.shape, case.w, case.dy, method=method, **case.kwargs)
    assert_close(dx, case.reference_dx(), case.x.dtype)


@METHODS
@given(case=forward_cases())
def test_transpose_is_the_adjoint_of_conv(method, case):
    """``<conv(z, w), y> == <z, conv_transpose(y, w, z.shape)>``."""
    y = CONV[case.nd](case.x, case.w, method=method, **case.kwargs)
    xt = TRANSPOSE[case.nd](case.dy, case.w, case.x.shape, method=method, **case.kwargs)
    scale = np.linalg.norm(case.x.astype(float)) * np.linalg.norm(case.dy.astype(float)) * \
        np.linalg.norm(case.w.astype(float))
    _adjoint_close(_inner(y, case.dy), _inner(case.x, xt), scale, case.x.dtype)


@METHODS
@given(case=forward_cases(), spatial_only=st.booleans(), explicit_groups=st.booleans())
def test_transpose_and_backprop_input_agree(method, case, spatial_only, explicit_groups):
    """The two spellings of one op, with the output shape in either form and groups given or inferred."""
    shape = case.x.shape[2:] if case.channels_first else case.x.shape[1:-1]
    groups = case.geometry.groups if explicit_groups or spatial_only else None  # the spatial form says no C_out
    a = TRANSPOSE[case.nd](case.dy, case.w, shape if spatial_only else case.x.shape, method=method, groups=groups,
                           **case.kwargs)
    b = BACKPROP_INPUT[case.nd](case.x.shape, case.w, case.dy, method=method, **case.kwargs)
    np.testing.assert_array_equal(a, b)


@METHODS
@given(case=forward_cases(max_size=(200, 40, 10), max_kernel=(40, 12, 5)))
def test_input_gradient_fft_equals_direct(method, case):
    """Larger shapes than the reference can afford, against the direct method in float64."""
    dx = BACKPROP_INPUT[case.nd](case.x.shape, case.w, case.dy, method=method, **case.kwargs)
    expected = BACKPROP_INPUT[case.nd](case.x.shape, case.w.astype(float), case.dy.astype(float), method="direct",
                                       **case.kwargs)
    assert_close(dx, expected, case.x.dtype)


# -- filter gradients -------------------------------------------------------------------------

def _filter_plans(case, method):
    """The plan of ``case``'s filter gradient on ``method``, and for the FFT method both ways of
    treating the images (contracted per frequency, or kept apart and summed)."""
    from fftconv._ops import filter_gradient as _gradients
    plan = {1: fftconv.plan_conv1d_backprop_filter, 2: fftconv.plan_conv2d_backprop_filter,
            3: fftconv.plan_conv3d_backprop_filter}[case.nd](case.x.shape, case.w.shape, case.dy.shape,
                                                             dtype=case.x.dtype, method=method, **case.kwargs)
    if method != "fft" or plan.conv is None:
        return [plan]
    gamma = _adjoint.filter_gradient_geometry(plan.forward)
    plans = []
    for per_image in (False, True):
        geom = _gradients.per_image_geometry(gamma, plan.forward) if per_image else gamma
        conv = fftconv._engine.planner.plan(geom, dtype=plan.dtype, method="fft", workers=1, backend="scipy")
        plans.append(dataclasses.replace(plan, conv=conv, per_image=per_image))
    return plans


@METHODS
@given(case=forward_cases())
def test_filter_gradient_equals_reference(method, case):
    expected = case.reference_dw()
    for plan in _filter_plans(case, method):
        assert_close(plan(case.x, case.dy), expected, case.x.dtype)
    dw = BACKPROP_FILTER[case.nd](case.x, case.w.shape, case.dy, method=method, **case.kwargs)
    assert_close(dw, expected, case.x.dtype)


@METHODS
@given(case=forward_cases())
def test_filter_gradient_is_the_adjoint_of_conv(method, case):
    """``<conv(x, w), dy> == <w, backprop_filter(x, w.shape, dy)>``: the filter gradient is J_w^T dy."""
    y = CONV[case.nd](case.x, case.w, method=method, **case.kwargs)
    dw = BACKPROP_FILTER[case.nd](case.x, case.w.shape, case.dy, method=method, **case.kwargs)
    scale = np.linalg.norm(case.x.astype(float)) * np.linalg.norm(case.dy.astype(float)) * \
        np.linalg.norm(case.w.astype(float))
    _adjoint_close(_inner(y, case.dy), _inner(case.w, dw), scale, case.x.dtype)


@METHODS
@given(case=forward_cases(max_size=(200, 40, 10), max_kernel=(40, 12, 5)))
def test_filter_gradient_fft_equals_direct(method, case):
    dw = BACKPROP_FILTER[case.nd](case.x, case.w.shape, case.dy, method=method, **case.kwargs)
    expected = BACKPROP_FILTER[case.nd](case.x.astype(float), case.w.shape, case.dy.astype(float), method="direct",
                                        **case.kwargs)
    assert_close(dw, expected, case.x.dtype)


# -- vector-Jacobian products -----------------------------------------------------------------------

@METHODS
@given(case=forward_cases(dtypes=("float64",)), seed=st.integers(0, 2**32 - 1))
def test_vjp_matches_finite_differences(method, case, seed):
    """For ``L(x, w) = ||conv(x, w) - t||^2 / 2`` the VJP of ``dy = conv(x, w) - t`` is the gradient of L,
    and central differences of a quadratic are exact up to rounding."""
    conv = CONV[case.nd]
    target = case.dy

    def loss(x, w):
        r = conv(x, w, method=method, **case.kwargs) - target
        return 0.5 * float(np.vdot(r, r))

    dy = conv(case.x, case.w, method=method, **case.kwargs) - target
    dx, dw = VJP[case.nd](case.x, case.w, dy, method=method, **case.kwargs)
    rng = np.random.default_rng(seed)
    for arg, grad in (("x", dx), ("w", dw)):
        v = rng.standard_normal(grad.shape)
        h = 1e-3
        plus = loss(case.x + h * v, case.w) if arg == "x" else loss(case.x, case.w + h * v)
        minus = loss(case.x - h * v, case.w) if arg == "x" else loss(case.x, case.w - h * v)
        numeric, analytic = (plus - minus) / (2 * h), float(np.vdot(grad, v))
        scale = np.linalg.norm(grad) * np.linalg.norm(v) + abs(loss(case.x, case.w)) / h
        assert abs(numeric - analytic) <= 1e-9 * scale, (arg, numeric, analytic)


@METHODS
@given(case=forward_cases())
def test_vjp_is_both_gradients(method, case):
    dx, dw = VJP[case.nd](case.x, case.w, case.dy, method=method, **case.kwargs)
    assert dx.shape == case.x.shape and dw.shape == case.w.shape
    assert_close(dx, case.reference_dx(), case.x.dtype)
    assert_close(dw, case.reference_dw(), case.x.dtype)


def test_vjp_promotes_all_three_arrays():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 9, 9, 2)).astype(np.float32)
    w = rng.integers(-3, 4, (3, 3, 2, 2))
    dy = rng.standard_normal((1, 7, 7, 2)).astype(np.float16)
    dx, dw = fftconv.conv2d_vjp(x, w, dy)
    assert dx.dtype == dw.dtype == np.float64  # integers compute and return in float64
    assert_close(dx, reference_input_gradient(dy, w, x.shape), np.float64)
    assert_close(dw, reference_filter_gradient(x, dy, w.shape), np.float64)
    dx, dw = fftconv.conv2d_vjp(x.astype(np.float16), w.astype(np.float16), dy)
    assert dx.dtype == dw.dtype == np.float16


# -- separable convolution ---------------------------------------------------------------------------

@st.composite
def separable_cases(draw):
    c = draw(st.integers(1, 4), label="C")
    m = draw(st.integers(1, 3), label="M")
    c_out = draw(st.integers(1, 5), label="C_out")
    k = [draw(st.integers(1, 5)) for _ in range(2)]
    s = [draw(st.integers(1, 3)) for _ in range(2)]
    d = [draw(st.integers(1, 2)) for _ in range(2)]
    padding = draw(st.sampled_from(["SAME", "VALID", [[1, 0], [2, 1]]]))
    eff = [(kk - 1) * dd + 1 for kk, dd in zip(k, d)]
    spatial = [draw(st.integers(e, e + 10)) for e in eff]
    dtype = draw(st.sampled_from(["float32", "float64"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((2, *spatial, c)).astype(dtype)
    dw = rng.standard_normal((*k, c, m)).astype(dtype)
    pw = rng.standard_normal((1, 1, c * m, c_out)).astype(dtype)
    return x, dw, pw, dict(strides=s, padding=padding, dilations=d)


@METHODS
@given(case=separable_cases())
def test_separable_routes_equal_reference(method, case):
    x, dw, pw, kwargs = case
    plan = fftconv.plan_separable_conv2d(x.shape, dw.shape, pw.shape, dtype=x.dtype, method=method, **kwargs)
    g = plan.depthwise.geometry
    mid = reference_conv(x, depthwise_as_grouped(dw), g.strides, g.pads, g.dilations)
    expected = reference_conv(mid, pw)
    for route in ("two-step", "composed"):
        y = dataclasses.replace(plan, route=route)(x, dw, pw)
        assert_close(y, expected, x.dtype)
    assert_close(fftconv.separable_conv2d(x, dw, pw, method=method, **kwargs), expected, x.dtype)


def test_separable_takes_tensorflows_default_data_format():
    rng = np.random.default_rng(8)
    x, dw, pw = rng.standard_normal((1, 9, 9, 2)), rng.standard_normal((3, 3, 2, 2)), rng.standard_normal((1, 1, 4, 3))
    np.testing.assert_array_equal(fftconv.separable_conv2d(x, dw, pw, 1, "SAME", None),
                                  fftconv.separable_conv2d(x, dw, pw, 1, "SAME", "NHWC"))


def test_separable_composed_route_wins_when_the_depthwise_output_is_wide():
    plan = fftconv.plan_separable_conv2d((1, 96, 96, 16), (21, 21, 16, 4), (1, 1, 64, 8), 1, "SAME")
    assert plan.route == "composed" and plan.estimates["composed"] < plan.estimates["two-step"]
    plan = fftconv.plan_separable_conv2d((1, 96, 96, 16), (21, 21, 16, 1), (1, 1, 16, 64), 1, "SAME")
    assert plan.route == "two-step"


@pytest.mark.parametrize("route", ["two-step", "composed"])
def test_separable_integers_are_exact(route):
    rng = np.random.default_rng(3)
    x = rng.integers(-100, 100, (1, 12, 11, 3))
    dw = rng.integers(-50, 50, (5, 4, 3, 2))
    pw = rng.integers(-50, 50, (1, 1, 6, 4))
    for method in ("direct", "fft"):
        plan = fftconv.plan_separable_conv2d(x.shape, dw.shape, pw.shape, 1, "SAME", dtype=np.int64, method=method)
        y = dataclasses.replace(plan, route=route)(x, dw, pw)
        mid = reference_conv(x, depthwise_as_grouped(dw), 1, plan.depthwise.geometry.pads)
        assert y.dtype == np.float64
        np.testing.assert_array_equal(y, reference_conv(mid, pw))


def test_separable_plan_binds_both_filters():
    rng = np.random.default_rng(4)
    dw, pw = rng.standard_normal((9, 9, 3, 2)), rng.standard_normal((1, 1, 6, 5))
    plan = fftconv.plan_separable_conv2d((1, 40, 40, 3), dw.shape, pw.shape, 1, "SAME", dtype="float64")
    bound = plan.bind(dw, pw)
    for seed in (0, 1):
        x = np.random.default_rng(seed).standard_normal((1, 40, 40, 3))
        assert_close(bound(x), plan(x, dw, pw), np.float64)
    assert "SeparablePlan" in repr(plan) and plan.route in repr(plan)


# -- plans ---------------------------------------------------------------------------------------

def test_transpose_plan_is_cached_bound_and_reported():
    plan = fftconv.plan_conv2d_transpose((2, 16, 16, 8), (7, 7, 4, 8), (2, 32, 32, 4), 2)
    assert plan is fftconv.plan_conv2d_transpose((2, 16, 16, 8), (7, 7, 4, 8), (2, 32, 32, 4), 2)
    assert plan.output_shape == (2, 32, 32, 4) and plan.input_shape == (2, 16, 16, 8)
    text = repr(plan)
    for word in ("TransposePlan", "conv2d_transpose", "4 phase(s)", "ConvPlan", plan.method):
        assert word in text
    rng = np.random.default_rng(5)
    w = rng.standard_normal((7, 7, 4, 8)).astype(np.float32)
    bound = plan.bind(w)
    for seed in (0, 1):
        x = np.random.default_rng(seed).standard_normal((2, 16, 16, 8)).astype(np.float32)
        np.testing.assert_array_equal(bound(x), plan(x, w))
        assert_close(bound(x), reference_input_gradient(x, w, (2, 32, 32, 4), 2, "SAME"), np.float32)


def test_filter_gradient_and_vjp_plans_report_their_methods():
    plan = fftconv.plan_conv2d_vjp((2, 64, 64, 3), (21, 21, 3, 8), padding="SAME")
    assert plan.methods == ("fft", "fft")
    assert "VJPPlan" in repr(plan) and "FilterGradientPlan" in repr(plan)
    small = fftconv.plan_conv2d_vjp((8, 32, 32, 16), (3, 3, 16, 16), padding="SAME")
    assert small.methods == ("direct", "direct")  # winograd's guard costs more than it saves this small
    large = fftconv.plan_conv2d_vjp((16, 28, 28, 128), (3, 3, 128, 128), padding="SAME")
    assert large.methods == ("winograd", "direct")  # the input gradient: a dense 3x3 stride-1 convolution


@pytest.mark.parametrize("op", ["transpose", "filter"])
def test_measure_times_the_methods(op):
    if op == "transpose":
        plan = fftconv.plan_conv2d_transpose((1, 24, 24, 2), (9, 9, 2, 2), (1, 48, 48, 2), 2, measure=True)
        assert plan.conv.measured is not None and set(plan.conv.measured) >= {"direct"}
    else:
        plan = fftconv.plan_conv2d_backprop_filter((1, 24, 24, 2), (9, 9, 2, 2), (1, 24, 24, 2), 1, "SAME",
                                                   measure=True)
        assert plan.measured is not None and plan.method == min(plan.measured, key=plan.measured.get)


# -- shapes and dtypes ---------------------------------------------------------------------------------

@METHODS
def test_every_valid_output_shape_is_accepted(method):
    """TensorFlow's rule: every size whose forward convolution gives the input's size."""
    rng = np.random.default_rng(6)
    dy = rng.standard_normal((1, 4, 4, 2))
    w = rng.standard_normal((3, 3, 1, 2))
    for padding, sizes in (("SAME", range(7, 9)), ("VALID", range(9, 11)), ([[1, 2], [0, 0]], (6, 7))):
        for n in sizes:
            dx = fftconv.conv2d_transpose(dy, w, (1, n, n if padding != [[1, 2], [0, 0]] else 9, 1), 2, padding,
                                          method=method)
            g = fftconv.plan_conv2d(dx.shape, w.shape, 2, padding).geometry
            assert_close(dx, reference_input_gradient(dy, w, dx.shape, 2, g.pads), np.float64)


@METHODS
@pytest.mark.parametrize("dtype, out", [(np.float16, np.float16), (np.int16, np.float64), (np.uint8, np.float64),
                                        (bool, np.float64)])
def test_dtypes_follow_conv2d(method, dtype, out):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((1, 9, 8, 2)) * 3).astype(dtype)
    w = (rng.standard_normal((3, 3, 2, 2)) * 3).astype(dtype)
    dy = (rng.standard_normal((1, 5, 4, 2)) * 3).astype(dtype)
    dx = fftconv.conv2d_backprop_input(x.shape, w, dy, 2, "SAME", method=method)
    dw = fftconv.conv2d_backprop_filter(x, w.shape, dy, 2, "SAME", method=method)
    assert dx.dtype == dw.dtype == out
    ref_dx = reference_input_gradient(dy, w, x.shape, 2, "SAME")
    ref_dw = reference_filter_gradient(x, dy, w.shape, 2, "SAME")
    if out == np.float64:  # integers: exact
        np.testing.assert_array_equal(dx, ref_dx)
        np.testing.assert_array_equal(dw, ref_dw)
    else:
        assert_close(dx, ref_dx, out)
        assert_close(dw, ref_dw, out)


@METHODS
def test_empty_shapes(method):
    w = np.ones((3, 3, 2, 4))
    assert fftconv.conv2d_transpose(np.ones((0, 4, 4, 4)), w, (0, 8, 8, 2), 2, method=method).shape == (0, 8, 8, 2)
    dw = fftconv.conv2d_backprop_filter(np.ones((0, 8, 8, 2)), w.shape, np.ones((0, 4, 4, 4)), 2, "SAME",
                                        method=method)
    np.testing.assert_array_equal(dw, np.zeros(w.shape))
    # explicit padding so large that no output reads the input: zeros, not an error
    dx = fftconv.conv1d_backprop_input((1, 1, 1), np.ones((1, 1, 1)), np.ones((1, 4, 1)), 3, [[5, 5]], method=method)
    np.testing.assert_array_equal(dx, np.zeros((1, 1, 1)))
    dw = fftconv.conv1d_backprop_filter(np.ones((1, 1, 1)), (1, 1, 1), np.ones((1, 4, 1)), 3, [[5, 5]], method=method)
    np.testing.assert_array_equal(dw, np.zeros((1, 1, 1)))


# -- the polyphase split (pure integers) ---------------------------------------------------------------

@given(n=st.integers(0, 30), k=st.integers(1, 7), s=st.integers(1, 4), d=st.integers(1, 4), lo=st.integers(0, 8),
       hi=st.integers(0, 8))
def test_split_axis_routes_every_pair_once(n, k, s, d, lo, hi):
    """Every (output, tap, dy sample) pair of the transposed convolution is computed by exactly one
    (phase, row, combined index) of the split, and nothing else is."""
    eff = (k - 1) * d + 1
    out = (n + lo + hi - eff) // s + 1
    assume(out >= 1)
    a = _adjoint.split_axis(n, out, k, s, d, lo)
    expected = {(o * s + t * d - lo, t, o) for o in range(out) for t in range(k) if 0 <= o * s + t * d - lo < n}
    got = set()
    for t in range(k):
        ri, j = a.tap_residue[t], a.tap_index[t]
        for m in range(a.count[ri]):
            row = a.first_row[ri] + m
            i = a.first_out[ri] + m * s
            o = row + j * a.dilation - a.pads[0] + a.crop[0]  # the dy sample the combined kernel reads
            if 0 <= o - a.crop[0] < a.crop[1] - a.crop[0]:
                got.add((i, t, o))
    assert got == expected
    assert all((i + lo) % s == a.residues[ri] for ri in range(len(a.residues))
               for i in range(a.first_out[ri], n, s))
