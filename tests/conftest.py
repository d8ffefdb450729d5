"""Shared fixtures and helpers of the fftconv test suite.

* ``method`` runs a test once per entry of :data:`fftconv.METHODS`, so a newly
  registered method is covered by every test that asks for it;
* ``dtype`` runs a test in float32 and float64;
* :func:`assert_close` applies the spec's tolerances, exactly;
* :func:`ref` is the naive float64 reference (:mod:`fftconv.testing`) called
  with fftconv's arguments: any data_format, any padding form.

``FFTCONV_TEST_REFERENCE_METHOD=1`` registers the naive method of
``tests/reference_method.py`` before any test is collected, so that the
registry-wide tests cover a method they have never heard of
(``tests/test_method_protocol.py`` runs them so).

Hypothesis runs a modest number of examples by default so that the whole suite
stays fast; set ``FFTCONV_HYPOTHESIS_EXAMPLES`` to run more, e.g.
``FFTCONV_HYPOTHESIS_EXAMPLES=1000 pytest tests/test_properties.py``.
"""

from __future__ import annotations

import itertools
import os
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import fftconv
from fftconv.methods.base import Method
from fftconv.testing import reference_conv, relative_error

if os.environ.get("FFTCONV_TEST_REFERENCE_METHOD"):
    import sys

    sys.path.insert(0, os.path.dirname(__file__))
    import reference_method

    reference_method.register()

#: ``--doctest-modules`` (pyproject) would import the fixture script, which needs TensorFlow.
collect_ignore_glob = ["fixtures/*"]

settings.register_profile(
    "fftconv",
    deadline=None,
    max_examples=int(os.environ.get("FFTCONV_HYPOTHESIS_EXAMPLES", "40")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
settings.load_profile("fftconv")

#: Every registered method, in a stable order; new methods are picked up here.
#: The methods that run every convolution (the ``method`` fixture: tests over it need not know which
#: shapes a method can run); the others (:data:`RESTRICTED_METHODS`, whose
#: :meth:`~fftconv.methods.base.Method.unsupported` names shapes they cannot run) are tested where
#: the tests' grids generate the shapes they run (:func:`path_plan`, the TF goldens they can run,
#: and their own modules), never skipped.
METHOD_NAMES = sorted(name for name, m in fftconv.METHODS.items() if type(m).unsupported is Method.unsupported)
RESTRICTED_METHODS = sorted(set(fftconv.METHODS) - set(METHOD_NAMES))

#: The spec's accuracy: relative L2 error against a float64 (complex128) direct reference.
TOLERANCES = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12,
              np.dtype(np.complex64): 1e-5, np.dtype(np.complex128): 1e-12}

#: float16 output is the float32 result rounded to float16. Rounding to nearest
#: moves every normal value by at most half an ulp, 2**-11 of its magnitude, so
#: it adds at most 2**-11 (~4.9e-4) to the relative L2 error; on top comes the
#: float32 computation's own 1e-5. (Values below float16's normal range, 6.1e-5,
#: are rounded to an absolute 2**-25, negligible in an L2 norm of O(1) data.)
FLOAT16_TOLERANCE = 2.0**-11 + 1e-5

TOLERANCES[np.dtype(np.float16)] = FLOAT16_TOLERANCE

SPATIAL_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}
CONV = {1: fftconv.conv1d, 2: fftconv.conv2d, 3: fftconv.conv3d}


@pytest.fixture(params=METHOD_NAMES, ids=[f"method={m}" for m in METHOD_NAMES])
def method(request):
    """Each name in :data:`fftconv.METHODS`."""
    return request.param


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    """float32 and float64, the two precisions the spec gives tolerances for."""
    return np.dtype(request.param)


@pytest.fixture
def rng(request):
    """A generator seeded from the test's id, so every test is reproducible."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


def tolerance(dtype) -> float:
    """The relative L2 tolerance for results of ``dtype`` (spec; float16 see above)."""
    return TOLERANCES[np.dtype(dtype)]


def assert_close(y, ref, dtype, *, check_dtype=True):
    """``y`` has ``ref``'s shape, the output dtype ``dtype``, and is within tolerance.

    The relative L2 error ``||y - ref|| / ||ref||`` must be at most 1e-5 for
    float32 and complex64 and 1e-12 for float64 and complex128 (the spec's
    figures, never loosened) and :data:`FLOAT16_TOLERANCE` for float16 outputs.
    """
    dtype = np.dtype(dtype)
    assert isinstance(y, np.ndarray), f"expected an ndarray, got {type(y).__name__}"
    assert y.shape == np.shape(ref), f"shape {y.shape} != reference shape {np.shape(ref)}"
    if check_dtype:
        assert y.dtype == dtype, f"dtype {y.dtype} != expected {dtype}"
    err = relative_error(y, ref)
    tol = tolerance(dtype)
    assert err <= tol, f"relative L2 error {err:.3g} > {tol:.3g} ({dtype})"


def to_pairs(padding, nd, channels_first=False):
    """Any explicit padding form of fftconv as ``nd`` (before, after) pairs.

    Written independently of :mod:`fftconv._checks`, for the reference.
    """
    if isinstance(padding, str):
        return padding.upper()
    if isinstance(padding, (int, np.integer)):
        return [(int(padding), int(padding))] * nd
    items = [p if np.ndim(p) else (p, p) for p in padding]
    if len(items) == nd + 2:
        items = items[2:] if channels_first else items[1:-1]
    assert len(items) == nd
    return [tuple(int(v) for v in p) for p in items]


def per_axis(value, nd, channels_first=False):
    """An int or 1 / nd / nd + 2 ints as nd ints (for the reference)."""
    values = [int(value)] if np.ndim(value) == 0 else [int(v) for v in value]
    if len(values) == 1:
        return values * nd
    if len(values) == nd + 2:
        return values[2:] if channels_first else values[1:-1]
    return values


def ref(x, w, strides=1, padding="VALID", dilations=1, data_format=None, flip=False,
        padding_mode="constant"):
    """The float64 (complex128) reference for fftconv's arguments, in ``data_format`` order."""
    dtype = np.complex128 if np.iscomplexobj(x) or np.iscomplexobj(w) else np.float64
    x = np.asarray(x, dtype=dtype)
    w = np.asarray(w, dtype=dtype)
    nd = w.ndim - 2
    channels_first = data_format is not None and data_format.startswith("NC")
    if channels_first:
        x = np.moveaxis(x, 1, -1)
    y = reference_conv(x, w, per_axis(strides, nd, channels_first), to_pairs(padding, nd, channels_first),
                       per_axis(dilations, nd, channels_first), flip=flip, padding_mode=padding_mode)
    return np.moveaxis(y, -1, 1) if channels_first else y


def depthwise_as_grouped(w):
    """TF's depthwise ``(kh, kw, C, M)`` filter as the grouped ``(kh, kw, 1, C * M)`` one."""
    w = np.asarray(w)
    return w.reshape(*w.shape[:-2], 1, w.shape[-2] * w.shape[-1])


def random(rng, shape, dtype=np.float64):
    """Standard normal samples of ``shape`` in ``dtype`` (both parts drawn for complex dtypes)."""
    if np.dtype(dtype).kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


# -- every path a convolution can take ------------------------------------------------------

def _paths():
    """``(id, method, option changes)`` for every method, direct strategy, FFT backend and FFT
    layout kind (tiles on each backend, and the circular layout on the default one)."""
    from fftconv import backends
    from fftconv.methods import direct

    paths = []
    for method in METHOD_NAMES:
        if method == "direct":
            paths += [(f"direct-{s}", "direct", {"strategy": s}) for s in direct.STRATEGIES]
        elif method == "fft":
            paths += [(f"fft-{b}", "fft", {"backend": b}) for b in backends.available_backends()]
            paths.append(("fft-circular", "fft", {"layout": "circular"}))  # where the wrap mode allows it
        else:
            paths.append((method, method, {}))
    return paths


#: Every path: the methods of the registry, each direct strategy, the FFT method on each backend,
#: and its circular layout.
PATHS = _paths()


def strategy_fits(strategy, geom) -> bool:
    """Whether a direct strategy can run these shapes (:func:`fftconv.methods.direct.fits`); for
    a complex plan, ``geom`` is the real convolution it runs (``plan.run_geometry``)."""
    from fftconv.methods import direct

    return direct.fits(strategy, geom)


def path_plan(plan, method, changes):
    """``plan`` forced onto one path, or None where the path cannot run its shapes (a method's
    :meth:`~fftconv.methods.base.Method.unsupported` shapes among them)."""
    import dataclasses

    if not plan.geometry.is_empty and fftconv.METHODS[method].unsupported(plan.run_geometry) is not None:
        return None

    plan = dataclasses.replace(plan, method=method, requested=method, backend=changes.get("backend", plan.backend))
    strategy = changes.get("strategy")
    if strategy is not None:
        if not strategy_fits(strategy, plan.run_geometry):
            return None
        plan = dataclasses.replace(plan, settings={**plan.settings, "direct": strategy})
    if changes.get("layout") == "circular":
        from fftconv.methods.fft import circular_layout
        layout = None if plan.geometry.is_empty else circular_layout(plan.run_geometry, plan.embedding == "both")
        if layout is None:
            return None
        plan = dataclasses.replace(plan, settings={**plan.settings, "fft": layout})
    return plan


@pytest.fixture(params=PATHS, ids=[p[0] for p in PATHS])
def path(request):
    """Each path: ``(id, method, option changes)``."""
    return request.param


def _param_id(value) -> str:
    if isinstance(value, tuple) and len(value) == 3 and value in PATHS:
        return value[0]
    if isinstance(value, type) and issubclass(value, np.generic) or isinstance(value, np.dtype):
        return np.dtype(value).name
    if isinstance(value, (tuple, list)):
        return "-".join(_param_id(v) for v in value)
    return str(value)


def grid(runs, **axes):
    """``(names, params)`` for ``@pytest.mark.parametrize(*grid(...))``: the combinations of
    ``axes`` (name -> values, crossed) that ``runs(**combination)`` says can run, and only those.

    A path, strategy or layout that cannot run a combination's shapes makes no test, rather than
    a skipped one: under ``pytest -ra`` a skip then always means that something is missing (an
    optional package, a build feature), never a combination that cannot exist.
    """
    names = list(axes)
    params = [pytest.param(*combo, id="-".join(_param_id(v) for v in combo))
              for combo in itertools.product(*axes.values()) if runs(**dict(zip(names, combo)))]
    assert params, f"no combination of {names} can run"
    return ", ".join(names), params


def owns_its_memory(y) -> bool:
    """``y`` owns its memory and shares none with the scratch buffers fftconv keeps."""
    from fftconv._runtime import scratch as _workspace

    return y.flags.owndata and not any(np.shares_memory(y, b) for b in _workspace.kept_buffers())


def assert_results_owned(run, x1, x2):
    """``run(x1)`` then ``run(x2)``: each result owns its memory, C-contiguous and writeable,
    shares none with the other or with scratch space, and the later call leaves the earlier
    result as it was. Returns both results."""
    y1 = run(x1)
    kept = y1.copy()
    y2 = run(x2)
    np.testing.assert_array_equal(y1, kept)  # the later call did not touch the earlier result
    for y in (y1, y2):
        assert owns_its_memory(y) and y.flags.c_contiguous and y.flags.writeable
    assert not np.shares_memory(y1, y2)
    return y1, y2


def assert_stream_owned(run, frames):
    """A stream of calls: each result owns its memory and survives the later calls."""
    results = [run(f) for f in frames]
    for f, y in zip(frames, results):
        assert owns_its_memory(y)
        np.testing.assert_array_equal(y, run(f))
    assert not np.array_equal(results[0], results[1])
