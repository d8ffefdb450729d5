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

from fftconv._outofcore import budget, job, reading, shells, tables, zarr_run
from fftconv._outofcore.budget import BASE_BYTES, chunks_for, parse_bytes, predicted_peak
from fftconv._outofcore.job import StreamJob, streamed_array
from fftconv._outofcore.reading import chunk_reader
from fftconv._outofcore.shells import DirectoryShells, MemoryShells
from fftconv._outofcore.tables import HIGH, HOME, LOW, plan_axis
from fftconv._outofcore.zarr_run import convolve_zarr

__all__ = ["budget", "job", "reading", "shells", "tables", "zarr_run", "BASE_BYTES", "chunks_for",
           "parse_bytes", "predicted_peak", "StreamJob", "streamed_array", "chunk_reader", "DirectoryShells",
           "MemoryShells", "HIGH", "HOME", "LOW", "plan_axis", "convolve_zarr"]
