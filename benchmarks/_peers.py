"""Workloads and the candidates that compute them: fftconv's methods and its peers.

Not a script; the ``bench_*.py`` scripts import it after :mod:`_timing`.

Peers are what a user would run instead of fftconv, each called its fastest
fair way (SPEC.md, "Performance"):

- ``torch``: :func:`torch.nn.functional.conv2d` on a contiguous NCHW tensor
  padded once outside the timing, with no ``padding=`` argument (torch's own
  padding path is many times slower for depthwise layers), ``groups`` as
  given;
- ``fcp``: ``fft_conv_pytorch.fft_conv`` where that package is installed, on
  the same pre-padded tensor;
- ``cv2``: OpenCV's ``filter2D`` (``BORDER_CONSTANT``) for single-channel
  images, one call per output channel, where opencv-python-headless is
  installed (it returns the SAME-size output, more than a VALID workload
  asks for, as ``../shared/bench/peers.py`` times it);
- ``scipy``: the faster of the scipy broadcasts of ``../shared/bench/peers.py``
  (over channel pairs, summed) with :func:`scipy.signal.fftconvolve` and with
  :func:`scipy.signal.oaconvolve`, generalised to groups, SAME padding and
  strides (a strided output is decimated); the two are timed as
  ``scipy-fft`` and ``scipy-oa``.

The scipy peers run under ``scipy.fft.set_workers(threads)``, so they get the
same threads as fftconv (peers.py itself leaves them at one).
"""

from __future__ import annotations

import functools
import importlib.util
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import _timing
import numpy as np
import scipy.fft
import scipy.signal

Candidate = _timing.Candidate
PEERS_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "peers.py"

#: A copy of ``WORKLOADS`` of ../shared/bench/peers.py, used when that file is absent:
#: ``(name, N, H(=W), C_in, C_out, K)``, VALID, stride 1, float32.
PEER_WORKLOADS_COPY = [
    ("cnn-3x3", 8, 64, 32, 64, 3),
    ("cnn-5x5", 4, 96, 32, 32, 5),
    ("crossover-9x9", 2, 128, 16, 16, 9),
    ("filterbank-31x31", 4, 256, 3, 16, 31),
    ("manychannel-21x21", 1, 128, 32, 32, 21),
    ("deblur-101x101", 1, 512, 1, 1, 101),
    ("bigimage-63x63", 1, 1024, 1, 4, 63),
]


@dataclass(frozen=True)
class Workload:
    """One float32 NHWC convolution with square images and kernels."""

    name: str
    batch: int
    size: int
    c_in: int
    c_out: int
    kernel: int
    groups: int = 1
    stride: int = 1
    padding: str = "VALID"

    @property
    def input_shape(self) -> tuple:
        return (self.batch, self.size, self.size, self.c_in)

    @property
    def filters_shape(self) -> tuple:
        return (self.kernel, self.kernel, self.c_in // self.groups, self.c_out)

    @property
    def group_in(self) -> int:
        """Input channels each output channel reads."""
        return self.c_in // self.groups

    def describe(self) -> str:
        extra = "".join([f" groups={self.groups}" if self.groups > 1 else "",
                         f" stride={self.stride}" if self.stride > 1 else "",
                         f" {self.padding}" if self.padding != "VALID" else ""])
        return ("x".join(map(str, self.input_shape)) + " * "
                + "x".join(map(str, self.filters_shape)) + extra)

    def conv_kwargs(self, threads: int) -> dict:
        """Keyword arguments of :func:`fftconv.conv2d` and :func:`fftconv.plan_conv2d`."""
        return dict(strides=self.stride, padding=self.padding, groups=self.groups, workers=threads)

    def inputs(self, seed: int = 0):
        """Deterministic standard-normal float32 input and filters."""
        rng = np.random.default_rng(seed)
        return (rng.standard_normal(self.input_shape, dtype=np.float32),
                rng.standard_normal(self.filters_shape, dtype=np.float32))

    def shrunk(self, max_batch: int = 2) -> "Workload":
        """A smaller version for ``--quick``: half the image (at least twice the kernel), batch capped."""
        size = max(self.size // 2, 2 * self.kernel, 1)
        return replace(self, batch=min(self.batch, max_batch), size=min(size, self.size))

    def as_dict(self) -> dict:
        return {**asdict(self), "input_shape": self.input_shape, "filters_shape": self.filters_shape}


def peer_workloads() -> list:
    """``WORKLOADS`` of ``../shared/bench/peers.py`` (or :data:`PEER_WORKLOADS_COPY`) as :class:`Workload`.

    Rows are ``(name, N, H, C_in, C_out, K)``, with an optional seventh field
    saying the layer is depthwise (``groups=C_in``).
    """
    rows = PEER_WORKLOADS_COPY
    if PEERS_PATH.exists():
        spec = importlib.util.spec_from_file_location("fftconv_shared_peers", PEERS_PATH)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        rows = module.WORKLOADS
    return [Workload(name, n, h, c, o, k, groups=c if (extra and extra[0]) else 1)
            for name, n, h, c, o, k, *extra in rows]


def select(workloads, patterns: str | None) -> list:
    """Workloads whose name contains one of the comma-separated ``patterns`` (all when empty)."""
    if not patterns:
        return list(workloads)
    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    chosen = [wl for wl in workloads if any(p in wl.name for p in wanted)]
    if not chosen:
        names = ", ".join(wl.name for wl in workloads)
        raise SystemExit(f"--workloads {patterns!r} matches none of: {names}")
    return chosen


# -- padding ---------------------------------------------------------------------------

def same_pads(n: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow's SAME padding of one axis (the odd pixel at the end)."""
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def explicit_pads(wl: Workload) -> tuple:
    """``((top, bottom), (left, right))`` of a workload."""
    if wl.padding == "VALID":
        return ((0, 0), (0, 0))
    pad = same_pads(wl.size, wl.kernel, wl.stride)
    return (pad, pad)


# -- fftconv ---------------------------------------------------------------------------

def fftconv_candidates(fftconv, wl: Workload, x, w, threads: int,
                       methods=("auto", "direct", "fft")) -> list:
    """``fftconv.conv2d(x, w, method=m)`` for each method that can run the layer (a method that
    runs some shapes only, such as winograd, is left out elsewhere); methods carry the plan's
    prediction."""
    kwargs = wl.conv_kwargs(threads)
    candidates = []
    for method in methods:
        predicted = None
        if method != "auto":
            try:
                plan = fftconv.plan_conv2d(x.shape, w.shape, dtype=x.dtype, method=method, **kwargs)
            except fftconv.methods.base.MethodCannotRun:
                continue
            predicted = plan.estimates.get(method)
        fn = functools.partial(fftconv.conv2d, x, w, method=method, **kwargs)
        candidates.append(Candidate(method, fn, predicted))
    return candidates


def plan_cache_clear(fftconv):
    """The function that empties fftconv's plan cache, or None if it has none we can see.

    Cold planning is timed by clearing the cache before each call; the cache
    is private, so this looks for it defensively.
    """
    cached = getattr(getattr(fftconv, "_api", None), "_cached_plan", None)
    return getattr(cached, "cache_clear", None)


def planning_candidates(fftconv, wl: Workload, x, w, threads: int) -> list:
    """``plan_conv2d`` timed cold (cache cleared first, where possible) and from the cache."""
    plan = functools.partial(fftconv.plan_conv2d, x.shape, w.shape, dtype=x.dtype,
                             method="auto", **wl.conv_kwargs(threads))
    clear = plan_cache_clear(fftconv)
    candidates = [Candidate("plan-cached", plan)]
    if clear is not None:
        candidates.insert(0, Candidate("plan-cold", plan, setup=clear))
    return candidates


# -- peers -------------------------------------------------------------------------------

def torch_module(threads: int):
    """``torch`` with ``threads`` intra-op threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def fft_conv_pytorch():
    """``fft_conv_pytorch.fft_conv`` if that package is installed, else None.

    Its indexing with a list of slices warns on every call under torch 2.13
    (a deprecation, not a wrong result): that warning is silenced.
    """
    try:
        from fft_conv_pytorch import fft_conv
    except ImportError:
        return None
    warnings.filterwarnings("ignore", message="Using a non-tuple sequence for multidimensional indexing",
                            category=UserWarning, module="fft_conv_pytorch")
    return fft_conv


def torch_candidate(torch, wl: Workload, x, w, name="torch", conv=None) -> Candidate:
    """A torch-style convolution (``F.conv2d`` or ``conv``), its fastest fair way.

    Input and filters are converted to NCHW/OIHW and the input padded, once,
    outside the timing; the call gets no ``padding=`` argument.
    """
    F = torch.nn.functional
    conv = conv or F.conv2d
    pads = explicit_pads(wl)
    xp = np.pad(x, ((0, 0), *pads, (0, 0))) if any(any(p) for p in pads) else x
    xt = torch.from_numpy(np.ascontiguousarray(xp.transpose(0, 3, 1, 2)))
    wt = torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))

    def run():
        with torch.no_grad():
            return conv(xt, wt, stride=wl.stride, groups=wl.groups)

    return Candidate(name, run, to_reference=lambda y: y.numpy().transpose(0, 2, 3, 1))


def cv2_module(threads: int):
    """OpenCV with ``threads`` threads, or None when opencv-python(-headless) is not installed."""
    try:
        import cv2
    except ImportError:
        return None
    cv2.setNumThreads(threads)
    return cv2


def cv2_candidate(cv2, wl: Workload, x, w) -> Candidate:
    """OpenCV ``filter2D`` (a correlation, ``BORDER_CONSTANT``) per image and output channel.

    It returns the input's size; the VALID (or strided) part is cut out for the
    comparison, outside the timing.
    """
    pads = explicit_pads(wl)
    xp = np.pad(x, ((0, 0), *pads, (0, 0))) if any(any(p) for p in pads) else x
    images = [np.ascontiguousarray(xp[n, :, :, 0]) for n in range(x.shape[0])]
    kernels = [np.ascontiguousarray(w[:, :, 0, o]) for o in range(w.shape[-1])]
    k = wl.kernel

    def run():
        return [[cv2.filter2D(img, -1, ker, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT) for ker in kernels]
                for img in images]

    def to_reference(out):
        valid = [[y[:y.shape[0] - k + 1:wl.stride, :y.shape[1] - k + 1:wl.stride] for y in row] for row in out]
        return np.stack([np.stack(row, axis=-1) for row in valid])

    return Candidate("cv2", run, to_reference=to_reference)


def scipy_broadcast(x, w, groups=1, pads=((0, 0), (0, 0)), stride=1,
                    convolve=scipy.signal.fftconvolve):
    """peers.py's scipy broadcast, generalised to groups, padding, stride and ``oaconvolve``.

    Broadcast over (group, input channel, output channel), flip the kernel for
    correlation, sum over input channels, decimate for a stride. With
    ``groups=1``, no padding and stride 1 this is ``peers.scipy_broadcast``.
    """
    if any(any(p) for p in pads):
        x = np.pad(x, ((0, 0), *pads, (0, 0)))
    n, h, wd, _ = x.shape
    kh, kw, cg, o = w.shape
    xs = x.reshape(n, h, wd, groups, cg, 1)
    ws = w[::-1, ::-1].reshape(1, kh, kw, cg, groups, o // groups).transpose(0, 1, 2, 4, 3, 5)
    y = convolve(xs, ws, mode="valid", axes=(1, 2)).sum(axis=4)
    return y.reshape(*y.shape[:3], o)[:, ::stride, ::stride]


def scipy_candidate(wl: Workload, x, w, threads: int, name="scipy-fft",
                    convolve=scipy.signal.fftconvolve) -> Candidate:
    """The scipy broadcast with ``convolve``, run with ``threads`` scipy.fft workers."""
    def run():
        with scipy.fft.set_workers(threads):
            return scipy_broadcast(x, w, wl.groups, explicit_pads(wl), wl.stride, convolve)

    return Candidate(name, run)


def peer_candidates(wl: Workload, x, w, threads: int, torch, cv2=None) -> list:
    """Every installed peer for this workload (see the module docstring)."""
    candidates = []
    if torch is not None:
        candidates.append(torch_candidate(torch, wl, x, w))
        fcp = fft_conv_pytorch()
        if fcp is not None:
            candidates.append(torch_candidate(torch, wl, x, w, name="fcp", conv=fcp))
    if cv2 is not None and wl.c_in == 1:
        candidates.append(cv2_candidate(cv2, wl, x, w))
    candidates.append(scipy_candidate(wl, x, w, threads))
    candidates.append(scipy_candidate(wl, x, w, threads, "scipy-oa", scipy.signal.oaconvolve))
    return candidates
