"""pytest's collection at the repository's root.

``--doctest-modules`` imports every module of the package, and
:mod:`fftconv.torch` and :mod:`fftconv.jax` import torch and jax (optional
extras): without them those two modules are not collected, as their tests in
``tests/`` skip.
"""

import importlib.util

collect_ignore = [f"fftconv/{name}.py" for name in ("torch", "jax") if importlib.util.find_spec(name) is None]
