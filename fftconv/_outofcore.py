"""Out-of-core convolution: arrays larger than memory, read chunk by chunk, with a memory bound.

Why a plain halo exchange grows with the array
----------------------------------------------
A task per output chunk that receives its neighbours' input chunks (what
:mod:`fftconv.dask` does for in-memory arrays) makes the scheduler keep each
input chunk until the last of its neighbours has run. In any order of the
tasks, that is a wavefront of whole chunks: about two planes of chunks for a
3-D volume, two rows for a 2-D mosaic. Its size follows the array's
cross-section, so an array large enough does not fit.

What runs here instead
----------------------
Each output block is one task that reads what it needs itself and depends on
no other task:

* its *home* chunk, the input chunk that holds most of its window (the
  chunk below the block, with stride 1), read whole from the source;
* from each neighbouring chunk, only the thin piece that the window reaches,
  taken from that chunk's *shell*: per spatial axis, a slab at its start and a
  slab at its end, as thick as the deepest window reach into it
  (:func:`plan_axis`). A shell is made from the chunk's data the first time a
  block needs it (one extra read of that chunk), or from a home chunk that is
  already in memory, and kept in a :class:`MemoryShells` cache with a byte
  budget (the dask graph) or in files beside the output
  (:class:`DirectoryShells`, :func:`fftconv.dask.convolve_zarr`).

So each input chunk is read about twice (once as a home, once for its shell),
whatever the array's size, and a process holds at most: its tasks' working
sets, the shells cache and the plans kept per window shape
(:func:`predicted_peak`). A missing shell is never an error, only another read.

The in-memory engine under a budget: each task convolves its window with a
plan kept per window shape (the filters' spectrum computed once per shape and
process), and releases the thread's scratch buffers when it ends, so that idle
threads keep none.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import threading
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fftconv import _checks
from fftconv._ops.forward import FilterBank
from fftconv._runtime import scratch as _scratch
from fftconv._shapes.chunks import boundaries, outer, output_chunks, slice_indices, window_pieces

__all__ = ["parse_bytes", "plan_axis", "StreamJob", "MemoryShells", "DirectoryShells", "chunk_reader",
           "predicted_peak", "chunks_for", "BASE_BYTES", "SHELL_CACHE_BYTES"]

#: The process itself: Python, numpy, scipy, dask, zarr and fftconv imported (148 MiB of resident
#: memory measured on the development machine, 2026-12; a dask.distributed worker process more).
BASE_BYTES = 256 * 2**20
#: Budget of the shells cache of a lazy dask computation, per process.
SHELL_CACHE_BYTES = 512 * 2**20
#: Bound plans (one per window shape, each with its filters' spectrum) kept per process.
KEPT_PLANS = 8
#: A chunk of the input is read again inside a task only if its dask graph has at most this many
#: tasks: reading from storage and cheap per-chunk steps (``astype``, ``x[None, ..., None]``).
MAX_CHUNK_TASKS = 16

HOME, LOW, HIGH = 0, 1, 2
_SIDES = {LOW: "low", HIGH: "high"}


# -- sizes -----------------------------------------------------------------------------------

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_bytes(value, name: str = "memory") -> int:
    """A number of bytes from an int or a string such as ``"4GiB"``, ``"512 MiB"`` or ``"2e9"``.

    Examples
    --------
    >>> parse_bytes("4GiB"), parse_bytes("1.5 GB"), parse_bytes(1000)
    (4294967296, 1500000000, 1000)
    >>> parse_bytes("lots")
    Traceback (most recent call last):
    ...
    ValueError: `memory` must be a positive number of bytes, an int or a string such as '4GiB', '512MiB' or '2e9'; got 'lots'
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        nbytes = int(value)
    else:
        match = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([a-z]*)\s*", str(value).lower())
        unit = _UNITS.get(match.group(2)) if match else None
        try:
            nbytes = int(float(match.group(1)) * unit) if unit else -1
        except ValueError:
            nbytes = -1
    if nbytes <= 0:
        raise ValueError(f"`{name}` must be a positive number of bytes, an int or a string such as "
                         f"'4GiB', '512MiB' or '2e9'; got {value!r}")
    return nbytes


def _gib(nbytes: float) -> str:
    """A size for a message: ``"3.25 GiB"`` or ``"412 MiB"``."""
    return f"{nbytes / 2**30:.2f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:.0f} MiB"


# -- the tables of one spatial axis (integers only) ---------------------------------------------

@dataclass(frozen=True)
class AxisPlan:
    """Where each output chunk's window comes from along one spatial axis.

    Attributes
    ----------
    sizes : tuple of int
        Input chunk sizes; ``bounds`` their cumulative boundaries.
    out_chunks : tuple of int
        Output chunk sizes (:func:`fftconv._shapes.chunks.output_chunks`).
    windows : tuple
        Per output chunk ``(length, home, pieces)``: the window's length, the
        input chunk that fills most of it (None when no input is read), and
        ``(chunk, dst, src, side, src_in_slab)`` per piece, ``side`` being
        :data:`HOME`, :data:`LOW` (the piece lies in the chunk's low slab) or
        :data:`HIGH`, and ``src_in_slab`` the source slice within that slab.
    low, high : tuple of int
        Per input chunk, the thickness of its low and high slab (0: not read).
    homes, reads, low_reads, high_reads : tuple of int
        Per input chunk, the number of output chunks that have it as home,
        that read it at all, that read its low slab and its high slab.
    """

    sizes: tuple
    bounds: tuple
    out_chunks: tuple
    windows: tuple
    low: tuple
    high: tuple
    homes: tuple
    reads: tuple
    low_reads: tuple
    high_reads: tuple

    def slab_reads(self, k: int, side: int) -> int:
        return (self.low_reads if side == LOW else self.high_reads)[k]


def _slice_range(n: int, src):
    """The chunk positions ``src`` reads: a range for a slice, the array itself for a gather."""
    return src if isinstance(src, np.ndarray) else range(n)[src]


def _count(dst) -> int:
    """How many window positions a piece fills (``dst`` a slice, or an index array for a gather)."""
    return len(dst) if isinstance(dst, np.ndarray) else dst.stop - dst.start


def _shifted(src, n: int, offset: int):
    """``src`` (a slice or index array into a length-``n`` chunk) as positions among the chunk's
    samples from ``offset`` on."""
    if isinstance(src, np.ndarray):
        return src - offset
    r = _slice_range(n, src)
    stop = r.stop - offset
    return slice(r.start - offset, stop if stop >= 0 else None, r.step)


def plan_axis(in_chunks, out_size: int, stride: int, eff: int, pads, mode: str) -> AxisPlan:
    """The :class:`AxisPlan` of one spatial axis.

    A piece from a chunk other than the home chunk lies near one of that
    chunk's ends (a window reaches into a neighbour by at most its halo); it is
    assigned to the nearer end, and the slab at that end is made as thick as
    the deepest piece assigned to it. Chunks smaller than the halo simply get
    slabs as thick as themselves.

    Examples
    --------
    >>> ax = plan_axis((4, 4, 4), 12, 1, 3, (1, 1), "constant")   # SAME, a 3-tap kernel
    >>> ax.out_chunks, ax.low, ax.high
    ((4, 4, 4), (0, 1, 1), (1, 1, 0))
    >>> length, home, pieces = ax.windows[1]   # outputs 4..7 read inputs 3..8
    >>> length, home, [(k, side) for k, dst, src, side, _ in pieces]
    (6, 1, [(0, 2), (1, 0), (2, 1)])
    """
    sizes = tuple(int(c) for c in in_chunks)
    n = len(sizes)
    out = output_chunks(sizes, out_size, stride)
    out_bounds = boundaries(out)
    low, high = [0] * n, [0] * n
    homes, reads, low_reads, high_reads = [0] * n, [0] * n, [0] * n, [0] * n
    raw_windows = []
    for o0, o1 in zip(out_bounds, out_bounds[1:]):
        if o1 == o0:
            raw_windows.append((0, None, []))
            continue
        length, raw = window_pieces(sizes, o0, o1, stride, eff, pads[0], pads[1], mode)
        filled = {}
        for k, dst, _ in raw:
            filled[k] = filled.get(k, 0) + _count(dst)
        home = min(filled, key=lambda k: (-filled[k], k)) if filled else None
        raw_windows.append((length, home, raw))
        for k, _, src in raw:
            if k != home:
                r = _slice_range(sizes[k], src)
                depth_low, depth_high = max(r) + 1, sizes[k] - min(r)
                if depth_low <= depth_high:
                    low[k] = max(low[k], depth_low)
                else:
                    high[k] = max(high[k], depth_high)
    windows = []
    for length, home, raw in raw_windows:
        pieces, sides = [], set()
        for k, dst, src in raw:
            if k == home:
                pieces.append((k, dst, src, HOME, src))
                continue
            r = _slice_range(sizes[k], src)
            if max(r) < low[k] and (max(r) + 1 <= sizes[k] - min(r) or high[k] == 0):
                pieces.append((k, dst, src, LOW, src))
                sides.add((k, LOW))
            else:
                pieces.append((k, dst, src, HIGH, _shifted(src, sizes[k], sizes[k] - high[k])))
                sides.add((k, HIGH))
        if home is not None:
            homes[home] += 1
        for k in {p[0] for p in pieces}:
            reads[k] += 1
        for k, side in sides:
            (low_reads if side == LOW else high_reads)[k] += 1
        windows.append((length, home, tuple(pieces)))
    return AxisPlan(sizes, tuple(boundaries(sizes)), out, tuple(windows), tuple(low), tuple(high),
                    tuple(homes), tuple(reads), tuple(low_reads), tuple(high_reads))


# -- reading input chunks ------------------------------------------------------------------------

class ArrayChunks:
    """Chunks of an array-like (a zarr array, a memory map) read by slicing it.

    ``plain`` marks an array without batch and channel axes (one image, one
    channel): it is seen as ``(1, *shape, 1)``.
    """

    def __init__(self, array, chunks, channels_first: bool, plain: bool = False):
        self.array, self.chunks, self.channels_first, self.plain = array, chunks, channels_first, plain
        self._bounds = [boundaries(c) for c in chunks]

    def region(self, ib: int, q) -> tuple:
        """The index of batch chunk ``ib`` and spatial chunk ``q``, every channel."""
        b = self._bounds
        first = 2 if self.channels_first else 1
        spatial = [slice(b[first + a][k], b[first + a][k + 1]) for a, k in enumerate(q)]
        return _order(slice(b[0][ib], b[0][ib + 1]), spatial, slice(None), self.channels_first)

    def read(self, ib: int, q) -> np.ndarray:
        region = self.region(ib, q)
        if self.plain:
            return np.asarray(self.array[region[1:-1]])[None, ..., None]
        return np.asarray(self.array[region])


class DaskChunks:
    """Chunks of a dask array computed inside a task from the array's own (small) graph."""

    def __init__(self, graph: dict, name: str, chunks, channels_first: bool):
        self.graph, self.name, self.chunks, self.channels_first = graph, name, chunks, channels_first

    def read(self, ib: int, q) -> np.ndarray:
        from dask.optimization import cull

        n_channels = len(self.chunks[1 if self.channels_first else -1])
        keys = [(self.name, *_order(ib, q, c, self.channels_first)) for c in range(n_channels)]
        sub, _ = cull(self.graph, keys)
        parts = [np.asarray(p) for p in _run_graph(sub, keys)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1 if self.channels_first else -1)


def _run_graph(graph: dict, keys: list) -> list:
    """The values of ``keys`` in a small graph, computed here, in this thread (a task's own reads)."""
    try:
        from dask._task_spec import GraphNode
    except ImportError:  # pragma: no cover - dask before the task spec (2024.12): its sync scheduler
        from dask.local import get_sync
        return list(get_sync(graph, keys))
    # depth first, without a recursive closure: a closure that calls itself is a reference cycle,
    # and it would keep the chunks it read alive until the garbage collector runs
    cache, stack = {}, list(keys)
    while stack:
        key = stack[-1]
        node = graph[key]
        if not isinstance(node, GraphNode):
            cache[key] = node
            stack.pop()
            continue
        missing = [dep for dep in node.dependencies if dep not in cache]
        if missing:
            stack.extend(missing)
            continue
        cache[key] = node({dep: cache[dep] for dep in node.dependencies})
        stack.pop()
    return [cache[key] for key in keys]


def chunk_reader(x, channels_first: bool):
    """A :class:`DaskChunks` for a dask array read from storage, or None.

    Read from storage: the graph holds a source array (``dask.array.from_zarr``
    or ``from_array`` over a zarr array or a memory map), and each chunk takes
    at most :data:`MAX_CHUNK_TASKS` tasks (reads and cheap per-chunk steps such
    as ``astype`` or ``x[None, ..., None]``). Arrays held in memory (their
    chunks are data in the graph) or computed by larger graphs return None.
    """
    from dask.optimization import cull

    hlg = x.__dask_graph__()
    layers = getattr(hlg, "layers", {})
    if not any(str(name).startswith("original-") for name in layers):
        return None
    graph = dict(hlg)
    corners = {tuple(0 for _ in x.chunks), tuple(len(c) - 1 for c in x.chunks)}
    for index in corners:
        sub, _ = cull(graph, [(x.name, *index)])
        if len(sub) > MAX_CHUNK_TASKS + 1 or any(isinstance(v, np.ndarray) and not isinstance(v, np.memmap)
                                                 and v.nbytes > 2**20 for v in sub.values()):
            return None
    return DaskChunks(graph, x.name, x.chunks, channels_first)


# -- shells: the slabs that neighbouring windows read --------------------------------------------

def _slab_index(ndim_all: int, axis: int, side: int, thickness: int, size: int) -> tuple:
    index = [slice(None)] * ndim_all
    index[axis] = slice(0, thickness) if side == LOW else slice(size - thickness, size)
    return tuple(index)


class MemoryShells:
    """Shells kept in memory, within a byte budget, each slab dropped after its last reader.

    A slab evicted early (the budget is full) is made again from the chunk
    when a block needs it: slower, never wrong.
    """

    def __init__(self, budget: int | None = None):
        self.budget = SHELL_CACHE_BYTES if budget is None else budget
        self._slabs = OrderedDict()  # (ib, q, axis, side) -> [array, readers left]
        self._bytes = 0
        self._made = set()  # (ib, q) whose shell was made once
        self._lock = threading.Lock()
        self._making = {}  # (ib, q) -> Event while one thread makes it
        self.reads = 0  # chunks read to make shells

    def __reduce__(self):
        return MemoryShells, (self.budget,)

    def take(self, job, ib, q, axis, side):
        key = (ib, q, axis, side)
        while True:
            with self._lock:
                entry = self._slabs.get(key)
                if entry is not None:
                    entry[1] -= 1
                    if entry[1] <= 0:
                        del self._slabs[key]
                        self._bytes -= entry[0].nbytes
                    else:
                        self._slabs.move_to_end(key)
                    return entry[0]
                event = self._making.get((ib, q))
                if event is None:
                    event = self._making[(ib, q)] = threading.Event()
                    break
            event.wait()  # another thread is making this shell: take it from the cache, or make it
        try:
            data = job.reader.read(ib, q)
            self.reads += 1
            slabs = job.shell(ib, q, data)
            del data
            with self._lock:
                self._store(job, ib, q, slabs, skip=key)
            return slabs[(axis, side)]
        finally:
            with self._lock:
                self._making.pop((ib, q)).set()

    def offer(self, job, ib, q, data):
        """Make the shell of a home chunk already in memory, once."""
        with self._lock:
            if (ib, q) in self._made or (ib, q) in self._making:
                return
        slabs = job.shell(ib, q, data)
        with self._lock:
            if (ib, q) not in self._made:
                self._store(job, ib, q, slabs)

    def _store(self, job, ib, q, slabs, skip=None):
        self._made.add((ib, q))
        for (axis, side), slab in slabs.items():
            key = (ib, q, axis, side)
            readers = job.slab_readers(q, axis, side) - (key == skip)
            if readers <= 0 or key in self._slabs:
                continue
            self._slabs[key] = [slab, readers]
            self._bytes += slab.nbytes
        while self._bytes > self.budget and self._slabs:
            _, (slab, _) = self._slabs.popitem(last=False)
            self._bytes -= slab.nbytes

    def kept_bytes(self) -> int:
        with self._lock:
            return self._bytes


class DirectoryShells:
    """Shells kept as ``.npy`` files in a directory that every worker sees, read by memory map.

    Files are written under a temporary name and renamed, so a reader sees a
    whole file or none. The directory is only a cache of this run: it is
    emptied when a run starts.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._making = {}
        self.reads = 0

    def __reduce__(self):
        return DirectoryShells, (str(self.path),)

    def _file(self, ib, q, axis, side) -> Path:
        return self.path / f"{ib}.{'.'.join(map(str, q))}.{axis}{_SIDES[side][0]}.npy"

    def take(self, job, ib, q, axis, side):
        path = self._file(ib, q, axis, side)
        try:
            return np.load(path, mmap_mode="r")
        except (OSError, ValueError):
            pass
        with self._lock:
            lock = self._making.setdefault((ib, q), threading.Lock())
        with lock:
            try:
                return np.load(path, mmap_mode="r")
            except (OSError, ValueError):
                pass
            data = job.reader.read(ib, q)
            self.reads += 1
            slabs = job.shell(ib, q, data)
            self._write(ib, q, slabs)
            return slabs[(axis, side)]

    def offer(self, job, ib, q, data):
        if any(self._file(ib, q, a, s).exists() for a, s in job.shell_slabs(q)):
            return
        self._write(ib, q, job.shell(ib, q, data))

    def _write(self, ib, q, slabs):
        self.path.mkdir(parents=True, exist_ok=True)
        for (axis, side), slab in slabs.items():
            path = self._file(ib, q, axis, side)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            with open(tmp, "wb") as f:
                np.save(f, slab)
            os.replace(tmp, path)


# -- the job: everything a block task needs --------------------------------------------------------

class StreamJob:
    """One out-of-core convolution: the filters, the tables, the input reader and the caches.

    It is one object in a dask graph (or scattered once to a cluster): the
    threaded scheduler shares it between tasks, a cluster sends it to each
    worker once. It pickles as its description only; each process makes its
    own plans and caches.
    """

    def __init__(self, reader, filters, options, geom, in_chunks, channels_first, dtype, out_dtype, shells,
                 kept_plans: int = KEPT_PLANS):
        self.reader, self.options, self.geom, self.dtype = reader, options, geom, np.dtype(dtype)
        self.in_chunks, self.channels_first, self.out_dtype = in_chunks, channels_first, np.dtype(out_dtype)
        self.shells, self.kept_plans = shells, kept_plans
        self._bank = FilterBank(filters, **options)  # checks, and keeps a read-only copy
        self.filters = self._bank.filters
        first = 2 if channels_first else 1
        self.axes = tuple(
            plan_axis(in_chunks[first + a], geom.out_spatial[a], geom.strides[a], geom.eff_kernel[a],
                      geom.pads[a], geom.padding_mode) for a in range(geom.ndim))
        self._spatial_axes = tuple(range(first, first + geom.ndim))
        self._plans = OrderedDict()
        self._lock = threading.Lock()
        self._planning = {}

    def __reduce__(self):
        return StreamJob, (self.reader, self.filters, self.options, self.geom, self.in_chunks,
                           self.channels_first, self.dtype, self.out_dtype, self.shells, self.kept_plans)

    # -- shape facts --

    @property
    def out_chunks(self) -> tuple:
        """Output chunks per axis, in data_format order."""
        return _order(self.in_chunks[0], [ax.out_chunks for ax in self.axes], (self.geom.out_channels,),
                      self.channels_first)

    def blocks(self):
        """Every block ``(ib, iout)``, batch chunk first, then the spatial chunks in C order."""
        for ib in range(len(self.in_chunks[0])):
            for iout in itertools.product(*(range(len(ax.out_chunks)) for ax in self.axes)):
                yield ib, iout

    def block_region(self, ib, iout) -> tuple:
        """The output index of block ``(ib, iout)``."""
        b0 = boundaries(self.in_chunks[0])
        spatial = []
        for ax, i in zip(self.axes, iout):
            ob = boundaries(ax.out_chunks)
            spatial.append(slice(ob[i], ob[i + 1]))
        return _order(slice(b0[ib], b0[ib + 1]), spatial, slice(None), self.channels_first)

    def window_shapes(self) -> dict:
        """Distinct window shapes (batch chunk, window lengths, channels) and how many blocks have each."""
        shapes = {}
        for nb in set(self.in_chunks[0]):
            lengths = [sorted({w[0] for w in ax.windows}) for ax in self.axes]
            for combo in itertools.product(*lengths):
                shape = _order(nb, combo, self.geom.in_channels, self.channels_first)
                shapes[shape] = shapes.get(shape, 0) + 1
        return shapes

    def slab_readers(self, q, axis, side) -> int:
        """How many blocks (of one batch chunk) read slab ``(axis, side)`` of chunk ``q``: a piece
        takes it from the first axis along which its chunk is not the block's home."""
        count = self.axes[axis].slab_reads(q[axis], side)
        for a, ax in enumerate(self.axes):
            if a < axis:
                count *= ax.homes[q[a]]
            elif a > axis:
                count *= ax.reads[q[a]]
        return count

    def shell_slabs(self, q):
        """The ``(axis, side)`` slabs of chunk ``q`` that some block reads."""
        return [(a, side) for a in range(self.geom.ndim) for side in (LOW, HIGH)
                if (self.axes[a].low if side == LOW else self.axes[a].high)[q[a]]
                and self.slab_readers(q, a, side)]

    def shell(self, ib, q, data) -> dict:
        """The slabs of chunk ``q`` (its data: batch chunk ``ib``, every channel), as copies."""
        slabs = {}
        for a, side in self.shell_slabs(q):
            ax = self.axes[a]
            thickness = (ax.low if side == LOW else ax.high)[q[a]]
            index = _slab_index(data.ndim, self._spatial_axes[a], side, thickness, ax.sizes[q[a]])
            slabs[(a, side)] = data[index].copy()  # a copy: a view would keep the whole chunk alive
        return slabs

    # -- the work --

    def bound(self, shape, dtype):
        """The bound plan for windows of ``shape``: made once per process, at most
        ``kept_plans`` kept (least recently used dropped)."""
        key = (tuple(shape), np.dtype(dtype))
        with self._lock:
            bound = self._plans.get(key)
            if bound is not None:
                self._plans.move_to_end(key)
                return bound
            event = self._planning.get(key)
            mine = event is None
            if mine:
                event = self._planning[key] = threading.Event()
        if not mine:
            event.wait()
            return self.bound(shape, dtype)
        try:
            bound = self._bank.plan_for(shape, dtype).bind(self.filters)
            with self._lock:
                self._plans[key] = bound
                while len(self._plans) > self.kept_plans:
                    self._plans.popitem(last=False)
            return bound
        finally:
            with self._lock:
                self._planning.pop(key).set()

    def window(self, ib, iout) -> np.ndarray | None:
        """The padded input window of block ``(ib, iout)``; None when it reads no input (zeros)."""
        wins = [ax.windows[i] for ax, i in zip(self.axes, iout)]
        if any(home is None for _, home, _ in wins):
            return None
        nb = self.in_chunks[0][ib]
        shape = _order(nb, [w[0] for w in wins], self.geom.in_channels, self.channels_first)
        home_q = tuple(w[1] for w in wins)
        home = self.reader.read(ib, home_q)
        window = np.zeros(shape, dtype=home.dtype)
        self.shells.offer(self, ib, home_q, home)
        slabs = {}
        for combo in itertools.product(*(w[2] for w in wins)):
            chunks, dsts, srcs, sides, in_slab = zip(*combo)
            moved = next((a for a, side in enumerate(sides) if side != HOME), None)
            src = list(srcs)
            if moved is None:
                data = home
            else:
                key = (chunks, moved, sides[moved])
                data = slabs.get(key)
                if data is None:
                    data = slabs[key] = self.shells.take(self, ib, chunks, moved, sides[moved])
                src[moved] = in_slab[moved]
            dsts = list(dsts)
            if any(isinstance(d, np.ndarray) for d in dsts):  # a gathered piece: every axis as arrays
                src = [slice_indices(s, _count(d)) if isinstance(s, slice) else s for d, s in zip(dsts, src)]
                dsts, src = outer(dsts), outer(src)
            window[_order(slice(None), dsts, slice(None), self.channels_first)] = \
                data[_order(slice(None), src, slice(None), self.channels_first)]
        return window

    def block(self, ib, iout) -> np.ndarray:
        """The output of block ``(ib, iout)``: a new array that owns its memory."""
        region = self.block_region(ib, iout)
        window = self.window(ib, iout)
        if window is None or 0 in window.shape:
            shape = tuple(s.stop - s.start if s.stop is not None else self.geom.out_channels for s in region)
            return np.zeros(shape, dtype=self.out_dtype)
        try:
            return self.bound(window.shape, window.dtype)(window)
        finally:
            del window
            _scratch.release()  # an idle worker thread keeps no scratch memory


def _order(batch, spatial, channels, channels_first):
    """A ``(batch, *spatial, channels)`` triple in data_format order, as a tuple."""
    if channels_first:
        return (batch, channels, *spatial)
    return (batch, *spatial, channels)


# -- the memory bound ------------------------------------------------------------------------------

def _spectrum_bytes(plan) -> int:
    """What a bound plan keeps per window shape: its filters' spectrum (or the filters themselves)."""
    settings = plan.settings.get(plan.method)
    geom = plan.run_geometry
    itemsize = np.dtype(plan.real_dtype).itemsize
    fft_shape = getattr(settings, "fft_shape", None)
    if fft_shape is None:
        return math.prod(plan.filters_shape) * itemsize
    freqs = math.prod(fft_shape[:-1]) * (fft_shape[-1] // 2 + 1)
    return freqs * settings.phases * geom.group_in * geom.out_channels * 2 * itemsize


def predicted_peak(job: StreamJob, workers: int, shells_bytes: int) -> dict:
    """The memory bound of ``job`` run by ``workers`` tasks at once in one process, term by term.

    ``peak = base + workers * (task + write) + shells + other_plans`` where
    ``task`` is the larger of ``2 * chunk + 2 * window`` (the home chunk, a
    neighbour read for its shell, the window and the slabs it reads) and
    ``window + engine`` (the engine's own predicted peak for one window: its
    output, the filters' spectrum and its transform buffers); ``write`` is
    ``2 * block``, an output block waiting for its write and the encoded copy
    the store makes of it; ``other_plans`` are the spectra kept for the other
    window shapes.
    """
    return _predict(job._bank, job.window_shapes(), job.in_chunks, job.channels_first, job.geom, job.dtype,
                    workers, shells_bytes, job.kept_plans)


def _predict(bank, window_shapes, in_chunks, channels_first, geom, dtype, workers, shells_bytes,
             kept_plans) -> dict:
    itemsize = dtype.itemsize
    chunk = max(in_chunks[0]) * math.prod(max(c) for c in _spatial(in_chunks, channels_first)) * \
        geom.in_channels * itemsize
    window = engine = 0
    spectra = []
    for shape in window_shapes:
        if 0 in shape:
            continue
        plan = bank.plan_for(shape, dtype)
        window = max(window, math.prod(shape) * itemsize)
        engine = max(engine, plan.peak_bytes)
        spectra.append(_spectrum_bytes(plan))
    spectra.sort(reverse=True)
    task = max(2 * chunk + 2 * window, window + engine)
    out_itemsize = _checks.result_dtypes(dtype, bank.filters.dtype)[1].itemsize
    first = 2 if channels_first else 1
    block = max(in_chunks[0]) * geom.out_channels * out_itemsize * math.prod(
        max(output_chunks(in_chunks[first + a], geom.out_spatial[a], geom.strides[a])) for a in range(geom.ndim))
    write = 2 * block
    others = sum(spectra[1:kept_plans])
    total = BASE_BYTES + workers * (task + write) + shells_bytes + others
    return {"peak": total, "base": BASE_BYTES, "workers": workers, "task": task, "write": write,
            "chunk": chunk, "window": window, "engine": engine, "shells": shells_bytes, "other_plans": others,
            "window_shapes": len(spectra)}


def _spatial(chunks, channels_first):
    return chunks[2:] if channels_first else chunks[1:-1]


# -- choosing chunks for a budget --------------------------------------------------------------------

def _candidates(n: int, stride: int, base: int | None) -> list[int]:
    """Chunk sizes to try along one axis: multiples of ``base`` (the storage chunks) or round numbers,
    divisible by the stride, at most ``n``."""
    step = math.lcm(stride, base or 1)
    sizes = set()
    size = step
    while size < n:
        sizes.add(size)
        size = size * 2 if base is None or size >= 8 * step else size + step
    for m in (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096,
              6144, 8192, 12288, 16384):
        if m % step == 0 and m < n:
            sizes.add(m)
    sizes.add(n)
    return sorted(sizes)


def choose_chunks(bank, input_shape, geom, channels_first, dtype, memory, workers, shells_bytes,
                  storage_chunks=None, kept_plans=KEPT_PLANS, name="memory"):
    """``(chunk shape, chunks, prediction)``: the largest chunks whose predicted peak fits ``memory``.

    Chunks are alike along the spatial axes (cubes, squares), divisible by the
    stride, made of whole storage chunks when ``storage_chunks`` (a chunk
    shape) is given, and leave at least ``workers`` blocks to run at once where
    the array allows. Batch chunks hold one image; channels are one chunk.
    """
    spatial = list(_spatial(input_shape, channels_first))
    base = list(_spatial(storage_chunks, channels_first)) if storage_chunks else [None] * len(spatial)
    per_axis = [_candidates(n, s, b) for n, s, b in zip(spatial, geom.strides, base)]
    tried = []
    for target in sorted({c for cands in per_axis for c in cands}):
        sizes = tuple(max([c for c in cands if c <= target] or [cands[0]]) for cands in per_axis)
        if tried and sizes == tried[-1][0]:
            continue
        chunks = _order((1,) * input_shape[0] if input_shape[0] else (0,),
                        [_regular(n, c) for n, c in zip(spatial, sizes)], (geom.in_channels,), channels_first)
        pred = _predict(bank, _window_shapes(chunks, geom, channels_first), chunks, channels_first, geom,
                        dtype, workers, shells_bytes, kept_plans)
        blocks = max(input_shape[0], 1) * math.prod(-(-n // c) if n else 1 for n, c in zip(spatial, sizes))
        tried.append((sizes, chunks, pred, blocks))
    fitting = [t for t in tried if t[2]["peak"] <= memory]
    if not fitting:
        sizes, _, pred, _ = tried[0]
        raise ValueError(
            f"`{name}`={_gib(memory)} is too small for this convolution with {workers} worker(s): the "
            f"smallest chunks tried, {sizes}, need about {_gib(pred['peak'])} ({_terms(pred)}); give "
            f"more memory or fewer workers")
    enough = [t for t in fitting if t[3] >= workers] or fitting
    sizes, chunks, pred, _ = max(enough, key=lambda t: math.prod(t[0]))
    shape = _order(1 if input_shape[0] else 0, sizes, geom.in_channels, channels_first)
    return shape, chunks, pred


def _regular(n: int, c: int) -> tuple:
    if n == 0:
        return (0,)
    return (c,) * (n // c) + ((n % c,) if n % c else ())


def _window_shapes(chunks, geom, channels_first) -> dict:
    first = 2 if channels_first else 1
    lengths = []
    for a in range(geom.ndim):
        ax_chunks = chunks[first + a]
        out = output_chunks(ax_chunks, geom.out_spatial[a], geom.strides[a])
        bounds = boundaries(out)
        lengths.append(sorted({(o1 - o0 - 1) * geom.strides[a] + geom.eff_kernel[a]
                               for o0, o1 in zip(bounds, bounds[1:]) if o1 > o0} or {0}))
    shapes = {}
    for nb in set(chunks[0]):
        for combo in itertools.product(*lengths):
            shapes[_order(nb, combo, geom.in_channels, channels_first)] = 1
    return shapes


def _terms(pred: dict) -> str:
    return (f"base {_gib(pred['base'])} + {pred['workers']} x (task {_gib(pred['task'])} + write "
            f"{_gib(pred['write'])}) + shells "
            f"{_gib(pred['shells'])} + other plans {_gib(pred['other_plans'])}")


# -- a run's identity and its records ---------------------------------------------------------------

def filters_digest(filters: np.ndarray) -> str:
    """SHA-256 of the filters' dtype, shape and bytes."""
    h = hashlib.sha256()
    h.update(f"{filters.dtype.str}{filters.shape}".encode())
    h.update(np.ascontiguousarray(filters).tobytes())
    return h.hexdigest()


def checksum(block: np.ndarray) -> str:
    """CRC-32 of a block's bytes (C order) with its shape and dtype, as text."""
    data = np.ascontiguousarray(block)
    return f"{zlib.crc32(memoryview(data).cast('B')):08x}-{data.dtype.str}-{'x'.join(map(str, data.shape))}"


class Records:
    """The completion records of a run: one small file per output block, written only after the
    block is wholly in the store, holding the block's checksum.

    A block with no record is computed (again); a block whose record is there
    is checked against it, when asked, by reading it back.
    """

    def __init__(self, folder):
        self.folder = Path(folder)

    def __reduce__(self):
        return Records, (str(self.folder),)

    def _file(self, ib, iout) -> Path:
        return self.folder / f"{ib}.{'.'.join(map(str, iout))}.json"

    def write(self, ib, iout, digest: str) -> None:
        path = self._file(ib, iout)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "w") as f:  # no fsync: after a power cut, verification catches what was lost
            json.dump({"checksum": digest, "time": time.time()}, f)
        os.replace(tmp, path)

    def read(self, ib, iout) -> str | None:
        try:
            with open(self._file(ib, iout)) as f:
                return json.load(f)["checksum"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def remove(self, ib, iout) -> None:
        self._file(ib, iout).unlink(missing_ok=True)


# -- shapes of plain arrays -----------------------------------------------------------------------

#: data_format values of arrays without batch and channel axes: one image, one channel.
PLAIN_FORMATS = {1: "W", 2: "HW", 3: "DHW"}


def layout(input_shape, filters_shape, data_format, names=("input", "filters")):
    """``(full input shape, full filters shape, ndim, full data_format, plain)``.

    ``data_format`` ``"W"``, ``"HW"`` or ``"DHW"`` (or None with an input and
    filters of one and the same ndim, 1 to 3) mean a plain array and a plain
    kernel: they are seen as ``(1, *shape, 1)`` and ``(*kernel, 1, 1)``.
    Otherwise the layouts of :func:`fftconv.conv2d` and kin apply.
    """
    input_shape, filters_shape = tuple(input_shape), tuple(filters_shape)
    if data_format is None and len(input_shape) == len(filters_shape) and 1 <= len(input_shape) <= 3:
        data_format = PLAIN_FORMATS[len(input_shape)]
    if data_format in PLAIN_FORMATS.values():
        nd = len(data_format)
        for name, shape in zip(names, (input_shape, filters_shape)):
            if len(shape) != nd:
                raise ValueError(f"`{name}` must be {nd}-D for data_format={data_format!r} (a plain array "
                                 f"and a plain kernel); got shape {shape}")
        full_format = _checks.DATA_FORMATS[nd][0]
        return (1, *input_shape, 1), (*filters_shape, 1, 1), nd, full_format, True
    nd = len(filters_shape) - 2
    if nd not in (1, 2, 3):
        raise ValueError(f"`{names[1]}` must be 3-D, 4-D or 5-D (*kernel, C_in, C_out), or a plain kernel "
                         f"of the input's ndim; got shape {filters_shape}")
    return input_shape, filters_shape, nd, data_format or _checks.DATA_FORMATS[nd][0], False


def _options(strides, padding, data_format, dilations, groups, flip, method, backend, measure=False):
    return dict(strides=strides, padding="VALID", data_format=data_format, dilations=dilations,
                groups=groups, flip=flip, method=method, workers=1, measure=measure, backend=backend)


def _check_workers_count(workers, name: str = "workers") -> int:
    if workers is None:
        return _checks.CPUS
    return _checks.check_positive_int(name, workers)


# -- chunks for a budget -----------------------------------------------------------------------------

def chunks_for(shape, filters_shape, memory="4GiB", workers=None, strides=1, padding="VALID",
               data_format=None, dilations=1, *, groups=None, flip=False, padding_mode="constant",
               dtype="float32", storage_chunks=None, shells_in_memory=True, method="auto", backend="auto"):
    """Chunks for a convolution whose memory peak fits a budget, and that peak.

    Parameters
    ----------
    shape : tuple of int
        The input's shape, in ``data_format`` order; or a plain array's
        (``data_format`` ``"W"``, ``"HW"``, ``"DHW"``, or None with a plain
        kernel of the same ndim).
    filters_shape : tuple of int
        ``(*kernel, C_in / groups, C_out)``, or a plain kernel's shape.
    memory : int or str
        The budget of one process, in bytes or as ``"4GiB"``, ``"512MiB"``, ``"2e9"``.
    workers : int, optional
        Tasks run at once in one process (the threads of dask's threaded
        scheduler, or of one dask.distributed worker); default: the CPU count.
    strides, padding, data_format, dilations, groups, flip, padding_mode, method, backend
        As for :func:`fftconv.conv3d` and kin.
    dtype : dtype-like
        The input's dtype.
    storage_chunks : tuple of int, optional
        The chunk shape of the store the input is read from (a zarr array's
        ``chunks``): the chunks returned are made of whole storage chunks.
    shells_in_memory : bool
        True for the lazy dask functions (a cache of
        :data:`~fftconv._outofcore.SHELL_CACHE_BYTES` per process), False for
        :func:`convolve_zarr` (its shells are files).

    Returns
    -------
    chunks : tuple of int
        A chunk shape for ``dask.array.from_zarr(..., chunks=chunks)`` or
        ``x.rechunk(chunks)``: one image per batch chunk, the spatial chunks
        alike (cubes, squares) and as large as fits, all channels in one chunk.
    peak : int
        The predicted peak resident memory of one process, in bytes
        (:doc:`/out_of_core` gives the formula).

    Raises
    ------
    ValueError
        Bad shapes or arguments (the messages of :func:`fftconv.conv3d`), or
        a budget too small for even the smallest chunks.

    Examples
    --------
    >>> import fftconv.dask
    >>> chunks, peak = fftconv.dask.chunks_for((2048, 2048, 2048), (15, 15, 15), memory="4GiB",
    ...                                        workers=2, padding="SAME")
    >>> chunks, peak <= 4 * 2**30
    ((256, 256, 256), True)
    """
    budget = parse_bytes(memory)
    workers = _check_workers_count(workers)
    full, wfull, nd, fmt, plain = layout(shape, filters_shape, data_format, ("shape", "filters_shape"))
    geom = _checks.check_geometry(full, wfull, nd, strides, padding, fmt, dilations, groups, flip,
                                  names=("shape", "filters_shape"), padding_mode=padding_mode)
    dtype = _checks.check_dtype("dtype", dtype)
    channels_first = fmt.startswith("NC")
    storage = None
    if storage_chunks is not None:
        storage = tuple(int(c) for c in storage_chunks)
        if len(storage) != len(shape) or min(storage) < 1:
            raise ValueError(f"`storage_chunks` must be {len(shape)} positive ints (a chunk shape of the "
                             f"input); got {storage_chunks!r}")
        storage = (1, *storage, 1) if plain else storage
    bank = FilterBank(np.zeros(wfull, dtype=np.float32 if dtype.kind != "c" else np.complex64),
                      **_options(geom.strides, padding, fmt, geom.dilations, geom.groups, geom.flip, method,
                                 backend))
    sizes, _, pred = choose_chunks(bank, full, geom, channels_first, dtype, budget, workers,
                                   SHELL_CACHE_BYTES if shells_in_memory else 0, storage)
    return (sizes[1:-1] if plain else sizes), pred["peak"]


# -- the lazy dask path ------------------------------------------------------------------------------

def _block_task(job, ib, iout):
    return job.block(ib, iout)


def streamed_array(x, reader, w, options, geom, out_dtype, channels_first, kind):
    """The lazy dask array of the convolution of ``x`` (read from storage by ``reader``): one task
    per output block, each depending on nothing but the job (see the module's description)."""
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    token = tokenize(x.name, w, options, geom, "streamed")
    job = StreamJob(reader, w, options, geom, x.chunks, channels_first, x.dtype, out_dtype, MemoryShells())
    name = f"fftconv-{kind}-{token}"
    job_key = f"fftconv-job-{token}"
    graph = {job_key: job}
    for ib, iout in job.blocks():
        graph[(name, *_order(ib, iout, 0, channels_first))] = (_block_task, job_key, ib, iout)
    hlg = HighLevelGraph.from_collections(name, graph, dependencies=[])
    return da.Array(hlg, name, job.out_chunks, meta=np.empty((0,) * (geom.ndim + 2), dtype=out_dtype))


# -- convolve_zarr: a resumable run from one zarr array into another -----------------------------------

RUN_FILE = "run.json"
SIDECAR = ".fftconv"


#: How convolve_zarr's messages name its arguments (the command line passes its own names).
ARGUMENT_NAMES = {"source": "source", "filters": "filters", "output": "output", "memory": "memory",
                  "chunks": "chunks", "workers": "workers", "overwrite": "overwrite=True"}


def _open_source(zarr, source, name):
    if isinstance(source, (str, os.PathLike)):
        try:
            return zarr.open_array(os.fspath(source), mode="r")
        except Exception as exc:  # noqa: BLE001 - zarr raises several kinds for a missing or non-array path
            raise ValueError(f"`{name}` must be a zarr array; could not open {os.fspath(source)!r} "
                             f"as one ({type(exc).__name__}: {exc})") from None
    if all(hasattr(source, a) for a in ("shape", "dtype", "chunks", "__getitem__")):
        return source
    raise TypeError(f"`{name}` must be a zarr array or the path of one; got {type(source).__name__}")


def _identity(source_shape, dtype, chunks, filters, options, geom, out_shape, out_dtype, block_shape, plans):
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("fftconv")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree that is not installed
        release = "unknown"
    return {"format": 1, "fftconv": release,
            "source": {"shape": list(source_shape), "dtype": dtype.str, "chunks": list(chunks)},
            "filters": filters_digest(filters),
            "options": {"strides": list(geom.strides), "pads": [list(p) for p in geom.pads],
                        "data_format": options["data_format"], "dilations": list(geom.dilations),
                        "groups": geom.groups, "flip": geom.flip, "padding_mode": geom.padding_mode,
                        "method": options["method"], "backend": options["backend"]},
            "plans": plans,
            "output": {"shape": list(out_shape), "dtype": np.dtype(out_dtype).str, "chunks": list(block_shape)}}


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _run_block(job, dst, records, ib, iout, plain):
    """Compute block ``(ib, iout)``, write it into ``dst``, then record its checksum."""
    out = job.block(ib, iout)
    region = job.block_region(ib, iout)
    if plain:
        dst[region[1:-1]] = out[0, ..., 0]
    else:
        dst[region] = out
    records.write(ib, iout, checksum(out))
    return out.nbytes


def _verify_block(job, dst, records, ib, iout, plain):
    """Whether block ``(ib, iout)`` in ``dst`` matches its record (False: compute it again)."""
    expected = records.read(ib, iout)
    if expected is None:
        return False
    region = job.block_region(ib, iout)
    try:
        data = np.asarray(dst[region[1:-1]])[None, ..., None] if plain else np.asarray(dst[region])
    except Exception:  # noqa: BLE001 - a torn chunk may fail to decode in many ways: compute it again
        return False
    return checksum(data) == expected


def convolve_zarr(source, filters, output, strides=1, padding="VALID", data_format=None, dilations=1, *,
                  groups=None, flip=False, padding_mode="constant", method="auto", backend="auto",
                  chunks=None, memory=None, workers=None, client=None, overwrite=False, verify=True,
                  progress=False, _names=None):
    """Convolve a zarr array into a new zarr array, chunk by chunk, within a memory budget; resumable.

    The output is written one block (one zarr chunk) at a time. After each
    block is wholly in the store, a record with its checksum is written
    beside it (in ``OUTPUT/.fftconv/``). A run that stops (killed, Ctrl-C,
    power lost) is resumed by calling this again with the same arguments: the
    blocks with a record are checked against it (with ``verify``) and kept, and
    only the others are computed. The result equals an uninterrupted run's.

    Parameters
    ----------
    source : str, os.PathLike or zarr.Array
        The input: ``(N, *spatial, C_in)`` in ``data_format`` order, or a
        plain array (a volume, an image, a signal; see ``data_format``).
    filters : array_like
        ``(*kernel, C_in / groups, C_out)``, or a plain kernel (``data_format``
        ``"W"``, ``"HW"``, ``"DHW"``).
    output : str or os.PathLike
        A local directory (on a file system that every worker sees) for the
        output zarr array. It is created, or resumed if it holds a run of the
        same arguments.
    strides, padding, dilations, groups, flip, padding_mode, method, backend
        As for :func:`fftconv.conv3d` and kin.
    data_format : str, optional
        As for :func:`fftconv.conv3d` and kin, or ``"W"``, ``"HW"``, ``"DHW"``
        for a plain array with a plain kernel: seen as one image with one
        channel, written without batch and channel axes. Default: plain when
        ``source`` and ``filters`` have one and the same ndim (1 to 3), else
        channels-last.
    chunks : tuple of int, optional
        The input blocks each task reads (a chunk shape of ``source``), each
        divisible by the stride. Default: the store's chunks if they fit
        ``memory``, else the largest multiples of them that do
        (:func:`chunks_for`). The output's zarr chunks are these blocks'
        outputs.
    memory : int or str, optional
        Budget of the process (of each worker process on a cluster), such as
        ``"4GiB"``. The chunks are chosen, or checked, against the predicted
        peak.
    workers : int, optional
        Blocks computed at once (threads); default: the CPU count. With
        ``client``, the cluster's threads decide.
    client : dask.distributed.Client, optional
        Run the blocks on this cluster; every worker must see ``source`` and
        ``output``.
    overwrite : bool
        Start afresh when ``output`` exists (it is deleted first).
    verify : bool
        When resuming, read back every block that has a record and compare
        its checksum (a block torn by a power cut, or changed since, is then
        computed again). False trusts the records.
    progress : bool
        Show a progress bar with the time left (tqdm).

    Returns
    -------
    dict
        ``output``, ``shape``, ``dtype``, ``chunks`` (the input blocks),
        ``blocks`` (all), ``computed``, ``kept`` (verified or trusted from
        earlier runs), ``recomputed`` (recorded, but failing verification),
        ``shell_reads`` (input chunks read again for their neighbours'
        halos), ``seconds`` and ``predicted_peak`` (bytes, per process).

    Raises
    ------
    ValueError
        Bad shapes or arguments (checked before any work, with the messages
        of :func:`fftconv.conv3d`); a budget too small; ``output`` holding
        something else (another run's arguments, or not a run of this
        function) without ``overwrite``.
    TypeError
        Bad argument types.
    ImportError
        zarr is not installed (``pip install 'fftconv[zarr]'``).

    Examples
    --------
    >>> import numpy as np, zarr, fftconv, fftconv.dask, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> volume = np.random.default_rng(0).standard_normal((64, 64, 64)).astype(np.float32)
    >>> src = zarr.create_array(os.path.join(folder, "in.zarr"), shape=volume.shape, chunks=(32, 32, 32),
    ...                         dtype="float32")
    >>> src[...] = volume
    >>> kernel = np.ones((5, 5, 5), np.float32) / 125
    >>> report = fftconv.dask.convolve_zarr(src, kernel, os.path.join(folder, "out.zarr"), padding="SAME",
    ...                                     workers=2)
    >>> report["blocks"], report["computed"], report["kept"]
    (8, 8, 0)
    >>> out = zarr.open_array(os.path.join(folder, "out.zarr"))
    >>> expected = fftconv.conv3d(volume[None, ..., None], kernel[..., None, None], padding="SAME")[0, ..., 0]
    >>> bool(np.allclose(out[...], expected, atol=1e-5))
    True
    >>> fftconv.dask.convolve_zarr(src, kernel, os.path.join(folder, "out.zarr"), padding="SAME")["kept"]
    8
    """
    try:
        import zarr
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("convolve_zarr needs zarr; install it with `pip install 'fftconv[zarr]'`") from exc
    t0 = time.perf_counter()
    names = {**ARGUMENT_NAMES, **(_names or {})}
    _names = (names["source"], names["filters"])
    src = _open_source(zarr, source, names["source"])
    w = _checks.as_array(_names[1], filters)
    full, wfull, nd, fmt, plain = layout(src.shape, w.shape, data_format, _names)
    w = w.reshape(wfull)
    geom = _checks.check_geometry(full, wfull, nd, strides, padding, fmt, dilations, groups, flip,
                                  names=_names, padding_mode=padding_mode)
    dtype = _checks.check_dtype(_names[0], src.dtype)
    out_dtype = _checks.result_dtypes(dtype, w.dtype, _names)[1]
    channels_first = fmt.startswith("NC")
    workers = _check_workers_count(workers, names["workers"])
    budget = None if memory is None else parse_bytes(memory, names["memory"])
    overwrite = _checks.check_flag("overwrite", overwrite)
    verify = _checks.check_flag("verify", verify)
    options = _options(geom.strides, padding, fmt, geom.dilations, geom.groups, geom.flip, method, backend)
    if client is not None:
        workers = max(sum(client.nthreads().values()) // max(len(client.nthreads()), 1), 1)
    storage = tuple(src.chunks)
    storage_full = (1, *storage, 1) if plain else storage
    bank = FilterBank(w, **options)
    if chunks is None:
        chunks_full = tuple(_regular(n, c) for n, c in zip(full, storage_full))
        chunks_full = _order(chunks_full[0], _spatial(chunks_full, channels_first), (geom.in_channels,),
                             channels_first)
        pred = _predict(bank, _window_shapes(chunks_full, geom, channels_first), chunks_full, channels_first,
                        geom, dtype, workers, 0, KEPT_PLANS)
        fits_strides = all(c % s == 0 or c >= n for c, n, s in zip(
            _spatial(storage_full, channels_first), _spatial(full, channels_first), geom.strides))
        if (budget is not None and pred["peak"] > budget) or not fits_strides:
            _, chunks_full, pred = choose_chunks(bank, full, geom, channels_first, dtype,
                                                 budget or 2**62, workers, 0, storage_full, name=names["memory"])
    else:
        shape_given = _chunk_shape(chunks, src.shape, names["chunks"], _names[0])
        given_full = (1, *shape_given, 1) if plain else shape_given
        chunks_full = tuple(_regular(n, c) for n, c in zip(full, given_full))
        chunks_full = _order(chunks_full[0], _spatial(chunks_full, channels_first), (geom.in_channels,),
                             channels_first)
        pred = _predict(bank, _window_shapes(chunks_full, geom, channels_first), chunks_full, channels_first,
                        geom, dtype, workers, 0, KEPT_PLANS)
        if budget is not None and pred["peak"] > budget:
            raise ValueError(f"`{names['chunks']}`={tuple(chunks)} need about {_gib(pred['peak'])} with "
                             f"{workers} worker(s) ({_terms(pred)}), more than `{names['memory']}`="
                             f"{_gib(budget)}; use "
                             f"fftconv.dask.chunks_for to pick chunks")
    for axis_chunks, s, name in zip(_spatial(chunks_full, channels_first), geom.strides, "DHW"[-nd:]):
        if len(axis_chunks) > 1 and axis_chunks[0] % s:
            raise ValueError(f"`{names['chunks']}` must be divisible by the stride along each axis, so that "
                             f"every output "
                             f"block is whole zarr chunks; got {axis_chunks[0]} along {name} with stride {s}")
    out_path = Path(output)
    sidecar = out_path / SIDECAR
    job = StreamJob(ArrayChunks(src, chunks_full, channels_first, plain), w, options, geom, chunks_full,
                    channels_first, dtype, out_dtype, DirectoryShells(sidecar / "shells"))
    out_full = geom.output_shape if hasattr(geom, "output_shape") else None
    out_chunks = job.out_chunks
    out_full = tuple(sum(c) for c in out_chunks)
    block_full = tuple(max(c) if c else 0 for c in out_chunks)
    out_shape, block_shape = (out_full[1:-1], block_full[1:-1]) if plain else (out_full, block_full)
    plans = sorted(f"{'x'.join(map(str, shape))}: {p.method} {p.backend}" for shape, p in
                   ((shape, bank.plan_for(shape, dtype)) for shape in job.window_shapes() if 0 not in shape))
    identity = _identity(src.shape, dtype, [max(c) for c in chunks_full], w, options, geom, out_shape, out_dtype,
                         block_shape, plans)
    dst = _open_output(zarr, out_path, identity, out_shape, block_shape, out_dtype, overwrite, names)
    records = Records(sidecar / "done")
    records.folder.mkdir(parents=True, exist_ok=True)
    _clear(sidecar / "shells")
    blocks = list(job.blocks())
    checked = _map(job, dst, records, blocks, plain, _verify_block if verify else _has_record, workers,
                   client, None)
    todo = [b for b, ok in zip(blocks, checked) if not ok]
    recomputed = sum(records.read(*b) is not None for b in todo)
    nbytes = {b: math.prod(s.stop - s.start if s.stop is not None else block_full[-1 if not channels_first
                                                                                  else 1]
                           for s in job.block_region(*b)) * np.dtype(out_dtype).itemsize for b in todo}
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm
        bar = tqdm(total=sum(nbytes.values()), unit="B", unit_scale=True, unit_divisor=1024,
                   desc=f"convolve {len(todo)} blocks", smoothing=0.1)
    try:
        _map(job, dst, records, todo, plain, _run_block, workers, client,
             (lambda b: bar.update(nbytes[b])) if bar else None)
    finally:
        if bar is not None:
            bar.close()
    _clear(sidecar / "shells")
    _write_json(sidecar / RUN_FILE, {**identity, "complete": True})
    return {"output": str(out_path), "shape": tuple(out_shape), "dtype": np.dtype(out_dtype),
            "chunks": tuple(max(c) for c in chunks_full[1:-1]) if plain else tuple(max(c) for c in chunks_full),
            "blocks": len(blocks), "computed": len(todo), "kept": len(blocks) - len(todo),
            "recomputed": recomputed, "shell_reads": job.shells.reads,
            "seconds": time.perf_counter() - t0, "predicted_peak": pred["peak"]}


def _has_record(job, dst, records, ib, iout, plain):
    return records.read(ib, iout) is not None


def _chunk_shape(chunks, shape, name, source_name):
    try:
        sizes = tuple(int(c) for c in chunks)
    except TypeError:
        sizes = ()
    if len(sizes) != len(shape) or min(sizes, default=0) < 1:
        raise ValueError(f"`{name}` must be {len(shape)} positive ints, a chunk shape of `{source_name}` "
                         f"{tuple(shape)}; got {chunks!r}")
    return tuple(min(c, max(n, 1)) for c, n in zip(sizes, shape))


def _clear(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _open_output(zarr, path: Path, identity, shape, block_shape, dtype, overwrite, names):
    """The output array: created, or opened to resume a run with the same identity."""
    run_file = path / SIDECAR / RUN_FILE
    if path.exists() and not overwrite:
        try:
            with open(run_file) as f:
                earlier = json.load(f)
        except (OSError, ValueError):
            raise ValueError(f"`{names['output']}` {str(path)!r} exists and is not a run of convolve_zarr; "
                             f"choose another path or pass {names['overwrite']}") from None
        earlier.pop("complete", None)
        if earlier != identity:
            diff = sorted(k for k in identity if earlier.get(k) != identity.get(k))
            raise ValueError(f"`{names['output']}` {str(path)!r} holds a run with other arguments (they differ "
                             f"in {', '.join(diff)}); pass the same arguments to resume it, or "
                             f"{names['overwrite']} "
                             f"to start afresh")
        return zarr.open_array(str(path), mode="r+")
    if path.exists():
        _clear(path)
    dst = zarr.create_array(str(path), shape=shape, chunks=tuple(max(c, 1) for c in block_shape),
                            dtype=dtype, fill_value=0)
    (path / SIDECAR).mkdir(parents=True, exist_ok=True)
    _write_json(run_file, identity)
    return dst


def _map(job, dst, records, blocks, plain, fn, workers, client, done):
    """``[fn(job, dst, records, *block, plain) for block in blocks]``, at most ``workers`` at once,
    on threads here or on ``client``'s cluster; ``done(block)`` after each."""
    results = {}
    if not blocks:
        return []
    if client is not None:
        from distributed import as_completed

        job_f = client.scatter(job, broadcast=True, hash=False)
        limit = sum(client.nthreads().values())
        it = iter(blocks)
        futures = {}
        for b in itertools.islice(it, limit):
            futures[client.submit(fn, job_f, dst, records, *b, plain, pure=False)] = b
        pending = as_completed(list(futures))
        for future in pending:
            b = futures.pop(future)
            results[b] = future.result()
            if done:
                done(b)
            nxt = next(it, None)
            if nxt is not None:
                f = client.submit(fn, job_f, dst, records, *nxt, plain, pure=False)
                futures[f] = nxt
                pending.add(f)
        return [results[b] for b in blocks]
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fftconv-zarr") as pool:
        it = iter(blocks)
        running = {pool.submit(fn, job, dst, records, *b, plain): b for b in itertools.islice(it, workers)}
        try:
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    b = running.pop(future)
                    results[b] = future.result()
                    if done:
                        done(b)
                    nxt = next(it, None)
                    if nxt is not None:
                        running[pool.submit(fn, job, dst, records, *nxt, plain)] = nxt
        except BaseException:
            for future in running:
                future.cancel()
            raise
    return [results[b] for b in blocks]
