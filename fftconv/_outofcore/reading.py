"""Reading one input chunk inside a task: from a zarr array or memory map, or from a dask array's own
small graph (the chunks of ``da.from_zarr`` and cheap per-chunk steps on it)."""

from __future__ import annotations

import numpy as np

from fftconv._outofcore.tables import _order
from fftconv._shapes.chunks import boundaries

#: A chunk of the input is read again inside a task only if its dask graph has at most this many
#: tasks: reading from storage and cheap per-chunk steps (``astype``, ``x[None, ..., None]``).
MAX_CHUNK_TASKS = 16


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
