"""Hypothesis properties of every registered method.

The strategy :func:`conv_cases` draws only valid argument combinations, over
1 to 3 spatial axes, every stride, dilation and padding form, groups, both
data formats and flip. Run more examples with ``FFTCONV_HYPOTHESIS_EXAMPLES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from conftest import CONV, METHOD_NAMES, SPATIAL_FORMATS, assert_close, ref, tolerance

METHODS = pytest.mark.parametrize("method", METHOD_NAMES, ids=[f"method={m}" for m in METHOD_NAMES])

#: The spec's tolerances hold on well-conditioned data: the tests below hold a result to them
#: where ``||conv(|x|, |w|)|| / ||conv(x, w)||`` is at most this.  Drawn cases give 1-9 (400
#: draws); one whose single output cancelled gave 5,749, where float32's own rounding is 2e-5
#: of the result (the direct method, and the others, within it).
MAX_CONDITION = 100.0


def well_conditioned(exact, magnitudes) -> bool:
    """Whether ``||magnitudes|| <= MAX_CONDITION * ||exact||``: ``exact`` a convolution,
    ``magnitudes`` the same of ``|x|`` and ``|w|``.  Outputs that are all exactly zero count
    as well conditioned (they are checked against zero)."""
    norm = np.linalg.norm(exact)
    return norm == 0 or np.linalg.norm(magnitudes) <= MAX_CONDITION * norm


@dataclass
class Case:
    """One drawn convolution: arrays and fftconv's keyword arguments."""

    x: np.ndarray
    w: np.ndarray
    kwargs: dict

    @property
    def nd(self):
        return self.w.ndim - 2

    def run(self, method, **overrides):
        return CONV[self.nd](self.x, self.w, method=method, **{**self.kwargs, **overrides})

    @property
    def all_windows_in_padding(self):
        """True when every window reads only padding, so the exact output is all zeros.

        Then any rounding noise of a transform is an infinite *relative* error;
        tests that compare two computed outputs skip these cases (the reference
        tests still check them, against zero, with an absolute error).
        """
        return not np.any(self.reference(x=np.ones_like(self.x), w=np.ones_like(self.w)))

    def reference(self, x=None, w=None):
        kw = {k: v for k, v in self.kwargs.items() if k not in ("groups", "flip")}
        return ref(self.x if x is None else x, self.w if w is None else w, flip=self.kwargs["flip"], **kw)


def _axis_int(draw, values, nd, channels_first, name):
    """An int, or 1 / nd / nd + 2 entries, all meaning ``values``."""
    form = draw(st.sampled_from(["int", "list1", "listnd", "tf"] if len(set(values)) == 1
                                else ["listnd", "tf"]), label=f"{name} form")
    if form == "int":
        return values[0]
    if form == "list1":
        return [values[0]]
    if form == "listnd":
        return list(values)
    return [1, 1, *values] if channels_first else [1, *values, 1]


@st.composite
def conv_cases(draw, max_size=(24, 10, 6), max_kernel=(6, 4, 3), dtypes=("float32", "float64"),
               flip=None):
    nd = draw(st.integers(1, 3), label="nd")
    channels_first = draw(st.booleans(), label="channels_first")
    groups = draw(st.integers(1, 3), label="groups")
    c_in = groups * draw(st.integers(1, 2), label="C_in/groups")
    c_out = groups * draw(st.integers(1, 2), label="C_out/groups")
    batch = draw(st.integers(1, 2), label="batch")
    kernel = [draw(st.integers(1, max_kernel[nd - 1])) for _ in range(nd)]
    strides = [draw(st.integers(1, 4)) for _ in range(nd)]
    dilations = [draw(st.integers(1, 3)) for _ in range(nd)]
    effs = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    kind = draw(st.sampled_from(["SAME", "VALID", "int", "pairs", "ints", "tf"]), label="padding kind")
    if kind == "SAME":
        pairs = None
    elif kind == "VALID":
        pairs = [(0, 0)] * nd
    elif kind == "int":
        p = draw(st.integers(0, 3))
        pairs = [(p, p)] * nd
    elif kind == "ints":
        pairs = [(p, p) for p in (draw(st.integers(0, 3)) for _ in range(nd))]
    else:
        pairs = [(draw(st.integers(0, 4)), draw(st.integers(0, 4))) for _ in range(nd)]
    # spatial sizes: any under SAME, else at least the effective kernel minus the padding
    spatial = []
    for e, (lo, hi) in zip(effs, pairs or [(e, 0) for e in effs]):
        low = max(1, e - lo - hi)  # the padded input must hold the effective kernel
        spatial.append(draw(st.integers(low, max(low + 3, max_size[nd - 1]))))
    if kind in ("SAME", "VALID"):
        padding = draw(st.sampled_from([kind, kind.lower()]))
    elif kind == "int":
        padding = pairs[0][0]
    elif kind == "ints":
        padding = [p for p, _ in pairs]
    elif kind == "pairs":
        padding = [list(p) for p in pairs]
    else:
        padding = ([[0, 0], [0, 0], *map(list, pairs)] if channels_first
                   else [[0, 0], *map(list, pairs), [0, 0]])
    dtype = draw(st.sampled_from(dtypes), label="dtype")
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *spatial, c_in)).astype(dtype)
    if channels_first:
        x = np.moveaxis(x, -1, 1).copy()
    w = rng.standard_normal((*kernel, c_in // groups, c_out)).astype(dtype)
    kwargs = dict(
        strides=_axis_int(draw, strides, nd, channels_first, "strides"),
        dilations=_axis_int(draw, dilations, nd, channels_first, "dilations"),
        padding=padding,
        data_format=SPATIAL_FORMATS[nd][channels_first],
        groups=draw(st.sampled_from([None, groups]), label="groups arg"),
        flip=draw(st.booleans(), label="flip") if flip is None else flip,
    )
    note(f"x {x.shape} {x.dtype}, w {w.shape}, {kwargs}")
    return Case(x, w, kwargs)


@METHODS
@given(case=conv_cases())
def test_method_equals_reference(method, case):
    expected = case.reference()
    assume(well_conditioned(expected, case.reference(x=np.abs(case.x), w=np.abs(case.w))))
    y = case.run(method)
    assert_close(y, expected, case.x.dtype)


@given(case=conv_cases(max_size=(600, 48, 12), max_kernel=(40, 12, 5), dtypes=("float32", "float64")))
def test_fft_equals_direct(case):
    """Larger shapes than the reference can afford: FFT tiles, against direct in float64."""
    direct = lambda x, w: CONV[case.nd](x.astype(np.float64), w.astype(np.float64), method="direct",  # noqa: E731
                                        **case.kwargs)
    expected = direct(case.x, case.w)
    assume(well_conditioned(expected, direct(np.abs(case.x), np.abs(case.w))))
    y = case.run("fft")
    assert_close(y, expected, case.x.dtype)


@METHODS
@given(data=st.data())
def test_delta_kernel_gives_the_identity(method, data):
    """A one-tap kernel at tap t reads x[o * s + t * d - pad_before], i.e. a shifted copy."""
    nd = data.draw(st.integers(1, 3), label="nd")
    spatial = [data.draw(st.integers(1, (30, 9, 5)[nd - 1])) for _ in range(nd)]
    kernel = [data.draw(st.integers(1, 5)) for _ in range(nd)]
    dilations = [data.draw(st.integers(1, 3)) for _ in range(nd)]
    strides = [data.draw(st.integers(1, 3)) for _ in range(nd)]
    tap = [data.draw(st.integers(0, k - 1)) for k in kernel]
    padding = data.draw(st.sampled_from(["SAME", "VALID"]), label="padding")
    effs = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    if padding == "VALID":
        spatial = [max(n, e) for n, e in zip(spatial, effs)]
    c = data.draw(st.integers(1, 3), label="channels")
    x = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).standard_normal((2, *spatial, c))
    w = np.zeros((*kernel, c, c))
    w[(*tap, range(c), range(c))] = 1.0  # identity over channels at one tap
    y = CONV[nd](x, w, strides=strides, padding=padding, dilations=dilations, method=method)

    expected = np.zeros(y.shape)
    index = [slice(None)]
    for n, o, s, d, t, e in zip(spatial, y.shape[1:-1], strides, dilations, tap, effs):
        lo = (max((-(-n // s) - 1) * s + e - n, 0) // 2) if padding == "SAME" else 0
        index.append(np.arange(o) * s + t * d - lo)
    grids = np.meshgrid(*index[1:], indexing="ij")
    inside = np.all([(g >= 0) & (g < n) for g, n in zip(grids, spatial)], axis=0)
    clipped = [np.clip(g, 0, n - 1) for g, n in zip(grids, spatial)]
    expected = x[(slice(None), *clipped)] * inside[None, ..., None]
    assert_close(y, expected, np.float64)
    if padding == "SAME" and all(s == 1 for s in strides) and all(k % 2 for k in kernel) \
            and tap == [k // 2 for k in kernel]:
        assert_close(y, x, np.float64)  # the centred delta is exactly the identity


@METHODS
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_centred_delta_under_same_is_the_identity(method, nd):
    rng = np.random.default_rng(nd)
    x = rng.standard_normal((2, *(7, 6, 5)[:nd], 3)).astype(np.float32)
    w = np.zeros((*(5, 3, 3)[:nd], 3, 3), np.float32)
    w[(*(2, 1, 1)[:nd], range(3), range(3))] = 1
    for dilations in (1, 2):
        y = CONV[nd](x, w, padding="SAME", dilations=dilations, method=method)
        assert_close(y, x, np.float32)


def _combination_close(lhs, parts, dtype):
    """``lhs`` equals the linear combination ``sum(a * y)`` of ``parts`` = [(a, y), ...].

    The error is measured against ``sum(|a| ||y||)``, so that cancellation in
    the combination cannot make a correct result look inaccurate.
    """
    rhs = sum(a * y.astype(np.float64) for a, y in parts)
    scale = sum(abs(a) * np.linalg.norm(y.astype(np.float64)) for a, y in parts)
    err = np.linalg.norm(lhs.astype(np.float64) - rhs) / scale if scale else np.linalg.norm(lhs)
    assert err <= tolerance(dtype), f"linearity error {err:.3g} > {tolerance(dtype):.3g}"


@METHODS
@given(case=conv_cases(), a=st.floats(-3, 3).filter(lambda v: abs(v) > 0.1),
       b=st.floats(-3, 3).filter(lambda v: abs(v) > 0.1))
def test_linear_in_the_input(method, case, a, b):
    assume(not case.all_windows_in_padding)
    x2 = np.random.default_rng(1).standard_normal(case.x.shape).astype(case.x.dtype)
    combo = (a * case.x.astype(np.float64) + b * x2).astype(case.x.dtype)
    lhs = CONV[case.nd](combo, case.w, method=method, **case.kwargs)
    parts = [(a, case.run(method)), (b, CONV[case.nd](x2, case.w, method=method, **case.kwargs))]
    # ``combo`` is rounded to the dtype once more than the parts: compare in the dtype's tolerance
    _combination_close(lhs, parts, case.x.dtype)


@METHODS
@given(case=conv_cases(), a=st.floats(-3, 3).filter(lambda v: abs(v) > 0.1),
       b=st.floats(-3, 3).filter(lambda v: abs(v) > 0.1))
def test_linear_in_the_filters(method, case, a, b):
    assume(not case.all_windows_in_padding)
    w2 = np.random.default_rng(2).standard_normal(case.w.shape).astype(case.w.dtype)
    combo = (a * case.w.astype(np.float64) + b * w2).astype(case.w.dtype)
    lhs = CONV[case.nd](case.x, combo, method=method, **case.kwargs)
    parts = [(a, case.run(method)), (b, CONV[case.nd](case.x, w2, method=method, **case.kwargs))]
    _combination_close(lhs, parts, case.w.dtype)


@METHODS
@given(case=conv_cases(flip=False))
def test_flip_is_correlation_with_reversed_kernel(method, case):
    assume(not case.all_windows_in_padding)
    reversed_w = case.w[(slice(None, None, -1),) * case.nd]
    assume(well_conditioned(case.reference(w=reversed_w), case.reference(x=np.abs(case.x), w=np.abs(reversed_w))))
    y_flip = case.run(method, flip=True)
    y_rev = CONV[case.nd](case.x, reversed_w, method=method, **case.kwargs)
    assert_close(y_flip, y_rev, case.x.dtype)
    assert_close(y_flip, case.reference(w=reversed_w), case.x.dtype)
