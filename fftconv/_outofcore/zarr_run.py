"""A resumable run from one zarr array into another: blocks written one at a time, each followed
by a completion record holding its checksum, verified when the run is started again."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import threading
import time
import zlib
from pathlib import Path

import numpy as np

from fftconv import _checks
from fftconv._ops.forward import FilterBank
from fftconv._outofcore.budget import (_check_workers_count, _gib, _options, _predict, _regular, _terms,
                                       _window_shapes, choose_chunks, layout, parse_bytes)
from fftconv._outofcore.job import KEPT_PLANS, StreamJob
from fftconv._outofcore.reading import ArrayChunks
from fftconv._outofcore.shells import DirectoryShells
from fftconv._outofcore.tables import _order, _spatial


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
    bank = FilterBank(w, **options)
    chunks_full, pred = _input_blocks(src, full, plain, chunks, budget, bank, geom, channels_first, dtype, workers,
                                      names)
    out_path = Path(output)
    sidecar = out_path / SIDECAR
    job = StreamJob(ArrayChunks(src, chunks_full, channels_first, plain), w, options, geom, chunks_full,
                    channels_first, dtype, out_dtype, DirectoryShells(sidecar / "shells"))
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
    nbytes = {b: math.prod(len(range(n)[s]) for n, s in zip(out_full, job.block_region(*b)))
              * np.dtype(out_dtype).itemsize for b in todo}
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


def _input_blocks(src, full, plain, chunks, budget, bank, geom, channels_first, dtype, workers, names):
    """The input blocks (chunks per axis, in the full layout) and their prediction: ``chunks`` checked
    against ``budget``, or the store's chunks if they fit it, else the largest multiples that do."""
    nd = geom.ndim
    if chunks is None:
        given_full = (1, *src.chunks, 1) if plain else tuple(src.chunks)
    else:
        shape_given = _chunk_shape(chunks, src.shape, names["chunks"], names["source"])
        given_full = (1, *shape_given, 1) if plain else shape_given
    chunks_full = tuple(_regular(n, c) for n, c in zip(full, given_full))
    chunks_full = _order(chunks_full[0], _spatial(chunks_full, channels_first), (geom.in_channels,), channels_first)
    pred = _predict(bank, _window_shapes(chunks_full, geom, channels_first), chunks_full, channels_first, geom,
                    dtype, workers, 0, KEPT_PLANS)
    if chunks is None:
        fits_strides = all(c % s == 0 or c >= n for c, n, s in zip(
            _spatial(given_full, channels_first), _spatial(full, channels_first), geom.strides))
        if (budget is not None and pred["peak"] > budget) or not fits_strides:
            _, chunks_full, pred = choose_chunks(bank, full, geom, channels_first, dtype, budget or 2**62, workers,
                                                 0, given_full, name=names["memory"])
    elif budget is not None and pred["peak"] > budget:
        raise ValueError(f"`{names['chunks']}`={tuple(chunks)} need about {_gib(pred['peak'])} with {workers} "
                         f"worker(s) ({_terms(pred)}), more than `{names['memory']}`={_gib(budget)}; use "
                         f"fftconv.dask.chunks_for to pick chunks")
    for axis_chunks, s, name in zip(_spatial(chunks_full, channels_first), geom.strides, "DHW"[-nd:]):
        if len(axis_chunks) > 1 and axis_chunks[0] % s:
            raise ValueError(f"`{names['chunks']}` must be divisible by the stride along each axis, so that every "
                             f"output block is whole zarr chunks; got {axis_chunks[0]} along {name} with stride {s}")
    return chunks_full, pred


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
