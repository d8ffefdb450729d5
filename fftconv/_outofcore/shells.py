"""Shells: the thin slabs at the ends of an input chunk that neighbouring windows read, kept in a
memory cache with a byte budget or in files beside the output."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from fftconv._outofcore.tables import HIGH, LOW

#: Budget of the shells cache of a lazy dask computation, per process.
SHELL_CACHE_BYTES = 512 * 2**20
_SIDES = {LOW: "low", HIGH: "high"}


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
