"""The command line: ``info`` reports, ``plan`` explains, bad arguments exit with 2."""

from __future__ import annotations

import json

import pytest

from fftconv import cli


def test_info_as_json(capsys):
    assert cli.main(["info", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"fftconv", "numpy", "scipy", "backends", "workers", "blas", "constants"} <= set(data)
    assert "scipy" in data["backends"]


def test_info_as_text(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("fftconv") and "constants" in out


@pytest.mark.parametrize("architecture, flags, advised", [
    ("Haswell", {"avx2", "avx512f"}, True),
    ("Zen", {"avx512f"}, True),
    ("SkylakeX", {"avx512f"}, False),
    ("Haswell", {"avx2"}, False),   # no AVX-512: Haswell kernels are the right ones
    (None, {"avx512f"}, False),      # BLAS unknown (no threadpoolctl, or not OpenBLAS)
])
def test_blas_hint(architecture, flags, advised):
    hint = cli.blas_hint(architecture, flags)
    assert (hint is not None) == advised
    if advised:
        assert "OPENBLAS_CORETYPE=SkylakeX" in hint and architecture in hint


def test_blas_info_without_threadpoolctl(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_threadpoolctl(name, *args, **kwargs):
        if name == "threadpoolctl":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_threadpoolctl)
    assert cli.blas_info() is None


def test_plan_explains(capsys):
    assert cli.main(["plan", "--input", "1x64x64x3", "--filters", "15x15x3x4", "--padding", "same"]) == 0
    assert "method=" in capsys.readouterr().out
    assert cli.main(["plan", "--input", "1x64x64x3", "--filters", "15x15x3x4", "--padding", "same",
                     "--padding-mode", "reflect", "--dtype", "complex64"]) == 0
    out = capsys.readouterr().out
    assert "reflect" in out and "complex64" in out and "complex    complex input and filters" in out


@pytest.mark.parametrize("argv", [["plan", "--input", "1x64", "--filters", "3x3x1x1"],
                                  ["plan", "--input", "axb", "--filters", "3x3x1x1"],
                                  ["nonsense"]])
def test_bad_arguments_exit_with_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        status = cli.main(argv)
        raise SystemExit(status)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err
