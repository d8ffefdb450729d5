#!/usr/bin/env python3
"""The gradient-side ops against torch's autograd kernels on the CPU.

Run (OpenBLAS at its full rate, see ../shared/SPEC.md)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gradients.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gradients.py --quick
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gradients.py --ops dw --workloads 31x31

Three operations per workload, each timed side by side with its torch peer
(interleaved, median of ``--reps`` after a warm-up, float32, ``--threads``
threads for BLAS, FFT workers and torch):

``transpose``
    ``fftconv.conv2d_transpose`` against ``torch.nn.functional.conv_transpose2d``.
``dx`` and ``dw``
    ``fftconv.conv2d_backprop_input`` / ``conv2d_backprop_filter`` (depthwise:
    the ``depthwise_conv2d_backprop_*`` ops) against the kernel that torch's
    ``backward()`` of ``conv2d`` runs, ``torch.ops.aten.convolution_backward``,
    called with the output mask of the one gradient (so the forward pass is not
    timed).

Each peer is called its fastest fair way: contiguous NCHW tensors made
outside the timing, the input pre-padded for the gradients (no ``padding=``
argument; the input gradient of the padded input is cropped by a view), the
transposed convolution computed at its full size and cropped by a view.

fftconv's candidates are ``auto``, ``direct`` and ``fft`` (a method predicted
slower than ``--max-seconds`` is skipped). Every output is checked against
``auto``'s. Targets (issue 18): kernels of 21 and up, torch/auto >= 4
(geometric mean per operation, depthwise included); 3x3, torch/auto >= 1/1.5.
Results: ``benchmarks/results/gradients.json``.
"""

from __future__ import annotations

import _timing  # first: pins the thread count before numpy loads
import functools
import math
from dataclasses import asdict, dataclass, replace

import _peers
import numpy as np

import fftconv

OPS = ("transpose", "dx", "dw")


@dataclass(frozen=True)
class Workload:
    """A forward float32 NHWC convolution whose gradients are timed: ``(N, H, H, C_in) * (K, K, C_in/groups, C_out)``."""

    name: str
    batch: int
    size: int
    c_in: int
    c_out: int
    kernel: int
    stride: int = 1
    padding: str = "SAME"
    depthwise: bool = False

    @property
    def groups(self) -> int:
        return self.c_in if self.depthwise else 1

    @property
    def x_shape(self):
        return (self.batch, self.size, self.size, self.c_in)

    @property
    def w_shape(self):
        """The forward HWIO filters (depthwise: TF's ``(K, K, C, M)``)."""
        if self.depthwise:
            return (self.kernel, self.kernel, self.c_in, self.c_out // self.c_in)
        return (self.kernel, self.kernel, self.c_in, self.c_out)

    @property
    def pads(self):
        if self.padding == "VALID":
            return (0, 0)
        return _peers.same_pads(self.size, self.kernel, self.stride)

    @property
    def out_size(self):
        lo, hi = self.pads
        return (self.size + lo + hi - self.kernel) // self.stride + 1

    def describe(self) -> str:
        kind = " depthwise" if self.depthwise else ""
        return (f"{'x'.join(map(str, self.x_shape))} * {self.kernel}x{self.kernel}{kind} -> {self.c_out}, "
                f"s{self.stride} {self.padding}")

    def arrays(self, seed=0):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(self.x_shape, dtype=np.float32)
        w = rng.standard_normal(self.w_shape, dtype=np.float32)
        dy = rng.standard_normal((self.batch, self.out_size, self.out_size, self.c_out), dtype=np.float32)
        return x, w, dy

    def shrunk(self) -> "Workload":
        return replace(self, batch=min(self.batch, 2), size=max(self.size // 2, 2 * self.kernel))


WORKLOADS = [
    Workload("cnn-3x3", 8, 64, 32, 64, 3),
    Workload("decoder-3x3-s2", 8, 64, 64, 32, 3, stride=2),
    Workload("depthwise-3x3", 8, 56, 64, 64, 3, depthwise=True),
    Workload("manychannel-21x21", 1, 128, 32, 32, 21, padding="VALID"),
    Workload("filterbank-31x31", 4, 256, 3, 16, 31, padding="VALID"),
    Workload("decoder-31x31-s2", 2, 128, 8, 16, 31, stride=2),
    Workload("depthwise-31x31", 1, 56, 64, 64, 31, depthwise=True),
]


# -- fftconv ------------------------------------------------------------------------------------------

def fftconv_call(wl: Workload, op: str, method: str, x, w, dy, threads: int):
    """The fftconv call of ``op`` (a callable), and its plan's prediction of ``method`` (or None)."""
    kw = dict(method=method, workers=threads)
    common = (wl.stride, wl.padding)
    if op in ("transpose", "dx"):
        if wl.depthwise:
            fn = functools.partial(fftconv.depthwise_conv2d_backprop_input, x.shape, w, dy, *common, **kw)
            plan = fftconv.plan_depthwise_conv2d_backprop_input(x.shape, w.shape, dy.shape, *common, **kw)
        elif op == "transpose":
            fn = functools.partial(fftconv.conv2d_transpose, dy, w, x.shape, *common, **kw)
            plan = fftconv.plan_conv2d_transpose(dy.shape, w.shape, x.shape, *common, **kw)
        else:
            fn = functools.partial(fftconv.conv2d_backprop_input, x.shape, w, dy, *common, **kw)
            plan = fftconv.plan_conv2d_transpose(dy.shape, w.shape, x.shape, *common, **kw)
    else:
        if wl.depthwise:
            fn = functools.partial(fftconv.depthwise_conv2d_backprop_filter, x, w.shape, dy, *common, **kw)
            plan = fftconv.plan_depthwise_conv2d_backprop_filter(x.shape, w.shape, dy.shape, *common, **kw)
        else:
            fn = functools.partial(fftconv.conv2d_backprop_filter, x, w.shape, dy, *common, **kw)
            plan = fftconv.plan_conv2d_backprop_filter(x.shape, w.shape, dy.shape, *common, **kw)
    predicted = plan.estimates.get(method) if method != "auto" else None
    return fn, predicted, plan.method


# -- torch ----------------------------------------------------------------------------------------------

def torch_call(torch, wl: Workload, op: str, x, w, dy):
    """torch's kernel for ``op`` on tensors made here, outside the timing; returns ``(fn, to_nhwc)``."""
    lo, hi = wl.pads
    weight = w.reshape(*w.shape[:2], 1, -1) if wl.depthwise else w  # HWIO; depthwise as (K, K, 1, C*M)
    wt = torch.from_numpy(np.ascontiguousarray(weight.transpose(3, 2, 0, 1)))  # OIHW
    dyt = torch.from_numpy(np.ascontiguousarray(dy.transpose(0, 3, 1, 2)))
    crop = (slice(None), slice(None), slice(lo, lo + wl.size), slice(lo, lo + wl.size))
    if op == "transpose":
        def run():
            with torch.no_grad():  # the full transposed convolution, cropped by a view
                return torch.nn.functional.conv_transpose2d(dyt, wt, stride=wl.stride, groups=wl.groups)[crop]
        return run, lambda y: y.numpy().transpose(0, 2, 3, 1)
    xp = np.pad(x, ((0, 0), (lo, hi), (lo, hi), (0, 0)))
    xt = torch.from_numpy(np.ascontiguousarray(xp.transpose(0, 3, 1, 2)))
    mask = [op == "dx", op == "dw", False]
    conv_backward = torch.ops.aten.convolution_backward

    def run():
        grads = conv_backward(dyt, xt, wt, None, [wl.stride] * 2, [0, 0], [1, 1], False, [0, 0], wl.groups, mask)
        return grads[0][crop] if op == "dx" else grads[1]

    if op == "dx":
        return run, lambda y: y.numpy().transpose(0, 2, 3, 1)
    if wl.depthwise:
        return run, lambda y: y.numpy().transpose(2, 3, 1, 0).reshape(w.shape)
    return run, lambda y: y.numpy().transpose(2, 3, 1, 0)


# -- running ---------------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = _timing.common_parser(__doc__, reps=7, quick_reps=3, max_seconds=5.0)
    parser.add_argument("--workloads", default="", help="comma-separated name filters, e.g. '31x31,3x3'")
    parser.add_argument("--ops", default=",".join(OPS), help="comma-separated subset of transpose,dx,dw")
    parser.add_argument("--methods", default="auto,direct,fft", help="fftconv methods to time (auto always)")
    return _timing.parse_args(parser, argv)


def targets(wl: Workload, ratio: float):
    if wl.kernel >= 21:
        return "torch>=4", 4.0
    if wl.kernel <= 3:
        return "torch>=0.67", 1 / 1.5
    return "-", math.nan


def run_one(wl, op, args, torch):
    x, w, dy = wl.arrays()
    methods = ["auto"] + [m for m in args.methods.split(",") if m and m != "auto"]
    candidates, plan_method = [], None
    for method in methods:
        fn, predicted, chosen = fftconv_call(wl, op, method, x, w, dy, args.threads)
        if method == "auto":
            plan_method = chosen
        candidates.append(_timing.Candidate(method, fn, predicted))
    tfn, to_nhwc = torch_call(torch, wl, op, x, w, dy)
    candidates.append(_timing.Candidate("torch", tfn, to_reference=to_nhwc))
    timings = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc=f"{wl.name} {op}",
                                       keep_outputs=True)
    errors = _timing.check_outputs(timings, "auto")
    medians = {name: t.median for name, t in timings.items()}
    ratio = _timing.ratio(medians["torch"], medians["auto"])
    label, threshold = targets(wl, ratio)
    verdict = "-" if threshold != threshold else ("ok" if ratio >= threshold else "MISS")
    row = {"workload": wl.name, "op": op, "plan": plan_method, **medians, "torch/auto": ratio,
           "target": f"{label}:{verdict}" if label != "-" else "-"}
    record = {"workload": {**asdict(wl), "describe": wl.describe()}, "op": op, "plan_method": plan_method,
              "timings": {name: t.as_dict() for name, t in timings.items()}, "relative_errors": errors,
              "torch/auto": ratio, "target": {"label": label, "threshold": threshold, "verdict": verdict}}
    return row, record


COLUMNS = [("workload", "workload", ""), ("op", "op", ""), ("plan", "plan", ""), ("auto", "auto ms", "ms"),
           ("direct", "direct", "ms"), ("fft", "fft", "ms"), ("torch", "torch ms", "ms"),
           ("torch/auto", "torch/auto", ""), ("target", "target", "")]


def main(argv=None):
    args = parse_args(argv)
    torch = _peers.torch_module(args.threads)
    if torch is None:
        raise SystemExit("torch is not installed: the peer of every row (pip install torch==2.13.0, CPU build)")
    chosen = _peers.select(WORKLOADS, args.workloads)
    if args.quick:
        chosen = [wl.shrunk() for wl in chosen]
    ops = [op for op in args.ops.split(",") if op]
    rows, records = [], []
    for wl in chosen:
        for op in ops:
            if op == "transpose" and wl.depthwise:
                continue  # a depthwise transpose is its dx, timed as such
            row, record = run_one(wl, op, args, torch)
            rows.append(row)
            records.append(record)
            print(f"{wl.name:20s} {op:9s} {wl.describe():42s} auto {_timing.fmt(row['auto'], 'ms')} ms "
                  f"({row['plan']}), torch {_timing.fmt(row['torch'], 'ms')} ms, torch/auto "
                  f"{_timing.fmt(row['torch/auto'])}", flush=True)
    _timing.print_table(rows, COLUMNS, f"Median ms ({args.reps} repeats, {args.threads} threads)")
    summary = {}
    for op in ops:
        big = [r["torch/auto"] for r, rec in zip(rows, records) if r["op"] == op and rec["workload"]["kernel"] >= 21]
        small = [r["torch/auto"] for r, rec in zip(rows, records) if r["op"] == op and rec["workload"]["kernel"] <= 3]
        summary[op] = {"geomean_k21_up": _timing.geometric_mean(big), "min_3x3": min(small, default=math.nan)}
        print(f"{op:9s} kernels >= 21: torch/auto geomean {_timing.fmt(summary[op]['geomean_k21_up'])} "
              f"(target 4);  3x3: worst torch/auto {_timing.fmt(summary[op]['min_3x3'])} (target 0.67)")
    path = _timing.write_json("gradients", {"reps": args.reps, "quick": args.quick, "results": records,
                                            "summary": summary}, args.out, args.threads)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
