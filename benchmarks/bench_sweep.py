#!/usr/bin/env python3
"""Kernel-size sweep: time against kernel size for each method and peer, with a plot.

Run::

    python benchmarks/bench_sweep.py                 # full sweep, 5 repeats
    python benchmarks/bench_sweep.py --quick         # fewer kernels, smaller images
    python benchmarks/bench_sweep.py --readme        # also save docs/images/sweep.png

Two series, VALID, stride 1, float32:

- ``multichannel``: 2x128x128x16 input, KxKx16x16 filters;
- ``single``: 1x512x512x1 input, KxKx1x1 filters,

for K in ``--kernels`` (default 3 5 7 9 11 15 21 31 41 63). At each K the
candidates of ``bench_peers.py`` (``auto``, ``direct``, ``fft``, ``torch``,
``fcp`` if installed, ``scipy-fft``, and ``scipy-oa`` for one channel) are
timed side by side (interleaved, median of ``--reps`` after a warm-up). A
candidate the planner predicts slower than ``--max-seconds`` is skipped
(``direct`` at the largest kernels).

The plot (log-y) has one line per method and peer and a vertical marker
where ``auto``'s plan switches method, found by planning (shapes only) every
integer K of the range. Results: ``benchmarks/results/sweep.json`` and
``benchmarks/results/sweep.png``.
"""

from __future__ import annotations

import _timing  # first: pins the thread count before numpy loads
import _peers
import fftconv

from _peers import Workload

REPO = _timing.HERE.parent
README_PLOT = REPO / "docs" / "images" / "sweep.png"
KERNELS = (3, 5, 7, 9, 11, 15, 21, 31, 41, 63)
QUICK_KERNELS = (3, 7, 15, 31)
#: name -> (batch, size, C_in, C_out), full and --quick.
SERIES = {"multichannel": (2, 128, 16, 16), "single": (1, 512, 1, 1)}
QUICK_SERIES = {"multichannel": (1, 64, 16, 16), "single": (1, 256, 1, 1)}
METHODS = ("auto", "direct", "fft")
STYLES = {"auto": dict(color="black", linewidth=2.5, marker="o"),
          "direct": dict(color="tab:blue", linestyle="--", marker="s"),
          "fft": dict(color="tab:orange", linestyle="--", marker="^"),
          "torch": dict(color="tab:red", marker="x"),
          "fcp": dict(color="tab:brown", marker="+"),
          "scipy-fft": dict(color="tab:green", marker="d"),
          "scipy-oa": dict(color="tab:olive", marker="v")}


def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=5, quick_reps=3)
    parser.add_argument("--kernels", type=int, nargs="+", default=None,
                        help=f"kernel sizes (default {' '.join(map(str, KERNELS))}; "
                             f"{' '.join(map(str, QUICK_KERNELS))} with --quick)")
    parser.add_argument("--series", nargs="+", choices=tuple(SERIES), default=tuple(SERIES),
                        help="which series to run (default both)")
    parser.add_argument("--readme", action="store_true",
                        help=f"also save the plot to {README_PLOT.relative_to(REPO)}")
    args = _timing.parse_args(parser, argv)
    args.kernels = sorted(set(args.kernels or (QUICK_KERNELS if args.quick else KERNELS)))
    return args


def series_workloads(name: str, quick: bool, kernels) -> list:
    batch, size, c_in, c_out = (QUICK_SERIES if quick else SERIES)[name]
    return [Workload(f"{name}-K{k}", batch, size, c_in, c_out, k) for k in kernels if k <= size]


def switch_points(wl: Workload, kernels, threads: int) -> list:
    """``(K, from, to)`` wherever ``auto``'s plan changes method between consecutive integer K."""
    methods = {}
    for k in range(min(kernels), max(kernels) + 1):
        shape = (k, k, wl.group_in, wl.c_out)
        methods[k] = fftconv.plan_conv2d(wl.input_shape, shape, dtype="float32",
                                         **wl.conv_kwargs(threads)).method
    return [(k, methods[k - 1], methods[k]) for k in sorted(methods)[1:] if methods[k] != methods[k - 1]]


def time_kernel(wl: Workload, args, torch) -> tuple[dict, dict]:
    """Time every candidate at one kernel size; return the table row and the JSON record."""
    x, w = wl.inputs()
    plan = fftconv.plan_conv2d(x.shape, w.shape, dtype=x.dtype, **wl.conv_kwargs(args.threads))
    candidates = (_peers.fftconv_candidates(fftconv, wl, x, w, args.threads, METHODS)
                  + _peers.peer_candidates(wl, x, w, args.threads, torch))
    timings = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc=wl.name,
                                       keep_outputs=True)
    errors = _timing.check_outputs(timings, "auto")
    medians = {name: t.median for name, t in timings.items()}
    best = _timing.fastest(medians["direct"], medians["fft"])
    row = {"K": wl.kernel, "method": plan.method, **medians,
           "auto/best": _timing.ratio(medians["auto"], best)}
    record = {"workload": wl.as_dict(), "method": plan.method, "estimates": plan.estimates,
              "timings": {name: t.as_dict() for name, t in timings.items()},
              "relative_errors": errors}
    return row, record


def run_series(name: str, args, torch) -> dict:
    workloads = series_workloads(name, args.quick, args.kernels)
    rows, records = [], []
    for wl in workloads:
        row, record = time_kernel(wl, args, torch)
        rows.append(row)
        records.append(record)
    switches = switch_points(workloads[0], [wl.kernel for wl in workloads], args.threads)
    columns = [("K", "K", ""), ("method", "plan", "")] + [
        (c, f"{c} ms" if c == "auto" else c, "ms") for c in STYLES if any(c in r for r in rows)
    ] + [("auto/best", "auto/best", "")]
    _timing.print_table(rows, columns, f"{name}: {workloads[0].describe()} (K varies), median ms")
    print("auto switches: " + (", ".join(f"{a} -> {b} at K={k}" for k, a, b in switches) or "never"))
    return {"workload": workloads[0].as_dict(), "rows": rows, "records": records,
            "switches": switches}


def plot(results: dict, paths, title: str) -> None:
    """Time against kernel size per series, log-y, with the switch points of ``auto``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 4.8), squeeze=False)
    for ax, (name, series) in zip(axes[0], results.items()):
        rows = series["rows"]
        ks = [r["K"] for r in rows]
        for cand, style in STYLES.items():
            points = [(r["K"], r[cand] * 1e3) for r in rows if cand in r and r[cand] == r[cand]]
            if points:
                ax.plot(*zip(*points), label=cand, **style)
        for k, before, after in series["switches"]:
            ax.axvline(k - 0.5, color="grey", linestyle=":", linewidth=1.5)
            ax.annotate(f" auto: {before}→{after} at K={k}", (k - 0.5, 0.02),
                        xycoords=("data", "axes fraction"), ha="left", va="bottom", fontsize=8,
                        color="dimgrey")
        if not series["switches"]:
            methods = {r["method"] for r in rows}
            ax.annotate(f" auto plans {'/'.join(sorted(methods))} at every K", (0.01, 0.02),
                        xycoords="axes fraction", fontsize=8, color="dimgrey")
        wl = series["workload"]
        ax.set(xscale="log", yscale="log", xlabel="kernel size K", ylabel="median time (ms)",
               title=f"{name}: {wl['batch']}x{wl['size']}x{wl['size']}x{wl['c_in']} → {wl['c_out']} ch")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        print(f"wrote {path}")
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    torch = _peers.torch_module(args.threads)
    results = {name: run_series(name, args, torch) for name in args.series}
    title = (f"fftconv kernel sweep, float32, {args.threads} threads, median of {args.reps}"
             + (" (quick)" if args.quick else ""))
    paths = [args.out / "sweep.png"] + ([README_PLOT] if args.readme else [])
    plot(results, paths, title)
    path = _timing.write_json("sweep", {"reps": args.reps, "quick": args.quick, "kernels": args.kernels,
                                        "series": results}, args.out, args.threads)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
