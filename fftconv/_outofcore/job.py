"""The job of one out-of-core convolution (everything a block task needs), and the lazy dask graph
of one task per output block."""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict

import numpy as np

from fftconv._ops.forward import FilterBank
from fftconv._outofcore.shells import MemoryShells
from fftconv._outofcore.tables import HIGH, HOME, LOW, _count, _order, _slab_index, plan_axis
from fftconv._runtime import scratch as _scratch
from fftconv._shapes.chunks import boundaries, outer, slice_indices

#: Bound plans (one per window shape, each with its filters' spectrum) kept per process.
KEPT_PLANS = 8


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
            y = self.bound(window.shape, window.dtype)(window)
            return y if y.dtype == self.out_dtype else y.astype(self.out_dtype)  # folded float16 filters
        finally:
            del window
            _scratch.release()  # an idle worker thread keeps no scratch memory


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
