#!/usr/bin/env python3
"""``fftconv.dask.conv2d`` on a chunked Dask array.

A batch of images is wrapped in a ``dask.array`` split into spatial chunks,
convolved lazily with a 31 x 31 filter bank (``padding="SAME"``) and computed
with Dask's threaded scheduler (or, with ``--distributed``, on a local
``dask.distributed`` cluster). The script prints the input and output chunks
and the number of tasks, checks the result against the in-memory
``fftconv.conv2d``, and times both.

Needs the ``dask`` extra (``pip install "fftconv[dask]"``); without it, it
says so and exits cleanly.

Run::

    python examples/dask_example.py                 # 2 x 1024 x 1024 x 1, chunks of 256 x 512
    python examples/dask_example.py --quick         # 1 x 512 x 512 x 1, chunks of 128 x 256
    python examples/dask_example.py --distributed   # on a local 2-worker cluster
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import fftconv


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller batch")
    parser.add_argument("--distributed", action="store_true",
                        help="compute on a local dask.distributed cluster (2 workers)")
    args = parser.parse_args(argv)
    try:
        import dask
        import dask.array as da

        import fftconv.dask
    except ImportError as exc:
        print(f"skipped: this example needs dask ({exc}); "
              f"install it with: pip install 'fftconv[dask]'")
        return 0

    batch, size, chunk = (1, 512, (128, 256)) if args.quick else (2, 1024, (256, 512))
    rng = np.random.default_rng(0)
    images = rng.standard_normal((batch, size, size, 1)).astype(np.float32)
    w = rng.standard_normal((31, 31, 1, 4)).astype(np.float32)

    x = da.from_array(images, chunks=(1, *chunk, 1))
    y = fftconv.dask.conv2d(x, w, padding="SAME")  # lazy: nothing is computed yet
    print(f"input  {x.shape} {x.dtype}, chunks {x.chunksize} ({x.npartitions} chunks)")
    print(f"output {y.shape} {y.dtype}, chunks {y.chunksize} ({y.npartitions} tasks, "
          f"{len(dict(y.__dask_graph__()))} graph keys in all)")

    client = None
    if args.distributed:
        from dask.distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        print(f"computing on {client}")
    else:
        print(f"computing with dask's default scheduler ({dask.config.get('scheduler', 'threads')})")

    try:
        t0 = time.perf_counter()
        result = y.compute()
        t_dask = time.perf_counter() - t0
    finally:
        if client is not None:
            client.close()
            cluster.close()

    t0 = time.perf_counter()
    expected = fftconv.conv2d(images, w, padding="SAME")
    t_memory = time.perf_counter() - t0
    err = float(np.linalg.norm(result - expected) / np.linalg.norm(expected))
    print(f"dask: {t_dask * 1e3:.0f} ms; in memory: {t_memory * 1e3:.0f} ms; relative L2 "
          f"difference {err:.1e}")
    print("(on one machine, Dask adds scheduling and halo copies to the same work; it pays "
          "off when the data does not fit in memory, or on a cluster)")
    if not err < 1e-5:
        print("error: the Dask result differs from the in-memory one", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
