"""Sphinx configuration of the fftconv documentation.

Build the site and run every example in it (the pages and the docstrings
pulled in by the API reference)::

    python -m sphinx -W -b html docs docs/_build/html
    python -m sphinx -b doctest docs docs/_build/doctest

``tests/test_docs.py`` runs both.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.parsers.rst.directives.images import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # document the working tree, installed or not

import fftconv  # noqa: E402

project = "fftconv"
author = "the fftconv developers"
copyright = "the fftconv developers"  # noqa: A001  (Sphinx's name)
version = release = fftconv.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "numpydoc",
]

source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]
# Markdown written next to these pages (e.g. dask.md) is not a source here; see scaling.rst.

# -- autodoc and numpydoc ---------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "none"          # the numpydoc sections carry the types
numpydoc_show_class_members = False  # members are listed explicitly in api.rst
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

try:
    import dask.array  # noqa: F401
    HAVE_DASK = True
except ImportError:
    HAVE_DASK = False
#: fftconv.dask, fftconv.torch and fftconv.jax import their framework at the top: without it the
#: framework is mocked, so that the reference still renders (their examples are dropped, see below).
OPTIONAL = {"dask": HAVE_DASK}
for _name in ("torch", "jax", "zarr"):
    try:
        __import__(_name)
        OPTIONAL[_name] = True
    except ImportError:
        OPTIONAL[_name] = False
autodoc_mock_imports = [name for name, present in OPTIONAL.items() if not present and name != "zarr"]
#: Functions whose examples need another optional package than their module's.
NEEDS = {"fftconv.dask.convolve_zarr": "zarr"}

# -- doctest ------------------------------------------------------------------------

# Every ``>>>`` block runs: those in the pages and those autodoc pulls in from the
# docstrings.  The flags match pytest's (``NUMBER`` aside, which is pytest's own).
doctest_test_doctest_blocks = "default"
doctest_global_setup = """
import importlib.util
import numpy as np
import fftconv
HAVE_TF = importlib.util.find_spec("tensorflow") is not None
try:
    import dask.array as da
except ImportError:
    da = None
try:
    import zarr
except ImportError:
    zarr = None
try:
    import torch
except ImportError:
    torch = None
try:
    import jax
except ImportError:
    jax = None
"""

import doctest  # noqa: E402

doctest_default_flags = (doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
                         | doctest.IGNORE_EXCEPTION_DETAIL | doctest.DONT_ACCEPT_TRUE_FOR_1)

# -- HTML -----------------------------------------------------------------------------

html_theme = "alabaster"
html_title = f"fftconv {release}"
html_static_path: list[str] = []
html_show_sourcelink = False

# docs/dask.md, when present, is published as-is next to the pages and
# linked from scaling.rst (the ``dask_md`` tag); it is not parsed (no Markdown parser
# is a dependency of the docs).
if (HERE / "dask.md").exists():
    html_extra_path = ["dask.md"]
    tags.add("dask_md")  # noqa: F821  (``tags`` is provided by Sphinx)


# -- small local extensions ------------------------------------------------------------

class OptionalImage(Image):
    """``.. optional-image:: path``: the image if the file exists, else a note.

    The crossover plot ``images/sweep.png`` is written by
    ``python benchmarks/bench_sweep.py --readme``; a fresh checkout may not have it,
    and a missing image must not break a ``-W`` build.
    """

    def run(self):
        env = self.state.document.settings.env
        _, path = env.relfn2path(self.arguments[0], env.docname)
        if Path(path).exists():
            return super().run()
        note = nodes.paragraph()
        note += nodes.emphasis(text=(
            f"(The plot {self.arguments[0]} has not been generated in this checkout: run "
            f"python benchmarks/bench_sweep.py --readme and rebuild the docs.)"))
        return [note]


class ConstantsTable(Directive):
    """``.. constants-table::``: the cost-model constants, read from the source.

    One row per entry of :data:`fftconv._engine.costs.DEFAULT_CONSTANTS`: its name,
    its shipped value and the comment on its line, so the table follows the
    code without anyone copying it.
    """

    def run(self):
        from fftconv._engine import constants as _planner

        comments = {}
        for line in inspect.getsource(_planner).splitlines():
            match = re.match(r'\s*"(\w+)":\s*[^#]*#\s*(.*)', line)
            if match:
                comments[match.group(1)] = match.group(2).strip()
        rows = [(name, f"{value:.4g}", comments.get(name, ""))
                for name, value in _planner.DEFAULT_CONSTANTS.items()]
        table = nodes.table()
        group = nodes.tgroup(cols=3)
        table += group
        for width in (22, 12, 66):
            group += nodes.colspec(colwidth=width)
        head, body = nodes.thead(), nodes.tbody()
        group += head
        group += body
        for target, cells in ((head, ("constant", "shipped value", "meaning")), *(
                (body, row) for row in rows)):
            row = nodes.row()
            for i, text in enumerate(cells):
                entry = nodes.entry()
                para = nodes.paragraph()
                para += nodes.literal(text=text) if i == 0 and target is body else nodes.Text(text)
                entry += para
                row += entry
            target += row
        return [table]


def _drop_dask_examples(app, what, name, obj, options, lines):
    """Without dask (torch, jax), fftconv.dask (.torch, .jax) is mocked: keep its text, drop its Examples."""
    framework = name.split(".")[1] if name.startswith("fftconv.") and name.count(".") else ""
    framework = NEEDS.get(name) if OPTIONAL.get(framework, True) and name in NEEDS else framework
    if OPTIONAL.get(framework, True):
        return
    if "Examples" in lines:
        del lines[lines.index("Examples") + 2:]
        lines.extend([f"The examples of this function need {framework}, which was not installed "
                      "where this page was built.", ""])


_STARRED_SHAPE = re.compile(r"(?<![\\`*])\*(?=[A-Za-z_])")


def _escape_starred_shapes(app, what, name, obj, options, lines):
    """Escape ``*name`` in shapes such as ``x : array_like, shape (N, *spatial, C)``.

    reST would read the ``*`` as the start of emphasis and warn. The docstrings
    are left as they are; this only changes what Sphinx renders.
    """
    for i, line in enumerate(lines):
        if "shape (" in line and "`" not in line:
            lines[i] = _STARRED_SHAPE.sub(r"\\*", line)


def setup(app):
    app.add_directive("optional-image", OptionalImage)
    app.add_directive("constants-table", ConstantsTable)
    # before numpydoc (priority 500) turns the sections into reST
    app.connect("autodoc-process-docstring", _drop_dask_examples, priority=100)
    app.connect("autodoc-process-docstring", _escape_starred_shapes, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
