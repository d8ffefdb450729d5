"""A skip means something is missing (issue 24: ``pytest -ra`` printed 54 SKIPPED lines, most of
them "X cannot run these shapes").

The tests' grids generate only the combinations that can run
(:func:`conftest.grid`); what may still skip is a test whose optional package
(``pytest.importorskip``), build feature or environment is absent. This reads
every skip in the tests and checks that its reason says which.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FILES = sorted([*HERE.glob("*.py"), HERE.parent / "conftest.py"])

#: What a skip's reason may say: a package or part that is missing, too old, built without a
#: feature, or turned off (``FFTCONV_DISABLE``), or an environment that already runs the test's work.
MISSING = ("needs", "not installed", "predates", "build does not", "turns", "already running")


def _text(node) -> str:
    """The literal parts of a string or f-string argument."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return ""


def _skips(path: Path):
    """``(line, kind, reason)`` of each ``pytest.skip(...)``, ``pytest.mark.skip(...)`` and
    ``pytest.mark.skipif(...)`` in ``path``."""
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name not in ("pytest.skip", "pytest.mark.skip", "pytest.mark.skipif"):
            continue
        reason = next((kw.value for kw in node.keywords if kw.arg in ("reason", "msg")), None)
        if reason is None and name != "pytest.mark.skipif" and node.args:
            reason = node.args[0]
        yield node.lineno, name, _text(reason) if reason is not None else ""


SKIPS = [(path.name, line, kind, reason) for path in FILES for line, kind, reason in _skips(path)]


def test_the_reader_finds_skips():
    assert any(kind == "pytest.skip" for _, _, kind, _ in SKIPS)
    assert any(kind == "pytest.mark.skipif" for _, _, kind, _ in SKIPS)


@pytest.mark.parametrize("where, line, kind, reason", SKIPS, ids=[f"{s[0]}:{s[1]}" for s in SKIPS])
def test_every_skip_names_what_is_missing(where, line, kind, reason):
    assert any(word in reason for word in MISSING), (
        f"{where}:{line}: {kind}({reason!r}) does not say what is missing; a combination that "
        "cannot run should not be generated (conftest.grid), rather than skipped")
