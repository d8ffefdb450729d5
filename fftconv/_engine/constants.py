"""The cost model's constants, and the calibration file that overrides them.

This module sits below the planner: it reads and validates, never measures.
Fitting the constants lives at the edge, in :mod:`fftconv.calibration`
(``fftconv calibrate``), beside the command line.

The file is JSON (never pickle): ``$FFTCONV_CALIBRATION`` if that is set,
else ``<user cache dir>/fftconv/calibration.json``.  A missing file means the
shipped :data:`DEFAULT_CONSTANTS`; a corrupt or hostile one a
:class:`RuntimeWarning` and the defaults.  ``FFTCONV_CALIBRATION=none`` makes
one process ignore any file.  :func:`calibration_in_force` says which
constants a process plans with; ``print(plan)`` and ``fftconv info`` show it.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from pathlib import Path

from fftconv._runtime.cache import ENV_VAR, IGNORE, calibration_path

__all__ = ["DEFAULT_CONSTANTS", "ENV_VAR", "IGNORE", "BACKEND_MARGIN", "calibration_path",
           "load_constants", "backend_ratios", "preferred_backend", "calibration_in_force",
           "validate_constants", "validate_backend_ratios", "clear_loaded"]

#: Cost-model constants, all in seconds or per-second rates for float32
#: (float64 halves the flop rates and doubles the bytes).
#:
#: Fitted on the development machine (2-core x86-64 VM, 24 GiB, OpenBLAS 0.3.31
#: via numpy 2.4, scipy 1.17 pocketfft, 2 workers) on 2026-11-21 with
#: :func:`fftconv.calibration.calibrate` (``fftconv calibrate``): 48 timings
#: (16 shapes of :data:`fftconv.calibration.GRID`, direct and two FFT tilings
#: each), fitted by least squares on log-time. The fit's RMS error of
#: ``log(predicted / measured)`` was 0.29 (predictions within about 1.34x);
#: the worst points were the 21x21 direct method on 32 channels (predicted
#: 2.2x too fast) and 3x3 direct on 16 channels (2.4x too fast). Refits on
#: the same machine varied (RMS 0.29-0.48): it is a shared VM, and several
#: constants end at the fit's bounds (a factor 30 from their start), so read
#: them as the model's knobs rather than as physical rates.
DEFAULT_CONSTANTS = {
    "gemm_flops": 2.128e11,     # peak real GEMM rate (float32, all workers)
    "gemm_half_k": 8.51,        # contraction length at which GEMM runs at half rate
    "gemm_half_n": 6.492,       # output width at which GEMM runs at half rate
    "cgemm_flops": 1.814e10,    # peak rate of the per-frequency complex GEMMs
    "cgemm_half_m": 0.2667,     # tiles per GEMM at which it runs at half rate
    "cgemm_call": 1.593e-7,     # seconds of overhead per per-frequency GEMM call
    "elementwise_flops": 1.489e10,  # multiply-adds per second of numpy elementwise loops
    "bandwidth": 6.03e10,       # bytes per second of numpy copies (mostly in cache)
    "fft_flops": 1.04e10,       # "flops" (2.5 n log2 n per complex transform) per second
    # seconds per 1-D line of a batched transform. The fit above left it at 1e-9: calibrate's
    # grid has no layer of many small transforms. Set on 2026-12-07 (issue 25) from ducc0's
    # transforms alone, r2c + c2r of 16^2-512^2 on batches of 1-4 MiB, one thread (a fit of both
    # terms in scipy's frame gave 12-14 ns per line, with the flop rate 1.4-1.8x below the
    # shipped one), and from the FFT method's own transforms, whose excess over the flop term
    # came to 10-120 ns per line (median ~30): depthwise 7x7 on 8x56x56x96 ran 2x the direct
    # method's time, where 1e-9 predicted 0.73x
    "fft_line_overhead": 2e-8,
    # the compiled loops (numba, fftconv.methods._compiled.seconds), in the frame of the fitted
    # FFT rates: fitted on 2026-12-07 (issue 27) to the FFT method's predicted seconds times the
    # measured direct/FFT ratio, side by side, on 8 shapes (1024^2 and 512^2 images, 7x7-15x15;
    # depthwise 4x56x56x128 7x7/15x15, 1x64x64x32 31x31, 8x28x28x256 5x5; loaded 2-core machine),
    # RMS log error 0.42 (depthwise worst: 7x7 predicted 2x slow, 31x31 on 32 channels 2.3x fast).
    # That fit gave compiled_flops 1.49e11 (the FFT model is optimistic on 1024^2 images, 2-3x),
    # then lowered to 9.5e10 so that 256^2 images at stride 2 crossed over to the FFT near 25-31
    # taps, as measured: a stand-in for the pass term below, which the model lacked. Refitted on
    # 2026-12-07 (issue 25) with that term, the same way (conv2d's direct and FFT methods side by
    # side, 2 workers, two runs on a shared machine, load 1-2) on 252 single-channel SAME images,
    # 128^2-2048^2, kernels 9-61, strides 1-3: RMS log error 0.25 against 0.38 for the previous
    # model, which was 1.2x pessimistic at stride 1 (1.5x from 1024^2) and 1.1-1.2x optimistic at
    # strides 2-3 (up to 3x at 128^2 with kernels of 41 and more). Alone, the single-channel loop
    # ran 10-30 multiply-adds per ns per core (see compiled_pass_overhead), the channel loop 6-11.
    # Checked on the 1424 layers of a plan sweep (depthwise layers of 1-8 channels and with
    # multipliers, images of 256^2-4096^2 to 1 or 4 outputs), the 98 whose plan changed timed
    # side by side (2 workers, shared machine, minimum of 5-15 interleaved runs): the previous
    # plans' regret geometric mean 1.53 (maximum 4.21), these 1.01 (1.27; 86 of 98 the faster)
    "compiled_flops": 1.6e11,
    # seconds per pass of the compiled row loop over one block of an output row (up to nine taps
    # over up to 2048 outputs): its set-up and the vector loop's remainder. Timed alone on one
    # thread, the loop ran 10 multiply-adds per ns on rows of 64 outputs, 15 on 128, 20 on 256,
    # 25 on 512 and 30 on 2048, within 10-15% whatever the stride (a stride's rows are narrower:
    # a 256^2 image at stride 2 runs 128-wide rows): about 40 ns per pass and row alone; 24-28 ns
    # in the fit above
    "compiled_pass_overhead": 2.4e-8,
    # the loop along the channels of a depthwise layer (16 channels and more): refitted on
    # 2026-12-07 (issue 27: register blocks of 4 outputs, the pads skipped) the same way, from
    # side-by-side direct/FFT timings of 20 depthwise shapes (4x56x56x128 SAME 3x3-15x15 at
    # strides 1 and 2, 8x56x56x96 7x7 VALID, 8x28x28x256 5x5, 16x14x14x512 3x3, 1x112x112x32
    # 3x3, 8x56x56x64 21x21, 32 channels at 15x15 and 31x31; 2 threads, loaded 2-core machine),
    # with a fixed cost per pass and a stride factor (fftconv.methods._compiled.CHANNEL_PASS_COST,
    # CHANNEL_STRIDE_EXPONENT): RMS log error 0.38 on the 14 stride-1 shapes (worst: 8x28x28x256
    # 5x5 predicted 1.9x slow, 1x112x112x32 3x3 2.3x fast). The old figure (2.46e10, no pass
    # cost) overpredicted the new loop 3.4x at stride 1. That fit gave 1.02e11; raised to 1.2e11
    # because the loop then took the edge outputs into its blocks (SAME 11x11-15x15 ~15% faster)
    # and one-thread CPU-time ratios afterwards (4x56x56x128 SAME 7x7-15x15, stride 1) still put
    # the direct method 1.3-1.7x below this model against the FFT's. The loop itself ran 10-21
    # GMAC/s per core (CPU time, one thread), torch's depthwise kernel 19-33
    "compiled_channel_flops": 1.2e11,
    # the compiled 1-D passes (the direct method's "lines" strategy, numba), in the same frame: set
    # from side-by-side timings against the FFT method (see fftconv.methods._lines)
    "lines_flops": 8.0e10,
    # grouped im2col: its GEMMs and gathers take (1 + grouped_thin_n / (C_out/G)) times the dense
    # model's figure (measured on 14 grouped layers, 2026-11-30, against the FFT method side by
    # side: 2.3x at 4 outputs per group, 1.3-2x at 8, 1.0x from 16; not fitted by calibrate's grid)
    "grouped_thin_n": 5.0,
    # fixed seconds per call, per method (fitted). Measured on 2026-11-30 on tiny problems
    # (repeated calls, 8x8 images and 64-sample signals, SAME): the direct method 60-110 us for
    # 1-D signals ("rows") and 230-320 us in 2-D (the padded copy, per-tap numpy calls); the FFT
    # method 280-590 us. Within the fit's spread of these figures, so the fitted values stand.
    "call_overhead": 2.428e-4,  # fixed seconds per call of the direct method
    "fft_call_overhead": 3.156e-4,  # fixed seconds per call of the FFT method (1.3x: tiles, guards)
}

#: The FFT method's time on each backend over its time on scipy's (the backend the
#: constants are fitted on), geometric mean over the eight large-kernel layers of
#: ``python benchmarks/bench_engine.py --sections layers`` on the development machine,
#: 2026-11-30: ducc0 0.63-0.82 (0.74), pyFFTW 0.75-1.39 (1.16).
DEFAULT_BACKEND_RATIOS = {"scipy": 1.0, "ducc0": 0.74, "pyfftw": 1.16}

#: ``backend="auto"`` leaves scipy for a backend calibrated to take at most this
#: fraction of scipy's time: FFTW's measured planning costs 0.1-1 s per new shape.
BACKEND_MARGIN = 0.9


def load_constants(path=None) -> dict:
    """The cost-model constants in force: the defaults, overridden by a valid file.

    Each process reads a file at most once (see :func:`clear_loaded`).
    """
    return dict(_load(_key(path))[0])


def backend_ratios(path=None) -> dict:
    """Seconds of the FFT method on each backend over those on scipy's: the calibrated ones
    where a calibration file has them, else :data:`DEFAULT_BACKEND_RATIOS`."""
    calibrated = dict(_load(_key(path))[1])
    return calibrated or dict(DEFAULT_BACKEND_RATIOS)


def calibration_in_force(path=None) -> str:
    """One line saying which constants the planner uses in this process.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> from fftconv._engine.constants import calibration_in_force
    >>> with mock.patch.dict(os.environ, {"FFTCONV_CALIBRATION": "none"}):
    ...     calibration_in_force()
    'shipped defaults (FFTCONV_CALIBRATION=none)'
    """
    key = _key(path)
    if key is None:
        return f"shipped defaults ({ENV_VAR}={IGNORE})"
    status = _load(key)[2]
    return f"{status} {key}" if status != "absent" else f"shipped defaults (no file at {key})"


def preferred_backend(available, default="scipy", path=None) -> str:
    """What ``backend="auto"`` runs without measuring: ``default``, unless the calibration
    timed it and found another available backend at least ``1 / BACKEND_MARGIN`` times faster.
    """
    ratios = {name: r for name, r in backend_ratios(path).items() if name in available}
    if default not in ratios:
        return default
    fastest = min(ratios, key=ratios.get)
    return fastest if ratios[fastest] <= BACKEND_MARGIN * ratios[default] else default


def _key(path):
    if path is not None:
        return str(path)
    found = calibration_path()
    return None if found is None else str(found)


@functools.lru_cache(maxsize=8)
def _load(path) -> tuple:
    """``(constants, ratios, status)`` for a file path (None: ignored), status one of
    ``"absent"``, ``"calibrated from"`` or ``"invalid, ignored:"``."""
    constants, ratios = dict(DEFAULT_CONSTANTS), {}
    if path is None or not Path(path).exists():
        return tuple(constants.items()), (), "absent"
    try:
        data = json.loads(Path(path).read_text())
        data = data if isinstance(data, dict) else {}
        constants.update(validate_constants(data.get("constants")))
        ratios = validate_backend_ratios(data.get("backends", {}))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        warnings.warn(f"ignoring the fftconv calibration file {path}: {exc}; using the shipped "
                      f"defaults", RuntimeWarning, stacklevel=4)
        return tuple(DEFAULT_CONSTANTS.items()), (), "invalid, ignored:"
    return tuple(constants.items()), tuple(ratios.items()), "calibrated from"


def validate_constants(data) -> dict:
    """Check a decoded calibration: known names, positive finite numbers only."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object with a 'constants' mapping")
    out = {}
    for key, value in data.items():
        if key not in DEFAULT_CONSTANTS:
            raise ValueError(f"unknown constant {key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                math.isfinite(value) and value > 0):
            raise ValueError(f"constant {key!r} must be a positive finite number; got {value!r}")
        out[key] = float(value)
    return out


def validate_backend_ratios(data) -> dict:
    """Check decoded backend timings: backend names to positive finite numbers."""
    if not isinstance(data, dict):
        raise ValueError("expected 'backends' to map backend names to numbers")
    for key, value in data.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not (math.isfinite(value) and value > 0):
            raise ValueError(f"backend ratio {key!r} must be a positive finite number; got {value!r}")
    return {key: float(value) for key, value in data.items()}


def clear_loaded() -> None:
    """Forget the files read so far (the plans made with them are the planner's to drop)."""
    _load.cache_clear()
