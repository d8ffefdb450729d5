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


def test_plan_explains_an_input(tmp_path, capsys):
    """``--data``: what the guards would do with an input (a zero frame, a half 1e9 brighter)."""
    x = np.zeros((1, 256, 256, 1), np.float32)
    x[:, 8:-8, 8:-8] = 1
    x[:, 8:-8, 128:-8] *= 1e9
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "w.npy", np.ones((31, 31, 1, 1), np.float32))
    assert cli.main(["plan", "--input", "1x256x256x1", "--filters", "31x31x1x1", "--padding", "same",
                     "--data", str(tmp_path / "x.npy"), str(tmp_path / "w.npy")]) == 0
    out = capsys.readouterr().out
    assert "method='fft'" in out and "holding only zeros" in out
    assert "worst predicted ratio" in out and "1 need float64 transforms" in out


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


# -- issue 24: the README's command, defaults in --help, forgiving options, messages that point the way

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def _plan_commands(text):
    """``fftconv plan ...`` commands quoted in ``text`` (README's backquotes, reST's double ones)."""
    import re
    import shlex
    found = re.findall(r"`+(fftconv plan [^`\[]+?)\s*(?:\[[^`]*)?`+", " ".join(text.split()))
    return [shlex.split(c)[1:] for c in found]


@pytest.mark.parametrize("page", ["README.md", "docs/getting_started.rst"])
def test_the_documented_plan_command_reports_the_documented_example(page, capsys):
    """The README shows the command as the report of its SAME example: it must be that report."""
    commands = _plan_commands((ROOT / page).read_text())
    assert commands
    for argv in commands:
        assert cli.main(argv) == 0
        out = capsys.readouterr().out
        assert "output (4, 256, 256, 16)" in out and "pads ((15, 15), (15, 15))" in out, argv


def test_help_states_every_default_and_every_option_has_help():
    parser = cli.build_parser()
    subparsers = parser._subparsers._group_actions[0].choices
    for name, sub in subparsers.items():
        for action in sub._actions:
            assert action.help, f"fftconv {name} {action.option_strings} has no help text"
    text = {name: " ".join(sub.format_help().split()) for name, sub in subparsers.items()}
    for expected in ("(default: VALID)", "(default: auto)", "(default: float32)", "(default: 1)",
                     "(default: constant)"):
        assert expected in text["plan"], expected
    assert "(default: 5)" in text["bench"] and "(default: 3)" in text["calibrate"]
    assert "FFTCONV_CALIBRATION" in text["calibrate"]


def test_method_in_any_case_and_integer_dtypes(capsys):
    assert cli.main(["plan", "--input", "1x32x32x2", "--filters", "5x5x2x2", "--method", "FFT"]) == 0
    assert "method='fft' (asked 'fft')" in capsys.readouterr().out
    for dtype in ("int32", "uint8", "bool", "int64"):
        assert cli.main(["plan", "--input", "1x32x32x2", "--filters", "5x5x2x2", "--dtype", dtype]) == 0
        assert "conv2d NHWC float64" in capsys.readouterr().out  # integers compute in float64, as conv2d
    with pytest.raises(SystemExit) as exc:
        cli.main(["plan", "--input", "1x32x32x2", "--filters", "5x5x2x2", "--dtype", "object"])
    assert exc.value.code == 2
    assert "integer or bool" in capsys.readouterr().err


def test_info_says_when_openblas_coretype_forced_the_kernels(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_cpu_flags", lambda: {"avx2", "avx512f"})
    monkeypatch.setattr(cli, "blas_info", lambda: {"internal_api": "openblas", "architecture": "Haswell"})
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "because OPENBLAS_CORETYPE=Haswell is set" in out and "does not know" not in out
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    assert cli.main(["info"]) == 0
    assert "does not know this CPU" in capsys.readouterr().out


def test_calibrate_output_says_how_to_use_the_file(monkeypatch, tmp_path, capsys):
    import fftconv.calibration

    def fake_calibrate(repeats, path):
        return {"constants": {"a": 1.0}, "points": 3, "rms_log_error": 0.1, "path": path,
                "backends": {"scipy": 1.0}}

    monkeypatch.setattr(fftconv.calibration, "calibrate", fake_calibrate)
    monkeypatch.delenv("FFTCONV_CALIBRATION", raising=False)
    target = str(tmp_path / "mine.json")
    assert cli.main(["calibrate", "--output", target]) == 0
    assert f"FFTCONV_CALIBRATION={target}" in capsys.readouterr().out
    monkeypatch.setenv("FFTCONV_CALIBRATION", target)  # the file in force: nothing more to do
    assert cli.main(["calibrate", "--output", target]) == 0
    assert "every later run reads it" in capsys.readouterr().out
