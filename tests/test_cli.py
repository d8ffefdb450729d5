"""The command line: ``info`` reports, ``plan`` explains, bad arguments exit with 2."""

from __future__ import annotations

import json

import numpy as np

import pytest

from fftconv import cli


def test_info_as_json(capsys):
    assert cli.main(["info", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"fftconv", "numpy", "scipy", "backends", "disabled", "workers", "blas", "constants"} <= set(data)
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


def test_bench_prints_shapes_and_interleaved_figures(monkeypatch, capsys):
    monkeypatch.setattr(cli, "BENCH_WORKLOADS", (("tiny", (1, 24, 24, 2), (5, 5, 2, 3), "SAME"),))
    monkeypatch.setattr(cli, "QUICK", ("tiny",))
    monkeypatch.setattr(cli, "load_average", lambda: 0.0)  # a quiet machine: no warning
    assert cli.main(["bench", "--quick", "--reps", "2", "--no-peers"]) == 0
    captured = capsys.readouterr()
    assert "1x24x24x2 * 5x5x2x3" in captured.out and "interleaved rounds" in captured.out
    assert "scipy" not in captured.out  # --no-peers: fftconv's methods only
    assert "busy" not in captured.err


def test_bench_tells_each_cells_spread_and_a_busy_machine(monkeypatch, capsys):
    monkeypatch.setattr(cli, "BENCH_WORKLOADS", (("tiny", (1, 24, 24, 2), (5, 5, 2, 3), "SAME"),))
    loads = iter([0.2, 7.5])  # before and after the workload's rounds
    monkeypatch.setattr(cli, "load_average", lambda: next(loads))
    rows = cli.bench(reps=3, progress=False, peers=False)
    row = rows[0]
    for name in ("direct", "fft", "auto"):
        fastest, slowest = row["spread_s"][name]
        assert 0 < fastest <= row[f"{name}_s"] <= slowest
    assert row["load"] == (0.2, 7.5) and row["busy"]
    assert row["verdict"] in ("", "noise", "mis-pick", "overhead")
    monkeypatch.setattr(cli, "bench", lambda *args, **kwargs: rows)
    assert cli.main(["bench", "--reps", "3"]) == 0
    captured = capsys.readouterr()
    median, (fastest, slowest) = row["auto_s"], row["spread_s"]["auto"]
    assert f"{median * 1e3:.1f} ({fastest * 1e3:.1f}-{slowest * 1e3:.1f})" in captured.out
    assert "(min-max)" in captured.out
    assert "warning: the machine was busy: load average up to 7.5" in captured.err and "tiny" in captured.err


@pytest.mark.parametrize("before, after, threads, cores, busy", [
    (0.1, 2.3, 2, 2, False),   # our own two threads at the end
    (1.2, 2.3, 2, 2, True),    # another process had a core before we started
    (0.1, 3.1, 2, 2, True),    # more runnable threads than cores by the end
    (3.0, 3.0, 1, 8, False),   # plenty of idle cores
    (None, None, 2, 2, False),  # no load average on this system
])
def test_machine_busy(before, after, threads, cores, busy):
    assert cli.machine_busy(before, after, threads, cores) is busy


def test_bench_peers_are_called_their_fastest_fair_way():
    x = np.random.default_rng(0).standard_normal((1, 20, 20, 1)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((5, 5, 1, 2)).astype(np.float32)
    calls = cli._peer_calls(None, None, x, w, "VALID")
    assert set(calls) == {"scipy-fft", "scipy-oa"}
    expected = np.asarray(__import__("fftconv").conv2d(x, w))[0]
    for fn in calls.values():
        np.testing.assert_allclose(np.stack(fn(), axis=-1), expected, rtol=1e-4, atol=1e-4)
