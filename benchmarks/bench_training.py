#!/usr/bin/env python3
"""Training layers: forward plus backward of fftconv.torch and fftconv.jax against the frameworks' own.

Run (OpenBLAS at its full rate, see ../shared/SPEC.md)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_training.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_training.py --quick
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_training.py --workloads depthwise31,jax63

Workloads (issue 29's targets), float32, ``--threads`` threads for torch, BLAS
and fftconv's workers (XLA keeps its own pool, one thread per CPU); each
candidate timed side by side with its peers (interleaved, shuffled, median of
``--reps`` after a warm-up):

``depthwise31``
    ``(8, 128, 56, 56)`` through a depthwise 31x31 layer with ``padding=15``,
    forward and backward (input and weight gradients).  Peers: torch's own
    layer (``F.conv2d(x, w, padding=15, groups=128)``, what ``nn.Conv2d``
    runs) and torch on an input padded outside the timing (its fastest fair
    way).  Target: fftconv at least 2x torch.
``long1d``
    ``(4, 64, 8192)`` through a depthwise 1-D convolution with kernel length
    8192 and causal padding (8191 zeros on the left), forward and backward.
    fftconv pads with ``F.pad`` inside the timing; torch gets its input
    padded outside.  Target: at least 5x.
``resnet18``
    A ResNet-18 built here (no torchvision), ``(--resnet-batch, 3, 224,
    224)``, forward and backward, before and after
    ``fftconv.torch.convert``.  Target: within 5% (convert changes nothing,
    or nothing slower).
``jax63``
    ``(1, 128, 128, 4)`` NHWC with ``(63, 63, 4, 4)`` HWIO filters, SAME:
    ``jax.jit(jax.value_and_grad)`` of a sum of squares with respect to both
    operands, and the jitted forward alone, against
    ``jax.lax.conv_general_dilated`` (XLA's CPU convolution: about 15 s for
    that step here, hence the modest size).  Target: at least 10x.

Results: ``benchmarks/results/training.json``.
"""

from __future__ import annotations

import _timing  # first: pins the thread count before numpy loads
import _peers
import math
import sys

import numpy as np

WORKLOADS = ("depthwise31", "long1d", "resnet18", "jax63")


def _grads(*tensors):
    out = [t.grad for t in tensors]
    for t in tensors:
        t.grad = None
    return out


def _rel(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


# -- torch workloads -------------------------------------------------------------------------------

def depthwise31(torch, ft, quick):
    F = torch.nn.functional
    n, c, size, k = (2, 32, 56, 31) if quick else (8, 128, 56, 31)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, size, size, generator=gen, requires_grad=True)
    w = (torch.randn(c, 1, k, k, generator=gen) / k).requires_grad_()
    xp = F.pad(x.detach(), (k // 2,) * 4).requires_grad_()
    dy = torch.randn(n, c, size, size, generator=gen)

    def run(conv, inp, **kw):
        def fn():
            conv(inp, w, groups=c, **kw).backward(dy)
            dx, dw = _grads(inp, w)
            crop = (dx.shape[-1] - size) // 2  # the pre-padded input's gradient, cropped by a view
            return [dx[..., crop:crop + size, crop:crop + size], dw]
        return fn

    return f"depthwise {k}x{k}, input {n}x{c}x{size}x{size}", [
        _timing.Candidate("fftconv", run(ft.conv2d, x, padding=k // 2)),
        _timing.Candidate("torch layer", run(F.conv2d, x, padding=k // 2)),
        _timing.Candidate("torch pre-padded", run(F.conv2d, xp)),
    ], 2.0


def long1d(torch, ft, quick):
    F = torch.nn.functional
    n, c, length = (2, 16, 2048) if quick else (4, 64, 8192)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, length, generator=gen, requires_grad=True)
    w = (torch.randn(c, 1, length, generator=gen) / math.sqrt(length)).requires_grad_()
    xp = F.pad(x.detach(), (length - 1, 0)).requires_grad_()
    dy = torch.randn(n, c, length, generator=gen)

    def ours():
        ft.conv1d(F.pad(x, (length - 1, 0)), w, groups=c).backward(dy)
        return _grads(x, w)

    def theirs():
        F.conv1d(xp, w, groups=c).backward(dy)
        dx, dw = _grads(xp, w)
        return [dx[..., length - 1:], dw]

    return f"causal depthwise 1-D, input {n}x{c}x{length}, kernel {length}", [
        _timing.Candidate("fftconv", ours), _timing.Candidate("torch pre-padded", theirs)], 5.0


def resnet18(torch, num_classes=1000):
    """ResNet-18 (He et al. 2016): a 7x7 stride-2 stem, four stages of two basic blocks, 3x3 kernels."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.down = (nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
                         if stride != 1 or c_in != c_out else nn.Identity())

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(y)) + self.down(x))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    c = 64
    for width, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Block(c, width, stride), Block(width, width, 1)]
        c = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


def resnet(torch, ft, quick, batch):
    torch.manual_seed(0)
    size = 112 if quick else 224
    model = resnet18(torch)
    x = torch.randn(batch, 3, size, size)
    converted, report = ft.convert(model, x)
    print(report, file=sys.stderr)

    def step(m):
        def fn():
            m(x).square().mean().backward()
            grads = [p.grad for p in m.parameters()]
            m.zero_grad(set_to_none=True)
            return grads[0]
        return fn

    return (f"ResNet-18, input {batch}x3x{size}x{size}, convert replaced {len(report.replaced)} layer(s)",
            [_timing.Candidate("fftconv", step(converted)), _timing.Candidate("torch", step(model))], 1 / 1.05)


# -- jax -------------------------------------------------------------------------------------------

def jax63(quick):
    import jax
    import jax.numpy as jnp

    import fftconv.jax as fj

    n, size, c, k = (1, 64, 2, 63) if quick else (1, 128, 4, 63)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((n, size, size, c)), jnp.float32)
    w = jnp.asarray(rng.standard_normal((k, k, c, c)) / k, jnp.float32)
    dn = ("NHWC", "HWIO", "NHWC")

    def loss(conv):
        return lambda x, w: jnp.sum(conv(x, w, (1, 1), "SAME", dimension_numbers=dn) ** 2)

    cases = []
    for label, conv in (("fftconv", fj.conv_general_dilated), ("jax.lax", jax.lax.conv_general_dilated)):
        train = jax.jit(jax.value_and_grad(loss(conv), argnums=(0, 1)))
        fwd = jax.jit(lambda x, w, conv=conv: conv(x, w, (1, 1), "SAME", dimension_numbers=dn))
        cases.append((label, train, fwd))
    desc = f"{k}x{k} kernel, input {n}x{size}x{size}x{c} NHWC, {c} filters"

    def block(fn):
        return lambda: jax.block_until_ready(fn(x, w))

    train = [_timing.Candidate(label, block(t)) for label, t, _ in cases]
    fwd = [_timing.Candidate(label, block(f)) for label, _, f in cases]
    return [(f"jax forward+backward, {desc}", train, 10.0), (f"jax forward, {desc}", fwd, 10.0)]


# -- main ------------------------------------------------------------------------------------------

def main(argv=None):
    parser = _timing.common_parser(__doc__.split("\n\n")[0], reps=5, quick_reps=3, max_seconds=120)
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help=f"comma-separated subset of {','.join(WORKLOADS)}")
    parser.add_argument("--resnet-batch", type=int, default=8, help="ResNet-18 batch (default 8)")
    args = _timing.parse_args(parser, argv)
    chosen = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {WORKLOADS}")
    torch = _peers.torch_module(args.threads) if set(chosen) - {"jax63"} else None
    import fftconv
    fftconv.set_workers(args.threads)
    if torch is not None:
        import fftconv.torch as ft
    groups = []
    for name in chosen:
        if name == "jax63":
            groups += jax63(args.quick)
        elif torch is None:
            print(f"skipping {name}: torch is not installed", file=sys.stderr)
        elif name == "resnet18":
            groups.append(resnet(torch, ft, args.quick, args.resnet_batch))
        else:
            groups.append({"depthwise31": depthwise31, "long1d": long1d}[name](torch, ft, args.quick))
    rows = []
    for desc, candidates, target in groups:
        timings = _timing.time_interleaved(candidates, args.reps, args.max_seconds, desc=desc, keep_outputs=True)
        ours = timings["fftconv"]
        peers = {n: t for n, t in timings.items() if n != "fftconv"}
        best_peer = min(peers.values(), key=lambda t: t.median)
        errors = {n: _rel_outputs(ours.output, t.output) for n, t in peers.items()}
        row = {"workload": desc, "fftconv_s": ours.median, "peer": best_peer.name, "peer_s": best_peer.median,
               "speedup": best_peer.median / ours.median, "target": target,
               "met": best_peer.median / ours.median >= target,
               "all": {n: t.as_dict() for n, t in timings.items()}, "max_rel_error": max(errors.values())}
        rows.append(row)
        for n, t in peers.items():
            print(f"{desc}: fftconv {ours.median * 1e3:.1f} ms, {n} {t.median * 1e3:.1f} ms, "
                  f"ratio {t.median / ours.median:.2f}, max relative error {errors[n]:.1e}", file=sys.stderr)
    _timing.print_table(rows, [("workload", "workload", ""), ("fftconv_s", "fftconv ms", "ms"),
                               ("peer", "fastest peer", ""), ("peer_s", "peer ms", "ms"),
                               ("speedup", "peer/fftconv", ""), ("target", "target", ""), ("met", "met", "")],
                        title=f"Training layers, forward + backward, float32, {args.threads} threads")
    path = _timing.write_json("training", {"rows": rows}, args.out, args.threads)
    print(f"\nwrote {path}")


def _rel_outputs(a, b) -> float:
    if isinstance(a, (list, tuple)):
        return max(_rel_outputs(x, y) for x, y in zip(a, b))
    if hasattr(a, "detach"):
        a, b = a.detach().numpy(), b.detach().numpy()
    return _rel(a, b)


if __name__ == "__main__":
    main()
