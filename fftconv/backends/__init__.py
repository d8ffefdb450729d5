"""FFT backends behind one small interface.

A backend is an object with ``name``, ``batch_first``, ``strided`` and five methods::

    rfftn(a, axes, workers, shape=None, out=None) -> complex ndarray  # ``a`` zero-padded to ``shape``
    irfftn(a, shape, axes, workers, out=None, keep=None) -> real ndarray  # may overwrite ``a``
    fftn(a, axes, workers, shape=None, out=None) -> complex ndarray  # complex to complex, forward
    ifftn(a, axes, workers, out=None, keep=None) -> complex ndarray  # its inverse; may overwrite ``a``
    extra_bytes(operand, result, *, padded=0, first_pass=0) -> int  # transient memory, for plan.peak_bytes

``fftn`` and ``ifftn`` are the complex-to-complex pair (the FFT method runs
them for complex inputs with complex filters); they follow the rules below
as ``rfftn`` and ``irfftn`` do, every axis at its full length.  Forward
transforms are not scaled, inverse ones are divided by the transformed size.

``irfftn`` is always handed a buffer that fftconv owns, so a backend whose
complex-to-real transform destroys its input (FFTW's) is safe.  ``rfftn``
with ``shape`` transforms ``a`` zero-padded (or cut) to ``shape`` along
``axes``, as :func:`scipy.fft.rfftn` does with ``s``; a backend may prune the
transforms of the padding (the scipy backend does), which is how the FFT
method transforms small kernels into large tiles.  With ``out``, an array
of exactly the result's shape and dtype, writeable, C-contiguous and apart
from ``a`` (else ValueError: :func:`fftconv._runtime.arrays.check_out`),
the result is written there and ``out`` is returned: the FFT method passes
scratch memory that it keeps between calls (see :mod:`fftconv._runtime.scratch`).
``extra_bytes`` says how many bytes a transform allocates beyond its operand
and result (for a zero-padded one: ``padded`` bytes once padded, and
``first_pass`` bytes for the first pass of a transform pruned to the
kernel's rows), so that :attr:`fftconv.ConvPlan.peak_bytes` can bound a
call's memory.
``irfftn``'s (and ``ifftn``'s) ``keep``, one length per axis but the last of ``axes``, says
that only the leading ``keep`` entries along those axes will be read: a
backend may leave the rest of the result unspecified (the scipy backend
then runs its last pass over the kept rows only; overlap-save keeps the
first ``tile`` outputs of each FFT length).  ``batch_first`` says which
tile layout the backend runs fastest (see
:func:`fftconv.methods.fft.batch_first`).  ``strided`` says that it reads
``a`` and writes ``out`` through any strides at no extra cost (``out`` then
need not be C-contiguous): the FFT method hands it tiles as strided views
of the input rather than copies, and has its inverse write in the output's
memory order.  Backends are kept in
:data:`BACKENDS`; :func:`get_backend` resolves a name.

``scipy`` is always registered: it is the fallback.  ``ducc0`` and ``pyfftw``
are registered where their modules import, unless the environment variable
``FFTCONV_DISABLE`` names them (:mod:`fftconv._runtime.switches`, read once at
import): ``FFTCONV_DISABLE=ducc0`` runs a process on the fallback, as CI does.
"""

from __future__ import annotations

from fftconv._runtime.switches import DISABLED
from fftconv.backends import _ducc0, _pyfftw
from fftconv.backends._scipy import ScipyBackend

BACKENDS = {"scipy": ScipyBackend()}
# registered where their imports work (both are dependencies), unless FFTCONV_DISABLE names them
if _pyfftw.HAVE_PYFFTW and "pyfftw" not in DISABLED:
    BACKENDS["pyfftw"] = _pyfftw.PyFFTWBackend()
if _ducc0.HAVE_DUCC0 and "ducc0" not in DISABLED:
    BACKENDS["ducc0"] = _ducc0.Ducc0Backend()
#: The backend the cost model is fitted on, and that calibrated ratios are relative to.
REFERENCE_BACKEND = "scipy"
#: What ``backend="auto"`` runs when no calibration says otherwise: a backend
#: with no planning step (FFTW's measured plans cost 0.1-3 s per new transform
#: shape, on a user's first call), the faster one where both are installed.
#: Side by side on the development machine (2026-11-30, float32, 2 threads, the
#: FFT method end to end, ``python benchmarks/bench_engine.py --sections layers``),
#: ducc0 ran eight large-kernel layers in 0.63-0.82 of scipy's time, and pyFFTW
#: in 0.75-1.39 of it (geometric mean 1.16).
DEFAULT_BACKEND = "ducc0" if "ducc0" in BACKENDS else "scipy"

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "REFERENCE_BACKEND", "get_backend", "available_backends"]


def available_backends() -> tuple[str, ...]:
    """Names of the backends that can run here."""
    return tuple(BACKENDS)


def get_backend(name: str = DEFAULT_BACKEND):
    """Return the backend registered as ``name`` (``"auto"`` is resolved by the planner)."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(
            f"`backend` must be one of {', '.join(map(repr, tuple(BACKENDS)))}; got {name!r}"
        ) from None
