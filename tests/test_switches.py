"""``FFTCONV_DISABLE``: a process runs on the fallbacks (scipy.fft, numpy's taps) when told to.

ducc0 and numba are dependencies; CI runs the suite a second time with
``FFTCONV_DISABLE=ducc0,numba`` so that the fallbacks stay tested. These tests
check the switch itself, in fresh processes (it is read once, at import).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fftconv._runtime.switches import ENV_VAR, PARTS, disabled_parts

PROBE = textwrap.dedent("""
    import json, warnings
    warnings.simplefilter("error")  # a warning at import fails the probe, unless it is expected
    import numpy as np, fftconv
    from fftconv.backends import DEFAULT_BACKEND, available_backends
    from fftconv.methods import direct
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 20, 20, 8)).astype(np.float32)
    w = rng.standard_normal((5, 5, 8, 1)).astype(np.float32)
    plans = {m: fftconv.plan_conv2d(x.shape, (5, 5, 1, 8), groups=8, method=m) for m in ("direct", "fft")}
    ys = {m: fftconv.depthwise_conv2d(x, w, method=m).tolist() for m in ("direct", "fft")}
    print(json.dumps(dict(backends=list(available_backends()), default=DEFAULT_BACKEND,
                          strategies=list(direct.STRATEGIES), ys=ys,
                          ran=dict(direct=plans["direct"].settings["direct"], fft=plans["fft"].backend))))
""")


def _probe(value):
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    if value is not None:
        env[ENV_VAR] = value
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _reference(x, w):
    """Depthwise VALID correlation in float64, by loops over the taps."""
    kh, kw = w.shape[:2]
    out = np.zeros((x.shape[0], x.shape[1] - kh + 1, x.shape[2] - kw + 1, x.shape[3]))
    for i in range(kh):
        for j in range(kw):
            out += x[:, i:i + out.shape[1], j:j + out.shape[2]].astype(np.float64) * w[i, j, :, 0]
    return out


def test_the_parts_named_run_on_their_fallbacks():
    installed, fallback = _probe(None), _probe("ducc0, numba")
    assert installed["default"] == "ducc0" and "compiled" in installed["strategies"]
    assert installed["ran"] == {"direct": "compiled", "fft": "ducc0"}
    assert "ducc0" not in fallback["backends"] and fallback["default"] == "scipy"
    assert "compiled" not in fallback["strategies"]
    assert fallback["ran"] == {"direct": "taps", "fft": "scipy"}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 20, 20, 8)).astype(np.float32)
    w = rng.standard_normal((5, 5, 8, 1)).astype(np.float32)
    expected = _reference(x, w)
    for result in (installed, fallback):
        for y in result["ys"].values():
            err = np.linalg.norm(np.asarray(y) - expected) / np.linalg.norm(expected)
            assert err < 1e-5


def test_pyfftw_can_be_turned_off_too():
    assert "pyfftw" not in _probe("pyfftw")["backends"]


@pytest.mark.parametrize("value, expected", [("", set()), ("ducc0", {"ducc0"}), (" NumBa ,ducc0,", {"numba", "ducc0"}),
                                             (",".join(PARTS), set(PARTS))])
def test_the_list_is_read_leniently(value, expected):
    assert disabled_parts(value) == frozenset(expected)


def test_an_unknown_name_warns_and_lists_the_known_ones():
    with pytest.warns(RuntimeWarning, match=r"FFTCONV_DISABLE names 'fftw'.*'ducc0', 'numba', 'pyfftw'"):
        assert disabled_parts("fftw,numba") == {"numba"}
