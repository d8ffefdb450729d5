"""The package's layout: layers whose imports run downward only, no circle, a small top level.

The layers, from the ground up:

==========  ==============================================================
layer       what lives there
==========  ==============================================================
_shapes     pure arithmetic on shapes (geometry, adjoint, padding rules)
_checks     argument checks and messages
_runtime    array rules, scratch memory, threads, the cache folder
methods,    one module per convolution method; FFT backends behind one
backends    interface (they never import each other)
_engine     cost model, planner, plans, guards, kept spectra, measurement
_ops        the operations: forward, transposes, gradients, signal, ...
edges       fftconv.dask (and its out-of-core package, fftconv._outofcore),
            fftconv.calibration, fftconv.testing, fftconv.torch, fftconv.jax
package     fftconv/__init__.py: the public names
front       the command line
==========  ==============================================================

A module may import its own layer (without a circle) or any layer below it.
Imports inside functions count too: they are how a lazy import hides a
dependency, not how it escapes one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fftconv"

#: Layer of each first component under ``fftconv`` (a module or a subpackage).
LAYERS = {
    "_shapes": 0,
    "_checks": 1,
    "_runtime": 2,
    "methods": 3,
    "backends": 3,
    "_engine": 4,
    "_ops": 5,
    "dask": 6, "calibration": 6, "testing": 6, "torch": 6, "jax": 6, "_outofcore": 6,
    "": 7,  # fftconv/__init__.py, the public names
    "cli": 8, "__main__": 9,
}
#: Layers that share a floor but may not import each other.
APART = {("methods", "backends"), ("backends", "methods")}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _imports(name: str, path: Path):
    """Absolute names of the fftconv modules (or packages) that ``path`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "fftconv":
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "fftconv":
                continue
            for alias in node.names:  # `from fftconv._engine import plan` imports fftconv._engine.plan
                yield f"{target}.{alias.name}" if _is_module(f"{target}.{alias.name}") else target


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").exists() or (PACKAGE / rel / "__init__.py").exists()


def _layer_key(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


GRAPH = {name: sorted(set(_imports(name, path)) - {name}) for name, path in _modules()}


def test_every_module_belongs_to_a_layer():
    unknown = sorted({_layer_key(name) for name in GRAPH} - set(LAYERS))
    assert not unknown, f"modules outside every layer: {unknown}; add them to LAYERS (and the docstring)"


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_run_downward(name):
    upward = []
    for target in GRAPH[name]:
        a, b = _layer_key(name), _layer_key(target)
        if LAYERS[b] > LAYERS[a] or (a, b) in APART:
            upward.append(target)
    assert not upward, f"{name} (layer {_layer_key(name) or 'fftconv'}) imports upward: {upward}"


def test_no_import_circle():
    # a package's __init__ importing its own submodules is how a package is made, not a circle
    edges = {n: [t for t in ts if not t.startswith(n + ".")] for n, ts in GRAPH.items()}
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in edges.get(node, ()):
            if state.get(nxt) == "open":
                circle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import circle: " + " -> ".join(circle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_top_level_has_at_most_ten_modules():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 10, f"{len(top)} modules at the top of the package: {top}"


def test_the_core_imports_no_framework():
    # fftconv.torch and fftconv.jax are edges: `import fftconv` must load neither them nor torch or jax
    import subprocess
    import sys

    code = ("import sys, fftconv; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'jax', 'jaxlib') "
            "or m in ('fftconv.torch', 'fftconv.jax')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent).stdout
    assert out.strip() == "[]", out
