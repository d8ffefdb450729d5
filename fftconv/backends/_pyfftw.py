"""FFTW through pyFFTW: plans in a bounded LRU, measured ones from persistent wisdom.

:class:`PyFFTWBackend` has the interface of every fftconv backend
(``name``, ``batch_first``, ``rfftn``, ``irfftn``, ``fftn``, ``ifftn``).  Each distinct problem --
shape, strides, dtype, axes, alignments, threads and calling thread -- gets
one :class:`pyfftw.FFTW` plan, kept in a least-recently-used cache.  The
calling thread is in the key because one plan object must not run on two
threads at once.

Planning never lands on a user's call.  ``FFTW_MEASURE`` plans cost
0.1-3 s per new problem on the development machine, while ``FFTW_ESTIMATE``
plans cost under a millisecond and ran within about 1.1x of measured ones
at most sizes there.  So by default (``planning="wisdom"``) a problem is
planned at ``planner_effort`` only where FFTW's wisdom already knows it
(``FFTW_WISDOM_ONLY``: instant), and estimated otherwise; measured wisdom is
made on request, by a backend created with ``planning="always"`` (as
``fftconv calibrate`` does) and kept by :func:`save_wisdom`.

Threads: a batch of transforms with ``workers > 1`` is cut along its
outermost batch axes (adjacent ones taken as one) into up to ``workers``
pieces, each run by a single-threaded plan, one on the calling thread and
the others on a module-wide pool of persistent threads (pyFFTW releases the
GIL while FFTW runs).  FFTW's own threads are used only for a lone large
transform: where its threaded planning runs over the time limit, FFTW falls
back to estimated plans, and for some batches (64 x 32 transforms of
27 x 27) those ran 1000x slower than one thread.  Small problems run on one
thread.

Rules that keep it safe:

* FFTW's planner is not thread-safe: plan creation and wisdom import/export
  happen under one module lock (:data:`PLANNER_LOCK`);
* planning with ``FFTW_MEASURE`` overwrites its arrays, so plans are made on
  scratch buffers, never on a caller's data;
* the forward transforms (r2c, c2c) preserve their input; only the
  inverses (c2r, and c2c backward), which fftconv always hands a buffer it
  owns, are planned with ``FFTW_DESTROY_INPUT``;
* a call returns the caller's ``out`` when given one, else a freshly
  allocated, 64-byte aligned output; a plan keeps no reference to a
  caller's arrays between calls.

Wisdom is read from ``fftw_wisdom.json`` next to the calibration file (see
:func:`fftconv._runtime.cache.calibration_path`) the first time a plan is made,
and written by :func:`save_wisdom` (fftconv never writes it by itself).  The file is JSON holding FFTW's own
wisdom text; it is validated on load and a corrupt or hostile file is ignored
with a warning.

The module imports without pyFFTW (:data:`HAVE_PYFFTW` is then False), so
that fftconv only registers the backend where pyFFTW is installed.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import sys
import tempfile
import threading
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np

from fftconv._runtime.threads import resolve_workers
from fftconv._runtime.cache import cache_dir
from fftconv._runtime.arrays import (COMPLEX_TO_REAL, REAL_TO_COMPLEX, check_out, complex_dtype, real_dtype, resized,
                       spectrum_shape)

#: OpenMP settings that, if the user sets any, fftconv leaves alone.
_OPENMP_WAIT_VARS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def _import_pyfftw():
    """Import pyFFTW, its OpenMP threads sleeping (not spinning) while they wait.

    pyFFTW's wheels run FFTW's threads on a private copy of libgomp, whose
    threads by default spin after each parallel region.  When other work
    competes for the CPUs (a loaded machine, fftconv called from several
    threads) the spinning costs 20-40 ms per threaded transform, 100x the
    transform itself.  libgomp reads ``OMP_WAIT_POLICY`` once, when it is
    loaded, so it is set to ``PASSIVE`` for the duration of the import only,
    unless the user has chosen a policy (or pyFFTW is already imported).
    """
    if "pyfftw" in sys.modules or any(var in os.environ for var in _OPENMP_WAIT_VARS):
        import pyfftw
        return pyfftw
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        import pyfftw
    finally:
        del os.environ["OMP_WAIT_POLICY"]
    return pyfftw


def _find_pyfftw() -> bool:
    """Whether pyFFTW is installed, found without importing it.

    Importing pyFFTW imports its dask interface whenever dask is installed,
    so the import waits for the first transform: ``import fftconv`` stays light.
    """
    if "pyfftw" in sys.modules:
        return sys.modules["pyfftw"] is not None
    try:
        return importlib.util.find_spec("pyfftw") is not None
    except (ImportError, ValueError):
        return False


_pyfftw_module = None


def _lib():
    """The pyFFTW module, imported on first use."""
    global _pyfftw_module
    if _pyfftw_module is None:
        _pyfftw_module = _import_pyfftw()
    return _pyfftw_module


#: Whether pyFFTW is installed; fftconv registers the backend only then.
HAVE_PYFFTW = _find_pyfftw()

#: Guards FFTW's planner: plan creation and wisdom import/export.
PLANNER_LOCK = threading.Lock()

#: The wisdom file's name, in the directory of the calibration file.
WISDOM_FILENAME = "fftw_wisdom.json"

PLANNER_EFFORTS = ("FFTW_ESTIMATE", "FFTW_MEASURE", "FFTW_PATIENT", "FFTW_EXHAUSTIVE")
#: How new problems are planned: see :class:`PyFFTWBackend`.
PLANNING = ("wisdom", "always")

_WISDOM_FORMAT = "fftconv-fftw-wisdom"
_WISDOM_VERSION = 1
_PRECISIONS = ("double", "single", "longdouble")  # _lib().export_wisdom()'s order
_WISDOM_TEXT = re.compile(r"[A-Za-z0-9_#().\- \n]*")
_MAX_WISDOM_BYTES = 8 * 2**20
_ALIGN = 64  # bytes: outputs start on this boundary
#: FFTW's SIMD codelets need 16-byte alignment, also with AVX and AVX-512
#: (``ALIGNMENTA`` in FFTW's simd-common.h): plans are made for, and
#: inputs copied to, 16-byte boundaries.  Scratch inputs for planning sit
#: 16 bytes past a 64-byte boundary, so that pyFFTW cannot demand more.
_FFTW_ALIGN = 16
#: Problems of fewer real elements run on one thread: handing work to another
#: thread costs 30-50 us (FFTW's threads or the pool's), as much as such a transform.
_MIN_PARALLEL = 2**16
#: Plans kept by default: this many for each thread that may run them
#: (calling threads and the pool's :func:`os.cpu_count` threads).
_PLANS_PER_THREAD = 32
_wisdom_loaded = False


# -- wisdom -------------------------------------------------------------------

def wisdom_path() -> Path:
    """Where FFTW wisdom is read from and written to.

    It sits next to the calibration file, so ``$FFTCONV_CALIBRATION`` moves
    both.

    Examples
    --------
    >>> from fftconv.backends._pyfftw import wisdom_path
    >>> wisdom_path().name
    'fftw_wisdom.json'
    """
    return cache_dir() / WISDOM_FILENAME


def load_wisdom(path=None) -> bool:
    """Import FFTW wisdom from a file written by :func:`save_wisdom`.

    This happens by itself the first time the backend makes a plan; call it
    to import another file.  A corrupt, hostile or foreign file is ignored
    with a :class:`RuntimeWarning`; a missing file is silently ignored.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The file; by default :func:`wisdom_path`.

    Returns
    -------
    bool
        True if FFTW accepted wisdom from the file.
    """
    _require_pyfftw()
    with PLANNER_LOCK:
        return _load_wisdom_locked(Path(path) if path is not None else wisdom_path())


def save_wisdom(path=None) -> Path:
    """Export the wisdom FFTW has gathered in this process (and imported) to a file.

    The write is atomic: a reader never sees a half-written file.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The file; by default :func:`wisdom_path`.  Its directory is created.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    _require_pyfftw()
    path = Path(path) if path is not None else wisdom_path()
    with PLANNER_LOCK:
        wisdom = _lib().export_wisdom()
    text = json.dumps({"format": _WISDOM_FORMAT, "version": _WISDOM_VERSION,
                       "fftw": dict(zip(_PRECISIONS, (w.decode("ascii") for w in wisdom)))})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def parse_wisdom(text: str) -> tuple[bytes, bytes, bytes]:
    """Validate the text of a wisdom file; return the wisdom for :func:`pyfftw.import_wisdom`.

    Raises
    ------
    ValueError
        If the text is not the JSON that :func:`save_wisdom` writes, or a
        wisdom string holds anything but FFTW's own wisdom syntax.
    """
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != _WISDOM_FORMAT:
        raise ValueError(f"expected a JSON object with \"format\": \"{_WISDOM_FORMAT}\"")
    if data.get("version") != _WISDOM_VERSION:
        raise ValueError(f"unsupported version {data.get('version')!r}; expected {_WISDOM_VERSION}")
    fftw = data.get("fftw")
    if not isinstance(fftw, dict) or set(fftw) != set(_PRECISIONS):
        raise ValueError(f"\"fftw\" must map exactly {', '.join(_PRECISIONS)} to wisdom text")
    return tuple(_check_wisdom_text(name, fftw[name]) for name in _PRECISIONS)


def _check_wisdom_text(name: str, text) -> bytes:
    """One precision's wisdom: empty, or ``(fftw-3...)`` in FFTW's character set."""
    if not isinstance(text, str):
        raise ValueError(f"{name} wisdom must be a string; got {type(text).__name__}")
    if text and not (text.startswith("(fftw-3") and text.rstrip().endswith(")")):
        raise ValueError(f"{name} wisdom does not look like FFTW wisdom: {text[:40]!r}")
    if not _WISDOM_TEXT.fullmatch(text):
        raise ValueError(f"{name} wisdom holds characters FFTW wisdom never contains")
    return text.encode("ascii")


def _load_wisdom_locked(path: Path) -> bool:
    """Read, validate and import ``path``; the caller holds :data:`PLANNER_LOCK`."""
    global _wisdom_loaded
    _wisdom_loaded = True
    try:
        if path.stat().st_size > _MAX_WISDOM_BYTES:
            raise ValueError(f"larger than {_MAX_WISDOM_BYTES} bytes")
        wisdom = parse_wisdom(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError included
        warnings.warn(f"ignoring the FFTW wisdom file {path}: {exc}", RuntimeWarning, stacklevel=3)
        return False
    accepted = _lib().import_wisdom(wisdom)
    rejected = [name for name, w, ok in zip(_PRECISIONS, wisdom, accepted) if w and not ok]
    if rejected:
        warnings.warn(f"FFTW rejected the {' and '.join(rejected)} wisdom in {path} "
                      f"(corrupt, or from another FFTW version); planning afresh",
                      RuntimeWarning, stacklevel=3)
    return any(accepted)


def _require_pyfftw():
    if not HAVE_PYFFTW:
        raise ImportError("the pyfftw backend needs pyFFTW: pip install pyfftw "
                          "(fftconv's 'scipy' backend works without it)")


# -- threads ------------------------------------------------------------------

_pool = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """The threads that run pieces of batched transforms, started on first use.

    The threads live as long as the process (or until a fork), so the plans
    cached for each of them keep being used.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="fftconv-fftw")
        return _pool


def _forget_pool():
    """In a forked child: the parent's pool threads do not exist there."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _split(a: np.ndarray, out: np.ndarray, axes, workers: int):
    """``a`` and ``out`` cut for up to ``workers`` threads: ``(axes, [(a_i, out_i), ...])``, or None.

    Adjacent batch axes are first made one (both arrays are C-contiguous, so
    these are views), so that the pieces come out even; then the outermost
    batch axis is cut that can be cut in two or more pieces with every piece
    of ``a`` and of ``out`` as far from a 16-byte boundary as the whole
    array, so that one plan fits every piece.  All pieces but the last have
    the same length; ``axes`` are the transformed axes of the pieces.
    """
    a, out, axes = _merged(a, out, axes)
    for axis in range(a.ndim):
        n = a.shape[axis]
        if axis in axes or n < 2:
            continue
        step = math.lcm(*(_FFTW_ALIGN // math.gcd(x.strides[axis], _FFTW_ALIGN) for x in (a, out)))
        per_piece = -(-n // min(workers, n))
        length = -(-per_piece // step) * step  # rounded up to a multiple of `step`
        if length < n:
            cuts = [(slice(None),) * axis + (slice(i, i + length),) for i in range(0, n, length)]
            return axes, [(a[cut], out[cut]) for cut in cuts]
    return None


def _merged(a: np.ndarray, out: np.ndarray, axes):
    """C-contiguous ``a`` and ``out`` with each run of adjacent axes not in ``axes`` made one.

    Returns the two views and the positions of ``axes`` in them.
    """
    groups = []
    for axis in range(a.ndim):
        if groups and axis not in axes and groups[-1][-1] not in axes:
            groups[-1].append(axis)
        else:
            groups.append([axis])
    position = {group[0]: i for i, group in enumerate(groups)}
    a, out = (x.reshape([math.prod(x.shape[i] for i in group) for group in groups]) for x in (a, out))
    return a, out, tuple(position[axis] for axis in axes)


# -- buffers --------------------------------------------------------------------

def _raw(nbytes: int, offset: int) -> np.ndarray:
    """``nbytes`` of fresh memory starting ``offset`` bytes past a 64-byte boundary."""
    return _lib().empty_aligned(offset + nbytes, dtype=np.uint8, n=_ALIGN)[offset:]


def _empty(shape, dtype, offset=0) -> np.ndarray:
    """A new C-ordered array starting ``offset`` bytes past a 64-byte boundary."""
    dtype = np.dtype(dtype)
    return _raw(math.prod(shape) * dtype.itemsize, offset).view(dtype).reshape(shape)


def _like(shape, strides, dtype, offset, nbytes) -> np.ndarray:
    """An array of exactly ``shape`` and ``strides`` over ``nbytes`` of fresh memory.

    With ``nbytes`` smaller than the span of the strides, the result is a
    placeholder that must never be read or written (see :class:`_Plan`).
    """
    dtype = np.dtype(dtype)
    base = _raw(max(nbytes, dtype.itemsize), offset)[:dtype.itemsize].view(dtype)
    return np.lib.stride_tricks.as_strided(base, shape=shape, strides=strides)


def _span(x: np.ndarray) -> int:
    """Bytes from the first element of ``x`` to the end of its last (strides not negative)."""
    return sum((n - 1) * s for n, s in zip(x.shape, x.strides)) + x.itemsize


def _scratch_like(x: np.ndarray) -> np.ndarray:
    """Fresh memory laid out like ``x``, as far past a 16-byte boundary (16 past 64 bytes)."""
    return _like(x.shape, x.strides, x.dtype, _FFTW_ALIGN + x.ctypes.data % _FFTW_ALIGN, _span(x))


def _output(out, a: np.ndarray, shape, dtype) -> np.ndarray:
    """The caller's ``out``, checked to take a result of ``shape`` and ``dtype``, or a new array."""
    return _empty(shape, dtype) if out is None else check_out(out, a, shape, dtype)


def _operand(a: np.ndarray, dtype, writeable: bool) -> np.ndarray:
    """``a`` itself if FFTW can use it as it is, else an aligned C-ordered copy."""
    usable = (a.dtype == dtype and a.flags.c_contiguous and a.flags.aligned
              and a.ctypes.data % _FFTW_ALIGN == 0 and (a.flags.writeable or not writeable))
    if usable:
        return a
    out = _empty(a.shape, dtype)
    np.copyto(out, a, casting="unsafe" if a.dtype.kind == dtype.kind else "same_kind")
    return out


def _check_lengths(shape, axes) -> bool:
    """Raise for a zero-length transform axis; return True if ``shape`` holds no data."""
    if any(shape[ax] == 0 for ax in axes):
        raise ValueError(f"FFT axes {axes} must all have data; got shape {tuple(shape)}")
    return math.prod(shape) == 0


def _fit(a: np.ndarray, shape, axes) -> np.ndarray:
    """``a`` cut or zero-padded at the end of ``axes`` to ``shape`` (scipy's rule)."""
    target = resized(a.shape, axes, shape)
    if target == a.shape:
        return a
    out = np.zeros(target, dtype=a.dtype)
    common = tuple(slice(min(m, n)) for m, n in zip(a.shape, target))
    out[common] = a[common]
    return out


# -- plans ----------------------------------------------------------------------

class _Plan:
    """One FFTW plan, with the scale of its inverse and placeholder arrays.

    Between calls the plan points at placeholders of the right shape,
    strides and alignment but almost no memory, so that it never keeps a
    caller's (possibly huge) arrays alive.  They are never read or written:
    :meth:`run` always installs real arrays before executing.
    """

    def __init__(self, fftw, scale):
        self.fftw = fftw
        self.scale = scale
        self._parked = tuple(_like(x.shape, x.strides, x.dtype, x.ctypes.data % _ALIGN, 0)
                             for x in (fftw.input_array, fftw.output_array))
        fftw.update_arrays(*self._parked)

    def run(self, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Transform ``a`` into ``out`` (scaled if inverse) and return ``out``."""
        self.fftw.update_arrays(a, out)
        try:
            self.fftw.execute()
        finally:
            self.fftw.update_arrays(*self._parked)
        if self.scale != 1:
            np.multiply(out, out.dtype.type(self.scale), out=out)
        return out


class PyFFTWBackend:
    """Real transforms with FFTW through :mod:`pyfftw`, with cached, measured plans.

    Parameters
    ----------
    planner_effort : str, default "FFTW_MEASURE"
        One of :data:`PLANNER_EFFORTS`: the effort of plans that wisdom knows
        (or of every plan, with ``planning="always"``).
    planning : {"wisdom", "always"}, default "wisdom"
        ``"wisdom"``: plan at ``planner_effort`` only problems that FFTW's
        wisdom already knows, estimate the rest (no planning cost on a call);
        ``"always"``: plan every new problem at ``planner_effort`` (measuring
        it, which then becomes wisdom).
    planning_timelimit : float or None, default 1.0
        Seconds FFTW may spend planning one transform (None: no limit).
        Wisdom makes later planning of the same problem near-instant.
    cache_size : int, optional
        Plans kept, least recently used dropped first.  Each thread has its
        own plans, the pool's threads included, so by default 32 are kept
        per thread that may run them: ``32 * (1 + os.cpu_count())``.

    Notes
    -----
    With ``workers > 1``, a batch of transforms is cut along its outermost
    batch axes into up to ``workers`` pieces run at once by single-threaded
    plans (see the module's description); only a lone transform uses FFTW's
    threads, and problems under 65 536 elements run on one thread.

    ``irfftn`` overwrites its input, as the backend interface allows; a
    read-only or oddly laid out input is copied first.  ``rfftn`` never
    modifies its input.  Both write into ``out`` when given one and return
    it; else they return a new array, 64-byte aligned.

    Examples
    --------
    fftconv registers an instance as ``"pyfftw"`` where pyFFTW is installed:

    >>> import numpy as np
    >>> from fftconv.backends import BACKENDS
    >>> backend = BACKENDS.get("pyfftw", BACKENDS["scipy"])
    >>> x = np.ones((8, 6, 3), dtype=np.float32)
    >>> spectrum = backend.rfftn(x, axes=(0, 1), workers=1)
    >>> spectrum.shape, spectrum.dtype
    ((8, 4, 3), dtype('complex64'))
    >>> y = backend.irfftn(spectrum, (8, 6), axes=(0, 1), workers=1)
    >>> bool(np.allclose(y, x))
    True
    """

    name = "pyfftw"
    #: FFTW runs contiguous transforms (batch axes first) fastest.
    batch_first = True
    #: FFTW's plans are for aligned, contiguous arrays: others are copied first.
    strided = False

    def __init__(self, planner_effort="FFTW_MEASURE", planning_timelimit=1.0, cache_size=None,
                 planning="wisdom"):
        _require_pyfftw()
        if planner_effort not in PLANNER_EFFORTS:
            raise ValueError(f"`planner_effort` must be one of {', '.join(map(repr, PLANNER_EFFORTS))}; "
                             f"got {planner_effort!r}")
        if planning not in PLANNING:
            raise ValueError(f"`planning` must be one of {', '.join(map(repr, PLANNING))}; got {planning!r}")
        self.planning = planning
        if planning_timelimit is not None and not (
                isinstance(planning_timelimit, (int, float)) and not isinstance(planning_timelimit, bool)
                and 0 < planning_timelimit < math.inf):
            raise ValueError(f"`planning_timelimit` must be a positive number of seconds or None; "
                             f"got {planning_timelimit!r}")
        if cache_size is None:
            cache_size = _PLANS_PER_THREAD * (1 + (os.cpu_count() or 1))
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"`cache_size` must be a positive int or None; got {cache_size!r}")
        self.planner_effort = planner_effort
        self.planning_timelimit = None if planning_timelimit is None else float(planning_timelimit)
        self.cache_size = cache_size
        self._cache = OrderedDict()
        self._cache_lock = threading.Lock()
        self._hits = self._misses = 0

    def rfftn(self, a, axes, workers, shape=None, out=None):
        """The n-D real-to-complex FFT of ``a`` over ``axes`` (the last one halved).

        Parameters
        ----------
        a : array_like
            Real data; float16 and float32 are transformed in single
            precision, other reals in double.  It is not modified.
        axes : sequence of int
            The transformed axes; the last one is halved.
        workers : int or None
            Threads, with :func:`fftconv.set_workers`' rules.
        shape : sequence of int, optional
            Lengths along ``axes`` that ``a`` is first zero-padded or cut to.
        out : numpy.ndarray, optional
            Where to write the result: C-contiguous, of exactly its shape and
            dtype (complex64 or complex128), not overlapping ``a``.

        Returns
        -------
        numpy.ndarray
            ``out``, or a new 64-byte aligned array.
        """
        a = np.asarray(a)
        axes = _check_axes(axes, a.ndim)
        dtype = real_dtype(a)
        lengths = [a.shape[ax] for ax in axes] if shape is None else _check_shape(shape, axes)
        out = _output(out, a, spectrum_shape(resized(a.shape, axes, lengths), axes), REAL_TO_COMPLEX[dtype])
        a = _fit(a, lengths, axes)
        if _check_lengths(a.shape, axes):
            return out
        return self._run("r2c", _operand(a, dtype, writeable=False), out, axes, workers)

    def irfftn(self, a, shape, axes, workers, out=None, keep=None):
        """The n-D complex-to-real inverse FFT, of real lengths ``shape`` along ``axes``.

        Parameters
        ----------
        a : array_like
            Half spectrum, zero-padded or cut to ``shape`` (the last axis to
            ``shape[-1] // 2 + 1``) as :func:`scipy.fft.irfftn` does.  It may
            be overwritten (it is a buffer fftconv owns).
        shape : sequence of int
            The output's lengths along ``axes``.
        axes : sequence of int
            The transformed axes.
        workers : int or None
            Threads, with :func:`fftconv.set_workers`' rules.
        out : numpy.ndarray, optional
            Where to write the result: C-contiguous, of exactly its shape and
            dtype (float32 or float64), not overlapping ``a``.
        keep : sequence of int, optional
            Accepted for the backend interface and ignored: FFTW's
            multi-dimensional plan computes every output row.

        Returns
        -------
        numpy.ndarray
            ``out``, or a new 64-byte aligned array, scaled by ``1 / prod(shape)``.
        """
        a = np.asarray(a)
        axes = _check_axes(axes, a.ndim)
        shape = _check_shape(shape, axes)
        dtype = complex_dtype(a)
        out = _output(out, a, resized(a.shape, axes, shape), COMPLEX_TO_REAL[dtype])
        a = _operand(_fit(a, (*shape[:-1], shape[-1] // 2 + 1), axes), dtype, writeable=True)
        if _check_lengths(a.shape, axes):
            return out
        return self._run("c2r", a, out, axes, workers)

    def fftn(self, a, axes, workers, shape=None, out=None):
        """The n-D complex-to-complex forward FFT of ``a`` over ``axes``, not scaled.

        As :meth:`rfftn`, for complex (or real) data: float16, float32 and
        complex64 are transformed in single precision, other numbers in
        double.  ``a`` is not modified.
        """
        a = np.asarray(a)
        axes = _check_axes(axes, a.ndim)
        dtype = complex_dtype(a)
        lengths = [a.shape[ax] for ax in axes] if shape is None else _check_shape(shape, axes)
        out = _output(out, a, resized(a.shape, axes, lengths), dtype)
        a = _fit(a, lengths, axes)
        if _check_lengths(a.shape, axes):
            return out
        return self._run("c2c", _operand(a, dtype, writeable=False), out, axes, workers)

    def ifftn(self, a, axes, workers, out=None, keep=None):
        """The inverse of :meth:`fftn`, scaled by one over the transformed size.

        ``a`` may be overwritten; ``keep`` is accepted and ignored, as by
        :meth:`irfftn`.
        """
        a = np.asarray(a)
        axes = _check_axes(axes, a.ndim)
        dtype = complex_dtype(a)
        out = _output(out, a, a.shape, dtype)
        a = _operand(a, dtype, writeable=True)
        if _check_lengths(a.shape, axes):
            return out
        return self._run("ic2c", a, out, axes, workers)

    def extra_bytes(self, operand: int, result: int, *, padded: int = 0, first_pass: int = 0) -> int:
        """Transient bytes a transform may need beyond its operand and result: with
        ``planning="always"`` the first call of a shape plans on scratch copies of both
        (measuring overwrites them); a zero-padded transform (``rfftn(shape=...)``, ``padded``
        bytes once padded) pads a copy first."""
        planning = self.planning == "always" and self.planner_effort != "FFTW_ESTIMATE"
        if padded:
            return padded + (padded + result if planning else 0)
        return operand + result if planning else 0

    def cache_info(self) -> dict:
        """The plan cache as a plain dict: ``size``, ``maxsize``, ``hits``, ``misses``."""
        with self._cache_lock:
            return {"size": len(self._cache), "maxsize": self.cache_size,
                    "hits": self._hits, "misses": self._misses}

    def clear_cache(self) -> None:
        """Drop every cached plan (wisdom stays, so re-planning is quick)."""
        with self._cache_lock:
            self._cache.clear()
            self._hits = self._misses = 0

    def _run(self, kind, a, out, axes, workers) -> np.ndarray:
        """Transform ``a`` into ``out`` with up to ``workers`` threads; return ``out``."""
        workers = resolve_workers(workers)
        if max(a.size, out.size) < _MIN_PARALLEL:
            workers = 1
        if out.ctypes.data % _FFTW_ALIGN:  # a caller's `out`: FFTW writes an aligned copy
            np.copyto(out, self._run(kind, a, _empty(out.shape, out.dtype), axes, workers))
            return out
        split = _split(a, out, axes, workers) if workers > 1 else None
        if split is None:
            return self._run_plan(kind, a, out, axes, workers)
        axes, ((a0, out0), *others) = split
        pool = _executor()
        futures = [pool.submit(self._run_plan, kind, ai, outi, axes, 1) for ai, outi in others]
        try:
            self._run_plan(kind, a0, out0, axes, 1)
        finally:
            wait(futures)  # the pieces write into `out`: none may outlive the call
        for future in futures:
            future.result()
        return out

    def _run_plan(self, kind, a, out, axes, threads) -> np.ndarray:
        """Transform ``a`` into ``out`` with one plan of ``threads`` threads."""
        return self._plan(kind, a, out, axes, threads).run(a, out)

    def _plan(self, kind, a, out, axes, threads) -> _Plan:
        """The cached plan for this problem on this thread, made if missing."""
        key = (kind, a.shape, a.strides, a.dtype.str, out.shape, out.strides, axes,
               a.ctypes.data % _FFTW_ALIGN, out.ctypes.data % _FFTW_ALIGN, threads, threading.get_ident())
        with self._cache_lock:
            plan = self._cache.get(key)
            if plan is not None:
                self._cache.move_to_end(key)
                self._hits += 1
                return plan
            self._misses += 1
        plan = self._make_plan(kind, a, out, axes, threads)
        with self._cache_lock:
            self._cache[key] = plan
            evicted = [self._cache.popitem(last=False) for _ in range(len(self._cache) - self.cache_size)]
        del evicted  # destroying a plan waits for pyFFTW's planner lock: not under ours
        return plan

    def _make_plan(self, kind, a, out, axes, threads) -> _Plan:
        """Plan for arrays laid out and aligned (mod 16 bytes) like ``a`` and ``out``.

        Measuring overwrites the arrays it plans on, so a measured plan is made
        on scratch copies; estimated and wisdom-only plans read nothing, and
        are made on ``a`` and ``out`` themselves (where ``a`` is writeable).
        """
        measuring = self.planning == "always" and self.planner_effort != "FFTW_ESTIMATE"
        if measuring or not a.flags.writeable:
            src, dst = _scratch_like(a), _scratch_like(out)
        else:
            src, dst = a, out
        inverse = kind in ("c2r", "ic2c")
        extra = ("FFTW_DESTROY_INPUT",) if inverse else ()
        direction = "FFTW_BACKWARD" if inverse else "FFTW_FORWARD"
        effort = self.planner_effort
        with PLANNER_LOCK:
            if not _wisdom_loaded:
                _load_wisdom_locked(wisdom_path())
            fftw = None
            if self.planning == "wisdom" and effort != "FFTW_ESTIMATE":
                try:  # instant where wisdom knows the problem
                    fftw = _lib().FFTW(src, dst, axes=axes, direction=direction,
                                       flags=(effort, "FFTW_WISDOM_ONLY", *extra), threads=threads)
                except RuntimeError:
                    effort = "FFTW_ESTIMATE"
            if fftw is None:
                fftw = _lib().FFTW(src, dst, axes=axes, direction=direction, flags=(effort, *extra),
                                   threads=threads, planning_timelimit=self.planning_timelimit)
        scale = 1.0 / math.prod(out.shape[ax] for ax in axes) if inverse else 1
        return _Plan(fftw, scale)

    def __repr__(self):
        return (f"PyFFTWBackend(planner_effort={self.planner_effort!r}, planning={self.planning!r}, "
                f"planning_timelimit={self.planning_timelimit!r}, cache_size={self.cache_size})")


def _check_shape(shape, axes) -> tuple[int, ...]:
    """``shape`` as one positive int per axis of ``axes``."""
    shape = tuple(int(n) for n in shape)
    if len(shape) != len(axes) or min(shape, default=0) < 1:
        raise ValueError(f"`shape` must give one positive length per axis {axes}; got {shape}")
    return shape


def _check_axes(axes, ndim) -> tuple[int, ...]:
    """``axes`` as distinct non-negative ints below ``ndim``."""
    try:
        out = tuple(int(ax) + ndim if int(ax) < 0 else int(ax) for ax in axes)
    except TypeError:
        raise TypeError(f"`axes` must be a sequence of ints; got {axes!r}") from None
    if not out or len(set(out)) != len(out) or not all(0 <= ax < ndim for ax in out):
        raise ValueError(f"`axes` must be distinct axes of a {ndim}-D array; got {axes!r}")
    return out
