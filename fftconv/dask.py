"""Convolution of :mod:`dask.array` inputs, on one machine or a dask.distributed cluster.

``fftconv.dask.conv2d(x, filters, ...)`` takes a lazy ``dask.array.Array``
``x`` and numpy ``filters``, with the arguments of :func:`fftconv.conv2d`, and
returns a lazy dask array equal to ``fftconv.conv2d(x.compute(), filters, ...)``.
It runs on dask's default threaded scheduler with nothing to set up, and on a
``dask.distributed`` cluster when a ``Client`` is active.

How the graph is built
----------------------
1. All arguments are checked at once by the in-memory checks, on shapes
   alone, before any graph exists.
2. Output chunks: the batch chunks are the input's; along each spatial axis
   every input chunk boundary ``b`` becomes the output boundary
   ``ceil(b / s)``. So with SAME padding and stride 1 the output chunks are
   the input chunks, with VALID the last ones shrink, and with stride ``s``
   they are ``1 / s`` of them (regular when the chunk size divides by
   ``s``). Channels are one chunk.
3. Output chunk ``[o0, o1)`` reads the padded-input window
   ``[o0 * s, (o1 - 1) * s + eff)``. Its task receives exactly the input
   chunks that window reads (any number of them, so halos larger than
   a neighbouring chunk, uneven chunks and chunks smaller than the kernel all
   work), copies them into a zeroed window (the zeros being the padding) and
   runs the in-memory convolution on it with VALID padding. Windows start on
   multiples of the stride, so strided outputs land exactly.  With a
   ``padding_mode`` other than zeros the window's pads are copied from the
   chunks that hold their values (:func:`fftconv._shapes.padding.source_index`, the
   rule of :func:`numpy.pad`): mirrored pieces of the chunks at the array's
   edge for ``"reflect"`` and ``"symmetric"``, its edge samples for
   ``"edge"``, and pieces of the chunks at the opposite edge for ``"wrap"``.
4. The filters sit in the graph once, under one key that every task
   references: the threaded scheduler shares one object, and a distributed
   cluster sends them to each worker once.
5. That one object also keeps, per distinct window shape, the bound plan
   (the planner's decision and, for the FFT method, the filters' spectrum),
   so each chunk shape is planned once per process.

``workers=None`` means one FFT thread per task here, because dask already
runs one task per core; pass ``workers`` to change it.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass

import numpy as np

try:
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "fftconv.dask needs dask; install it with `pip install 'fftconv[dask]'`"
    ) from exc

from fftconv import _checks, _outofcore
from fftconv._engine import planner
from fftconv._ops.forward import FilterBank
from fftconv._shapes.chunks import boundaries as _boundaries, output_chunks, window_pieces
from fftconv._shapes.chunks import outer as _outer, slice_indices as _slice_indices
from fftconv._shapes.fold import fold as _fold
from fftconv.backends import available_backends

__all__ = ["conv1d", "conv2d", "conv3d", "depthwise_conv2d", "chunks_for", "convolve_zarr"]

# out of core (arrays larger than memory, read from storage): see fftconv._outofcore
chunks_for = _outofcore.chunks_for
convolve_zarr = _outofcore.convolve_zarr


# -- the filters, shared by every task ----------------------------------------------

class _SharedFilters:
    """Filters plus their per-window-shape bound plans: one graph key for all tasks.

    Pickles as the filters and options only, so a cluster ships the filters,
    never the plans or spectra, and each process prepares its own.
    """

    def __init__(self, filters, options, token):
        self._bank = FilterBank(filters, **options)  # checks and keeps a read-only copy
        self.filters = self._bank.filters
        self.options = options
        self.token = token
        self._bound = {}
        self._lock = threading.Lock()

    def __reduce__(self):
        return _SharedFilters, (self.filters, self.options, self.token)

    def __dask_tokenize__(self):
        return self.token

    def bound(self, shape, dtype):
        """The bound plan for windows of ``shape`` and ``dtype``, made once."""
        key = (shape, np.dtype(dtype))
        bound = self._bound.get(key)
        if bound is None:
            with self._lock:  # one thread plans; the others wait for it and reuse
                bound = self._bound.get(key)
                if bound is None:
                    plan = self._bank.plan_for(shape, dtype)
                    bound = self._bound[key] = plan.bind(self.filters)
        return bound


@dataclass(frozen=True)
class _Window:
    """One output chunk's input window: its shape and where each input piece goes.

    ``pieces[i]`` is ``(destination, source)``: index tuples into the window
    and into the ``i``-th input chunk the task receives. Every input channel
    chunk is included.
    """

    shape: tuple
    dtype: np.dtype
    pieces: tuple
    out_shape: tuple
    out_dtype: np.dtype


def _conv_block(shared, window, chunks):
    """The task: assemble the padded window from input chunks and convolve it."""
    if not window.pieces or 0 in window.shape:
        return np.zeros(window.out_shape, dtype=window.out_dtype)
    block = np.zeros(window.shape, dtype=window.dtype)
    for (dst, src), chunk in zip(window.pieces, chunks):
        block[dst] = chunk[src]
    y = shared.bound(block.shape, block.dtype)(block)
    return y if y.dtype == window.out_dtype else y.astype(window.out_dtype)  # folded float16 filters


def _gathered(x, fold, channels_first):
    """``fold.gather`` on a dask array: along each folded axis, the samples at its sources (a zero
    appended for the -1 positions)."""
    offset = 2 if channels_first else 1
    for a in fold.axes:
        axis = a.axis + offset
        index = a.sources
        if (index < 0).any():
            zero_shape = list(x.shape)
            zero_shape[axis] = 1
            zero = da.zeros(zero_shape, dtype=x.dtype, chunks=tuple(
                (1,) if i == axis else c for i, c in enumerate(x.chunks)))
            index = np.where(index < 0, x.shape[axis], index)
            x = da.concatenate([x, zero], axis=axis)
        x = da.take(x, index, axis=axis)
    return x


# -- the graph -----------------------------------------------------------------------

def _check_dask_input(input):
    if not isinstance(input, da.Array):
        raise TypeError(
            f"`input` must be a dask.array.Array; got {type(input).__name__}. Use "
            f"fftconv.conv2d (and kin) for in-memory arrays, or wrap it with "
            f"dask.array.from_array"
        )
    if any(math.isnan(c) for cs in input.chunks for c in cs):
        raise ValueError(
            f"`input` must have known chunk sizes; got chunks {input.chunks}. Call "
            f"input.compute_chunk_sizes() first"
        )
    _checks.check_dtype("input", input.dtype)
    return input


def _convolve(ndim, input, filters, strides, padding, data_format, dilations, groups, flip,
              method, workers, measure, backend="auto", *, names=("input", "filters"),
              kind=None, padding_mode="constant"):
    """Check every argument on shapes, then build the graph: one task per output chunk."""
    x = _check_dask_input(input)
    w = _checks.as_array(names[1], filters.compute() if _checks.is_dask_array(filters) else filters)
    method = planner.check_method(method)
    workers = 1 if workers is None else _checks.check_workers(workers)
    measure = _checks.check_flag("measure", measure)
    backend = _checks.check_backend(backend, available_backends())
    geom = _checks.check_geometry(x.shape, w.shape, ndim, strides, padding, data_format,
                                  dilations, groups, flip, names=names, padding_mode=padding_mode)
    out_dtype = _checks.result_dtypes(x.dtype, w.dtype)[1]
    channels_first = data_format.startswith("NC")
    fold = _fold(geom)
    if fold is not None:  # a dilated kernel whose taps mostly read pads: its folded convolution (no
        # window grows with the dilation), on the input gathered along the folded axes
        x, w, geom = _gathered(x, fold, channels_first), fold.filters(w), fold.folded
    options = dict(strides=geom.strides, padding="VALID", data_format=data_format,
                   dilations=geom.dilations, groups=geom.groups, flip=geom.flip, method=method,
                   workers=workers, measure=measure, backend=backend)
    reader = _outofcore.chunk_reader(x, channels_first)
    if reader is not None:  # read from storage: each task reads its own window, memory stays bounded
        return _outofcore.streamed_array(x, reader, w, options, geom, out_dtype, channels_first,
                                         kind or f"conv{ndim}d")

    token = tokenize(x.name, w, options, geom)
    name = f"fftconv-{kind or f'conv{ndim}d'}-{token}"
    filters_key = f"fftconv-filters-{token}"
    graph = {filters_key: _SharedFilters(w, options, token)}
    axes = _spatial_windows(x.chunks, geom, channels_first)
    for ib, nb in enumerate(x.chunks[0]):
        for iout in itertools.product(*(range(len(chunks)) for chunks, _ in axes)):
            window, inputs = _window(x, geom, axes, ib, nb, iout, out_dtype, channels_first)
            keys = [(x.name, *index) for index in inputs]
            graph[(name, *_order(ib, iout, 0, channels_first))] = (
                _conv_block, filters_key, window, keys)

    out_chunks = _order(x.chunks[0], [chunks for chunks, _ in axes], (geom.out_channels,),
                        channels_first)
    hlg = HighLevelGraph.from_collections(name, graph, dependencies=[x])
    return da.Array(hlg, name, out_chunks, meta=np.empty((0,) * (ndim + 2), dtype=out_dtype))


def _spatial_windows(in_chunks, geom, channels_first):
    """Per spatial axis: the output chunks and, for each, its window ``(length, pieces)``."""
    first = 2 if channels_first else 1
    axes = []
    for axis, s, e, (lo, hi), m in zip(range(first, first + geom.ndim), geom.strides,
                                       geom.eff_kernel, geom.pads, geom.out_spatial):
        out_chunks = output_chunks(in_chunks[axis], m, s)
        bounds = _boundaries(out_chunks)
        axes.append((out_chunks, [window_pieces(in_chunks[axis], a, b, s, e, lo, hi, geom.padding_mode)
                                  if b > a else (0, []) for a, b in zip(bounds, bounds[1:])]))
    return axes


def _window(x, geom, axes, ib, nb, iout, out_dtype, channels_first):
    """The :class:`_Window` of output chunk ``(ib, *iout)`` and the block indices it reads."""
    lengths, axis_pieces = zip(*(axes[a][1][i] for a, i in enumerate(iout)))
    out_spatial = [axes[a][0][i] for a, i in enumerate(iout)]
    c_bounds = _boundaries(x.chunks[1 if channels_first else -1])
    channel_pieces = [(k, slice(a, b), slice(None))
                      for k, (a, b) in enumerate(zip(c_bounds, c_bounds[1:]))]
    inputs, pieces = [], []
    for *spatial, channel in itertools.product(*axis_pieces, channel_pieces):
        index, dst, src = ([p[j] for p in spatial] for j in range(3))
        if any(isinstance(i, np.ndarray) for i in dst):  # a gathered piece: every axis as arrays
            src = [_slice_indices(s, d.stop - d.start) if isinstance(s, slice) else s for d, s in zip(dst, src)]
            dst, src = _outer(dst), _outer(src)
        inputs.append(_order(ib, index, channel[0], channels_first))
        pieces.append((_order(slice(None), dst, channel[1], channels_first),
                       _order(slice(None), src, channel[2], channels_first)))
    window = _Window(shape=_order(nb, lengths, geom.in_channels, channels_first),
                     dtype=x.dtype, pieces=tuple(pieces),
                     out_shape=_order(nb, out_spatial, geom.out_channels, channels_first),
                     out_dtype=out_dtype)
    return window, inputs


def _order(batch, spatial, channels, channels_first):
    """A ``(batch, *spatial, channels)`` triple in data_format order, as a tuple."""
    if channels_first:
        return (batch, channels, *spatial)
    return (batch, *spatial, channels)


# -- public functions ----------------------------------------------------------------

def conv2d(input, filters, strides=1, padding="VALID", data_format="NHWC", dilations=1, *,
           groups=None, flip=False, padding_mode="constant", method="auto", workers=None, measure=False,
           backend="auto"):
    """2-D convolution of a dask array, equal to :func:`fftconv.conv2d` on its values.

    Parameters
    ----------
    input : dask.array.Array
        ``(N, H, W, C_in)``, or ``(N, C_in, H, W)`` with ``data_format="NCHW"``,
        chunked along any axes (chunks of the channel axis are gathered).
    filters : array_like
        ``(kh, kw, C_in / groups, C_out)`` (HWIO), in memory; it is put in the
        graph once.
    strides, padding, data_format, dilations, groups, flip, padding_mode, method, measure, backend
        As for :func:`fftconv.conv2d`; ``measure=True`` times both methods
        once per chunk shape in each worker process.  The pads of
        ``padding_mode`` are taken from the array's own edges (the opposite
        edge for ``"wrap"``), whatever the chunks.
    workers : int, optional
        FFT threads per task; ``None`` means 1, since dask runs one task per
        core.

    Returns
    -------
    dask.array.Array
        Lazy ``(N, out_h, out_w, C_out)`` (or NCHW), with the dtype
        :func:`fftconv.conv2d` would return. Batch chunks are the input's,
        spatial chunks the input's divided by the stride, channels one chunk.

    Raises
    ------
    TypeError
        ``input`` is not a dask array, or bad argument types.
    ValueError
        Bad shapes or values (checked on shapes, before any work), or
        unknown chunk sizes.

    See Also
    --------
    fftconv.conv2d : the in-memory function with the same semantics.

    Examples
    --------
    >>> import numpy as np, dask.array as da, fftconv.dask
    >>> x = da.ones((1, 6, 6, 1), chunks=(1, 2, 4, 1), dtype=np.float32)
    >>> w = np.ones((3, 3, 1, 1), dtype=np.float32)
    >>> y = fftconv.dask.conv2d(x, w, padding="SAME")
    >>> y.chunks
    ((1,), (2, 2, 2), (4, 2), (1,))
    >>> y.compute()[0, :, :, 0]
    array([[4., 6., 6., 6., 6., 4.],
           [6., 9., 9., 9., 9., 6.],
           [6., 9., 9., 9., 9., 6.],
           [6., 9., 9., 9., 9., 6.],
           [6., 9., 9., 9., 9., 6.],
           [4., 6., 6., 6., 6., 4.]], dtype=float32)
    """
    return _convolve(2, input, filters, strides, padding, data_format, dilations, groups, flip,
                     method, workers, measure, backend, padding_mode=padding_mode)


def conv1d(input, filters, strides=1, padding="VALID", data_format="NWC", dilations=1, *,
           groups=None, flip=False, padding_mode="constant", method="auto", workers=None, measure=False,
           backend="auto"):
    """1-D convolution of a dask array (NWC input, WIO filters); see :func:`conv2d`.

    Examples
    --------
    >>> import numpy as np, dask.array as da, fftconv.dask
    >>> signal = da.arange(8.0, chunks=3).reshape(1, 8, 1)
    >>> fftconv.dask.conv1d(signal, np.ones((3, 1, 1)), strides=2).compute()[0, :, 0]
    array([ 3.,  9., 15.])
    """
    return _convolve(1, input, filters, strides, padding, data_format, dilations, groups, flip,
                     method, workers, measure, backend, padding_mode=padding_mode)


def conv3d(input, filters, strides=1, padding="VALID", data_format="NDHWC", dilations=1, *,
           groups=None, flip=False, padding_mode="constant", method="auto", workers=None, measure=False,
           backend="auto"):
    """3-D convolution of a dask array (NDHWC input, DHWIO filters); see :func:`conv2d`.

    Examples
    --------
    >>> import numpy as np, dask.array as da, fftconv.dask
    >>> volume = da.ones((1, 8, 8, 8, 1), chunks=(1, 4, 4, 4, 1))
    >>> fftconv.dask.conv3d(volume, np.ones((3, 3, 3, 1, 2)), padding="SAME").shape
    (1, 8, 8, 8, 2)
    """
    return _convolve(3, input, filters, strides, padding, data_format, dilations, groups, flip,
                     method, workers, measure, backend, padding_mode=padding_mode)


def depthwise_conv2d(input, filter, strides=1, padding="VALID", data_format="NHWC",
                     dilations=1, *, flip=False, padding_mode="constant", method="auto", workers=None,
                     measure=False, backend="auto"):
    """Depthwise 2-D convolution of a dask array, as :func:`fftconv.depthwise_conv2d`.

    ``filter`` is TF's ``(kh, kw, C, M)``; the result has ``C * M`` channels,
    channel ``k * M + q`` from input channel ``k``. See :func:`conv2d`.

    Examples
    --------
    >>> import numpy as np, dask.array as da, fftconv.dask
    >>> x = da.ones((1, 4, 4, 2), chunks=(1, 2, 2, 1))
    >>> w = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))], axis=-1)[..., None]
    >>> fftconv.dask.depthwise_conv2d(x, w).compute()[0, 0, 0]
    array([ 9., 18.])
    """
    x = _check_dask_input(input)
    w = _checks.as_array("filter", filter.compute() if _checks.is_dask_array(filter) else filter)
    hwio = _checks.check_depthwise_filter(w.shape)
    channels = _checks.input_channels(x.shape, data_format, 2)
    _checks.check_depthwise_channels(channels, w.shape)
    return _convolve(2, x, w.reshape(hwio), strides, padding, data_format, dilations, channels,
                     flip, method, workers, measure, backend, names=("input", "filter"),
                     kind="depthwise_conv2d", padding_mode=padding_mode)
