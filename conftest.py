"""pytest's collection at the repository's root.

``--doctest-modules`` imports every module of the package, and
:mod:`fftconv.torch` and :mod:`fftconv.jax` import torch and jax (optional
extras): without them those two modules are not collected, as their tests in
``tests/`` skip. The same goes for :mod:`fftconv.dask` without dask, and for the
out-of-core module's examples without dask or zarr (the ``dask`` extra brings both).
"""

import importlib.util

collect_ignore = [f"fftconv/{name}.py" for name in ("torch", "jax", "dask") if importlib.util.find_spec(name) is None]
if importlib.util.find_spec("dask") is None or importlib.util.find_spec("zarr") is None:
    collect_ignore.append("fftconv/_outofcore")
