"""fftconv.jax against jax.lax.conv_general_dilated: outputs, gradients (numerical and lax's), jit, grad,
vmap, a few training steps, and the errors.  Skipped without jax (the ``jax`` extra)."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
from jax.test_util import check_grads  # noqa: E402

import fftconv.jax as fj  # noqa: E402

HIGHEST = jax.lax.Precision.HIGHEST

#: (lhs shape, rhs shape, options): dimension numbers, strides, padding forms, dilation, groups
CASES = [
    ((2, 11, 9, 6), (4, 3, 3, 8), dict(window_strides=(2, 1), padding=[(3, 1), (-1, 2)], rhs_dilation=(1, 2),
                                       dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=2)),
    ((2, 6, 11, 9), (8, 3, 4, 3), dict(window_strides=(1, 2), padding="SAME", rhs_dilation=(2, 1),
                                       feature_group_count=2)),
    ((1, 4, 10, 9), (4, 4, 4, 2), dict(window_strides=(1, 1), padding="SAME_LOWER")),
    ((2, 6, 17), (8, 6, 5), dict(window_strides=(3,), padding="VALID", rhs_dilation=(2,))),
    ((9, 2, 10, 4), (6, 3, 2, 3), dict(window_strides=(2, 1), padding=[(1, 1), (2, 2)], feature_group_count=2,
                                       dimension_numbers=("HNWC", "OHIW", "NCWH"))),
    ((1, 5, 4, 6, 2), (2, 3, 2, 2, 2), dict(window_strides=(1, 2, 1), padding="SAME",
                                            dimension_numbers=("NDHWC", "DHWIO", "NDHWC"))),
]
IDS = [f"{len(c[0]) - 2}d-{i}" for i, c in enumerate(CASES)]


def rel(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _arrays(lhs_shape, rhs_shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.standard_normal(lhs_shape), dtype), jnp.asarray(rng.standard_normal(rhs_shape), dtype)


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_numerical_gradients_float64(case, method):
    lhs_shape, rhs_shape, options = case
    with jax.enable_x64(True):
        x, w = _arrays(lhs_shape, rhs_shape, jnp.float64)
        check_grads(lambda x, w: fj.conv_general_dilated(x, w, **options, method=method), (x, w), order=1,
                    modes=["rev"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_outputs_and_gradients_equal_lax(case, dtype, method):
    lhs_shape, rhs_shape, options = case
    with jax.enable_x64(True):
        x, w = _arrays(lhs_shape, rhs_shape, dtype)
        y, vjp = jax.vjp(lambda x, w: fj.conv_general_dilated(x, w, **options, method=method), x, w)
        x64, w64 = x.astype(jnp.float64), w.astype(jnp.float64)
        ref, ref_vjp = jax.vjp(lambda x, w: jax.lax.conv_general_dilated(x, w, **options, precision=HIGHEST),
                               x64, w64)
        assert y.shape == ref.shape and y.dtype == dtype
        tol = 1e-5 if dtype == "float32" else 1e-12
        assert rel(y, ref) < tol
        dy = jnp.asarray(np.random.default_rng(1).standard_normal(y.shape), dtype)
        for got, want in zip(vjp(dy), ref_vjp(dy.astype(jnp.float64))):
            assert got.dtype == dtype and got.shape == want.shape
            assert rel(got, want) < tol


def _loss(conv, x, w, options):
    return jnp.sum(jnp.sin(conv(x, w, **options)))


def test_jit_grad_and_vmap():
    lhs_shape, rhs_shape, options = CASES[0]
    x, w = _arrays((3, *lhs_shape), rhs_shape, jnp.float32)
    ws = jnp.stack([w, 2 * w, -w])
    for in_axes, args in (((0, None), (x, w)), ((0, 0), (x, ws)), ((None, 0), (x[0], ws))):
        got = jax.jit(jax.vmap(jax.grad(lambda x, w: _loss(fj.conv_general_dilated, x, w, options), (0, 1)),
                               in_axes=in_axes))(*args)
        want = jax.vmap(jax.grad(lambda x, w: _loss(jax.lax.conv_general_dilated, x, w,
                                                    dict(options, precision=HIGHEST)), (0, 1)), in_axes=in_axes)(*args)
        for g, r in zip(got, want):
            assert g.shape == r.shape and rel(g, r) < 1e-5, in_axes


def test_nested_vmap_and_jit_forward():
    lhs_shape, rhs_shape, options = CASES[1]
    x, w = _arrays((2, 3, *lhs_shape), rhs_shape, jnp.float32)
    f = jax.jit(jax.vmap(jax.vmap(lambda x: fj.conv_general_dilated(x, w, **options))))
    ref = jax.lax.conv_general_dilated(x.reshape(-1, *lhs_shape[1:]), w, **options, precision=HIGHEST)
    assert rel(f(x).reshape(ref.shape), ref) < 1e-5


def test_a_few_training_steps_give_lax_losses():
    dn = ("NHWC", "HWIO", "NHWC")
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        x = jnp.asarray(rng.standard_normal((4, 20, 20, 3)))
        target = jnp.asarray(rng.standard_normal((4, 10, 10, 2)))
        params0 = {"w1": jnp.asarray(rng.standard_normal((9, 9, 1, 3)) / 9),
                   "w2": jnp.asarray(rng.standard_normal((5, 5, 3, 2)) / 5)}

        def model(conv, p):
            h = jnp.tanh(conv(x, p["w1"], (1, 1), "SAME", dimension_numbers=dn, feature_group_count=3))
            return jnp.mean((conv(h, p["w2"], (2, 2), [(2, 2), (2, 2)], dimension_numbers=dn) - target) ** 2)

        losses = {}
        for name, conv in (("lax", jax.lax.conv_general_dilated), ("fftconv", fj.conv_general_dilated)):
            step = jax.jit(jax.value_and_grad(lambda p, conv=conv: model(conv, p)))
            p, losses[name] = params0, []
            for _ in range(5):
                loss, grads = step(p)
                p = jax.tree_util.tree_map(lambda a, g: a - 0.1 * g, p, grads)
                losses[name].append(float(loss))
        assert losses["lax"][-1] < losses["lax"][0]
        np.testing.assert_allclose(losses["fftconv"], losses["lax"], rtol=1e-10)


def test_half_precisions_compute_in_float32():
    x, w = _arrays((1, 3, 16, 16), (3, 1, 7, 7), jnp.bfloat16)
    y = fj.conv_general_dilated(x, w, (1, 1), "SAME", feature_group_count=3)
    assert y.dtype == jnp.bfloat16
    ref = jax.lax.conv_general_dilated(x.astype(jnp.float32), w.astype(jnp.float32), (1, 1), "SAME",
                                       feature_group_count=3, precision=HIGHEST)
    assert rel(y.astype(jnp.float32), ref) < 1e-2
    assert fj.conv_general_dilated(x, w, (1, 1), "SAME", feature_group_count=3,
                                   preferred_element_type=jnp.float32).dtype == jnp.float32


@pytest.mark.parametrize("call, error, match", [
    (lambda x, w: fj.conv_general_dilated(x, w, (1, 1), "SAME", lhs_dilation=(2, 2)), ValueError, "lhs_dilation"),
    (lambda x, w: fj.conv_general_dilated(x, w, (1, 1), "SAME", batch_group_count=2), ValueError, "batch_group"),
    (lambda x, w: fj.conv_general_dilated(x, w.astype(jnp.bfloat16), (1, 1), "SAME"), TypeError, "one dtype"),
    (lambda x, w: fj.conv_general_dilated(x.astype(jnp.int32), w.astype(jnp.int32), (1, 1), "SAME"),
     TypeError, "int32"),
    (lambda x, w: fj.conv_general_dilated(x, w, (1,), "SAME"), ValueError, "window_strides"),
    (lambda x, w: fj.conv_general_dilated(x, w, (1, 1), "FULL"), ValueError, "`padding`"),
    (lambda x, w: fj.conv_general_dilated(x, w, (1, 1), [(1, 1)]), ValueError, "`padding`"),
    (lambda x, w: fj.conv_general_dilated(x, w, (1, 1), "SAME", feature_group_count=2), ValueError, "input channels"),
    (lambda x, w: fj.conv_general_dilated(x, w[:, :2], (1, 1), "VALID"), ValueError, "input channels"),
    (lambda x, w: fj.conv_general_dilated(x[..., :2, :2], w, (1, 1), "VALID"), ValueError, "smaller than"),
    (lambda x, w: fj.conv_general_dilated(x[0], w, (1, 1), "VALID"), ValueError, "3, 4 or 5 axes"),
    (lambda x, w: fj.conv_general_dilated(x, w, (1, 1), "VALID", method="fast"), ValueError, "method"),
])
def test_errors_name_the_argument(call, error, match):
    x, w = _arrays((1, 3, 8, 8), (4, 3, 3, 3), jnp.float32)
    with pytest.raises(error, match=match):
        call(x, w)
