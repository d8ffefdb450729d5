"""The planner, on shapes alone: decisions at clear cases, monotonic as kernels grow,
tile layouts within bounds, and the public calls for every backend."""

import math

import numpy as np
import pytest

import fftconv
from fftconv import _checks
from fftconv._engine import costs as _planner
from fftconv.methods import fft_layout
from fftconv.backends import available_backends
from fftconv.methods import direct as direct_method
from fftconv.methods import fft as fft_method


def _geometry(input_shape, filters_shape, strides=1, padding="VALID"):
    return _checks.check_geometry(input_shape, filters_shape, 2, strides, padding, "NHWC", 1,
                                  None, False)


@pytest.mark.parametrize("input_shape, filters_shape, expected", [
    ((8, 64, 64, 64), (3, 3, 64, 64), "winograd"),  # dense 3x3 at stride 1 (issue 27: 0.5-0.7x direct's time)
    ((16, 32, 32, 128), (3, 3, 128, 128), "winograd"),
    ((4, 256, 256, 3), (31, 31, 3, 16), "fft"),
    ((1, 512, 512, 1), (63, 63, 1, 1), "fft"),
    ((1, 64, 64, 64), (31, 31, 1, 64), "fft"),  # depthwise
])
def test_clear_decisions(input_shape, filters_shape, expected):
    assert fftconv.plan_conv2d(input_shape, filters_shape).method == expected


@pytest.mark.parametrize("input_shape, channels", [((2, 128, 128, 16), 16), ((1, 256, 256, 1), 1)])
def test_decision_is_monotonic_in_kernel_size(input_shape, channels):
    """Once the FFT method wins, it keeps winning as the kernel grows."""
    methods = [fftconv.plan_conv2d(input_shape, (k, k, channels, channels)).method
               for k in (1, 3, 5, 7, 9, 11, 15, 21, 31, 41, 63)]
    first_fft = methods.index("fft")
    assert set(methods[first_fft:]) == {"fft"}, methods


def test_direct_cost_grows_with_the_kernel():
    costs = [_planner.estimate(_geometry((2, 128, 128, 16), (k, k, 16, 16)), 4)[0]["direct"]
             for k in (3, 5, 9, 15, 31)]
    assert costs == sorted(costs)


@pytest.mark.parametrize("input_shape, filters_shape, strides", [
    ((4, 256, 256, 3), (31, 31, 3, 16), 1),
    ((1, 1024, 1024, 1), (63, 63, 1, 4), 1),
    ((2, 97, 61, 5), (7, 3, 5, 2), (2, 3)),
    ((1, 40, 40, 2), (40, 40, 2, 1), 1),
])
def test_tile_layout_respects_its_bounds(input_shape, filters_shape, strides):
    geom = _geometry(input_shape, filters_shape, strides)
    layout = _planner.estimate(geom, 4)[1]["fft"]
    for t, n, q, o, count in zip(layout.tile, layout.fft_shape, layout.phase_kernel,
                                 geom.out_spatial, layout.tiles):
        assert 1 <= t <= o and n >= t + q - 1 and count * t >= o > (count - 1) * t
    assert layout.phases == np.prod(strides)
    assert layout == fft_method.make_layout(geom, layout.fft_shape)


@pytest.mark.parametrize("x_shape, w_shape", [((4, 256, 256, 3), (31, 31, 3, 16)),
                                              ((1, 128, 128, 32), (21, 21, 32, 32)),
                                              ((1, 512, 512, 1), (101, 101, 1, 1))])
def test_one_shot_layouts_keep_the_first_call_within_budget(x_shape, w_shape):
    """Steady-state estimates in both cases; a one-shot plan's first call, which transforms the
    filters, stays within FIRST_CALL_BUDGET of its steady state (or is the cheapest first call)."""
    geom = _geometry(x_shape, w_shape)
    c = _planner.DEFAULT_CONSTANTS
    (one_shot, settings), bank = _planner.estimate(geom, 4), _planner.estimate(geom, 4, reuse_filters=True)
    assert bank[0]["fft"] <= one_shot["fft"]
    layout = settings["fft"]
    steady = fft_layout.fft_seconds(geom, layout, 4, c, with_filters=False)
    first = steady + fft_layout.filters_seconds(geom, layout, 4, c)
    assert one_shot["fft"] == pytest.approx(steady)
    cheapest_first = min(
        fft_layout.fft_seconds(geom, fftconv.methods.fft.make_layout(geom, shape), 4, c)
        for shape in fft_layout._product(fft_layout.candidate_fft_shapes(geom)))
    assert first <= fft_layout.FIRST_CALL_BUDGET * steady or first == pytest.approx(cheapest_first)


def test_plan_repr_reports_the_decision():
    text = repr(fftconv.plan_conv2d((4, 256, 256, 3), (31, 31, 3, 16)))
    for part in ("method='fft'", "predicted", "fft tiles", "peak", "workers", "backend"):
        assert part in text


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_inputs_unchanged_on_every_backend(backend, method):
    rng = np.random.default_rng(0)
    x = np.asfortranarray(rng.standard_normal((2, 20, 17, 3))).astype(">f4")
    w = rng.standard_normal((5, 4, 3, 2))[::-1]
    x.flags.writeable = False
    x_copy, w_copy = x.copy(), w.copy()
    y = fftconv.conv2d(x, w, padding="SAME", method=method, backend=backend)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(w, w_copy)
    ref = fftconv.conv2d(x.astype(np.float64), w, padding="SAME", method="direct")
    assert np.linalg.norm(y - ref) <= 1e-12 * np.linalg.norm(ref)


def test_small_transforms_pay_for_their_lines():
    """A batch of small transforms costs more per flop than one large transform: each 1-D line
    has a cost of its own (``fft_line_overhead``), which makes depthwise layers of many small
    images (8x56x56x96, 7x7: 768 transforms of 60x60) dearer than their flops say."""
    from fftconv._engine.constants import DEFAULT_CONSTANTS
    from fftconv.methods.pricing import transform_seconds

    flops_only = {**DEFAULT_CONSTANTS, "fft_line_overhead": 0.0}
    small = transform_seconds((16, 16), 1024, DEFAULT_CONSTANTS) / transform_seconds((16, 16), 1024, flops_only)
    large = transform_seconds((512, 512), 1, DEFAULT_CONSTANTS) / transform_seconds((512, 512), 1, flops_only)
    assert small > 2 * large > 2


@pytest.mark.skipif("compiled" not in direct_method.STRATEGIES,
                    reason="numba is not installed, or FFTCONV_DISABLE turns it off")
@pytest.mark.parametrize("n, channels, k", [(8, 256, 5), (8, 96, 7)])
def test_depthwise_layers_of_many_small_images_plan_the_direct_method(n, channels, k):
    """Measured side by side (2026-12-07, one core's time): the compiled loops ran these layers
    2-4x faster than the FFT method, whose many small transforms the model now prices."""
    assert fftconv.plan_conv2d((n, 56 if k == 7 else 28, 56 if k == 7 else 28, channels),
                               (k, k, 1, channels), groups=channels).method == "direct"


def test_narrow_output_rows_cost_more_per_multiply_add():
    """The compiled row loop pays for each pass over a block of an output row
    (``compiled_pass_overhead``): a stride's narrower rows run fewer multiply-adds per ns. Timed
    alone on one thread (2026-12-07), 10 per ns on rows of 64 outputs, 20 on 256, 30 on 2048."""
    from fftconv._checks import check_geometry
    from fftconv._engine.constants import DEFAULT_CONSTANTS
    from fftconv.methods import _compiled

    def per_mac(n, k, stride):
        geom = check_geometry((1, n, n, 1), (k, k, 1, 1), 2, stride, "SAME", "NHWC", 1, None, False)
        return _compiled.seconds(geom, 4, DEFAULT_CONSTANTS) / (math.prod(geom.out_spatial) * k * k)

    assert per_mac(128, 41, 1) > 1.2 * per_mac(1024, 41, 1)
    assert per_mac(256, 41, 2) > 1.2 * per_mac(512, 41, 1)
    assert per_mac(2048, 41, 1) < 1.1 * per_mac(4096, 41, 1)  # wide rows: the multiply-adds dominate


@pytest.mark.skipif("compiled" not in direct_method.STRATEGIES or "ducc0" not in available_backends(),
                    reason="numba or ducc0 is not installed, or FFTCONV_DISABLE turns it off")
@pytest.mark.parametrize("size, k, stride, outputs, expected", [
    (256, 41, 2, 1, "fft"), (2048, 15, 1, 1, "direct"), (1024, 15, 1, 1, "direct"), (2048, 11, 1, 4, "fft")])
def test_single_channel_images_at_strides_plan_the_faster_method(size, k, stride, outputs, expected):
    """Measured side by side on ducc0 (2026-12-07, 2 workers, shared machine; direct over FFT
    time): 256^2 with 41x41 at stride 2 1.2-1.5; 2048^2 with 15x15 0.69-0.90 and 1024^2 0.68-0.82;
    2048^2 with 11x11 to 4 outputs 1.14-1.76 (the copies to and from the channel-major layout:
    ``TRANSPOSE_COST``). The model without its pass term planned the first three the other way;
    with it but without the copies' cost, the fourth."""
    plan = fftconv.plan_conv2d((1, size, size, 1), (k, k, 1, outputs), strides=stride, padding="SAME",
                               backend="ducc0")
    assert plan.method == expected
