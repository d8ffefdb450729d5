"""fftconv.torch against torch itself: outputs, gradients (gradcheck and torch's autograd), modules,
training, torch.compile, convert, and the errors.  Skipped without torch (the ``torch`` extra)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import fftconv.torch as ft  # noqa: E402  (after the skip)

F = torch.nn.functional
FUNCTIONS = {1: (ft.conv1d, F.conv1d), 2: (ft.conv2d, F.conv2d), 3: (ft.conv3d, F.conv3d)}
MODES = ("zeros", "reflect", "replicate", "circular")


def reference(nd, x, w, b, stride, padding, dilation, groups, padding_mode):
    """torch's own convolution, padded as ``torch.nn.ConvNd`` pads for ``padding_mode``."""
    if padding_mode != "zeros":
        kernel = w.shape[2:]
        if padding == "same":
            pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                    for k, d in zip(kernel, _tuple(dilation, nd))]
        else:
            pads = [(p, p) for p in _tuple(padding, nd)]
        x = F.pad(x, [p for pair in reversed(pads) for p in pair], mode=padding_mode)
        padding = 0
    return FUNCTIONS[nd][1](x, w, b, stride, padding, dilation, groups)


def _tuple(v, nd):
    return (v,) * nd if isinstance(v, int) else tuple(v)


def rel(a, b) -> float:
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).norm() / b.norm()) if b.norm() > 0 else float(a.norm())


def test_the_real_torch_is_imported():
    import fftconv

    assert sys.modules["torch"] is torch and hasattr(torch, "nn")
    assert fftconv.torch is ft and ft.__name__ == "fftconv.torch"
    assert torch.ops.fftconv.conv.default is not None


# -- gradcheck: every argument form, both methods ---------------------------------------------------

#: (nd, input shape, weight shape, options): each argument form of torch's functional API
FORMS = [
    (2, (2, 4, 7, 6), (6, 2, 3, 2), dict(stride=1, padding=0, groups=2)),
    (2, (2, 4, 7, 6), (4, 4, 3, 3), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2))),
    (2, (1, 2, 7, 8), (2, 2, 4, 2), dict(padding="same", dilation=(2, 1))),
    (2, (1, 2, 7, 8), (3, 2, 3, 3), dict(padding="valid", stride=2)),
    (2, (3, 7, 6), (2, 3, 3, 3), dict(padding=1)),  # unbatched
    (2, (1, 2, 6, 6), (2, 1, 3, 3), dict(padding=2, groups=2, padding_mode="reflect")),
    (2, (1, 2, 5, 6), (2, 2, 3, 2), dict(padding=(1, 2), stride=2, padding_mode="replicate")),
    (2, (1, 2, 5, 6), (2, 2, 3, 3), dict(padding="same", padding_mode="circular")),
    (1, (2, 3, 11), (4, 3, 4), dict(stride=2, padding=3, dilation=2)),
    (1, (1, 2, 9), (2, 1, 9), dict(padding=8, groups=2, padding_mode="circular")),
    (3, (1, 2, 4, 5, 4), (2, 1, 2, 3, 2), dict(padding=1, groups=2)),
    (3, (1, 1, 4, 4, 5), (1, 1, 3, 2, 3), dict(padding="same", padding_mode="reflect")),
]


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("form", FORMS, ids=[f"{f[0]}d-{i}" for i, f in enumerate(FORMS)])
def test_gradcheck_every_argument_form(form, bias, method):
    nd, xs, ws, options = form
    gen = torch.Generator().manual_seed(len(xs) * 100 + ws[-1])
    x = torch.randn(xs, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(ws, dtype=torch.float64, generator=gen, requires_grad=True)
    b = torch.randn(ws[0], dtype=torch.float64, generator=gen, requires_grad=True) if bias else None
    f = FUNCTIONS[nd][0]
    # fast mode: the Jacobians are compared along random directions, one call per input instead of per element
    assert torch.autograd.gradcheck(lambda *a: f(*a, **options, method=method), (x, w, b) if bias else (x, w),
                                    fast_mode=True)


@pytest.mark.parametrize("form", [FORMS[1], FORMS[6], FORMS[9], FORMS[11]], ids=["2d", "2d-replicate", "1d-circular",
                                                                             "3d-same-reflect"])
def test_gradcheck_full_jacobians(form):
    # every Jacobian entry, on the smallest of the forms' shapes
    nd, xs, ws, options = form
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(xs, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(ws, dtype=torch.float64, generator=gen, requires_grad=True)
    b = torch.randn(ws[0], dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *a: FUNCTIONS[nd][0](*a, **options), (x, w, b))


def test_second_derivatives_are_refused():
    x = torch.randn(1, 1, 6, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    g, = torch.autograd.grad(ft.conv2d(x, w).square().sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="no autograd formula"):
        g.sum().backward()


def test_tensors_reach_fftconv_as_views():
    x, w = torch.randn(2, 4, 9, 9), torch.randn(6, 2, 3, 5)
    assert np.shares_memory(ft._numpy(x), x.numpy())
    hwio = ft._hwio(w)
    assert hwio.shape == (3, 5, 2, 6) and np.shares_memory(hwio, w.numpy())


# -- random layers against torch's own convolution ------------------------------------------------

def _random_layer(rng, nd):
    groups = int(rng.choice([1, 2, 3]))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    kernel = tuple(int(k) for k in rng.integers(1, 8, nd))
    dilation = tuple(int(d) for d in rng.integers(1, 3, nd))
    mode = str(rng.choice(MODES))
    if rng.random() < 0.25:
        stride, padding = 1, "same"
    else:
        stride = tuple(int(s) for s in rng.integers(1, 4, nd))
        padding = tuple(int(rng.integers(0, (k - 1) * d // 2 + 2)) for k, d in zip(kernel, dilation))
    spatial = tuple(int(rng.integers(max(k * d, 4), max(k * d, 4) + 12 - 3 * nd)) for k, d in zip(kernel, dilation))
    return (int(rng.integers(1, 4)), c_in, *spatial), (c_out, c_in // groups, *kernel), dict(
        stride=stride, padding=padding, dilation=dilation, groups=groups, padding_mode=mode)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("seed", range(6))
def test_random_layers_equal_torch(seed, nd, dtype, method):
    rng = np.random.default_rng(seed * 10 + nd)
    xs, ws, options = _random_layer(rng, nd)
    x = torch.tensor(rng.standard_normal(xs), dtype=dtype, requires_grad=True)
    w = torch.tensor(rng.standard_normal(ws), dtype=dtype, requires_grad=True)
    b = torch.tensor(rng.standard_normal(ws[0]), dtype=dtype, requires_grad=True)
    y = FUNCTIONS[nd][0](x, w, b, **options, method=method)
    # the reference: torch in float64
    x64, w64, b64 = (t.detach().double().requires_grad_() for t in (x, w, b))
    r = reference(nd, x64, w64, b64, options["stride"], options["padding"], options["dilation"],
                  options["groups"], options["padding_mode"])
    assert y.shape == r.shape and y.dtype == dtype
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert rel(y, r) < tol
    dy = torch.tensor(rng.standard_normal(tuple(y.shape)), dtype=dtype)
    grads = torch.autograd.grad(y, (x, w, b), dy)
    expected = torch.autograd.grad(r, (x64, w64, b64), dy.double())
    for name, got, want in zip(("input", "weight", "bias"), grads, expected):
        assert got.dtype == dtype and got.shape == want.shape, name
        assert rel(got, want) < tol, name


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precisions_compute_in_float32(dtype):
    x, w = torch.randn(2, 4, 20, 20).to(dtype), torch.randn(4, 1, 9, 9).to(dtype)
    y = ft.conv2d(x.requires_grad_(), w, padding=4, groups=4, method="fft")
    assert y.dtype == dtype
    want = F.conv2d(x.float(), w.float(), padding=4, groups=4)
    assert rel(y.float(), want) < (4e-3 if dtype == torch.float16 else 2e-2)
    y.sum().backward()
    assert x.grad.dtype == dtype


def test_inputs_untouched_and_results_own_memory():
    x = torch.randn(2, 3, 12, 12, requires_grad=True)
    w = torch.randn(4, 3, 5, 5, requires_grad=True)
    b = torch.randn(4, requires_grad=True)
    copies = [t.detach().clone() for t in (x, w, b)]
    y = ft.conv2d(x, w, b, padding=2, padding_mode="reflect")
    y2 = ft.conv2d(x, w, b, padding=2, padding_mode="reflect")
    y.sum().backward()
    for t, c in zip((x, w, b), copies):
        assert torch.equal(t.detach(), c)
    assert y.data_ptr() != y2.data_ptr() and torch.equal(y, y2)
    assert x.grad.is_contiguous() and w.grad.is_contiguous()


def test_non_contiguous_inputs():
    x = torch.randn(2, 12, 3, 14).permute(0, 2, 1, 3)  # (2, 3, 12, 14), not contiguous
    w = torch.randn(3, 4, 5, 5).transpose(0, 1)
    assert not x.is_contiguous() and not w.is_contiguous()
    assert torch.allclose(ft.conv2d(x, w, padding=1), F.conv2d(x, w, padding=1), atol=1e-5)


def test_empty_batch():
    x, w = torch.randn(0, 2, 8, 8, requires_grad=True), torch.randn(3, 2, 3, 3, requires_grad=True)
    y = ft.conv2d(x, w, padding=1)
    assert y.shape == (0, 3, 8, 8)
    y.sum().backward()
    assert x.grad.shape == x.shape and float(w.grad.abs().sum()) == 0


# -- modules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("mode", MODES)
def test_modules_are_torch_modules(nd, mode):
    torch_cls, ours = getattr(torch.nn, f"Conv{nd}d"), getattr(ft, f"Conv{nd}d")
    args = (4, 6, 3)
    kwargs = dict(stride=1, padding="same", dilation=2, groups=2, padding_mode=mode)
    torch.manual_seed(1)
    a = ours(*args, **kwargs)
    torch.manual_seed(1)
    b = torch_cls(*args, **kwargs)
    assert isinstance(a, torch_cls)
    assert list(a.state_dict()) == list(b.state_dict()) == ["weight", "bias"]
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))  # the same initialisation
    assert "method='auto'" in repr(a) and repr(a).startswith(f"Conv{nd}d(4, 6")
    x = torch.randn(2, 4, *(9,) * nd)
    assert rel(a(x), b(x)) < 1e-5
    b.load_state_dict(a.state_dict())
    a.load_state_dict(b.state_dict())


def test_module_method_is_checked():
    with pytest.raises(ValueError, match="method"):
        ft.Conv2d(2, 2, 3, method="toom-cook")
    assert ft.Conv2d(2, 2, 3, method="fft").method == "fft"


def _model(cls2d, cls1d):
    torch.manual_seed(0)
    return torch.nn.Sequential(
        cls2d(3, 8, 3, padding=1), torch.nn.ReLU(),
        cls2d(8, 8, 15, padding=7, groups=8, padding_mode="reflect"), torch.nn.ReLU(),
        cls2d(8, 4, 5, stride=2, dilation=2, padding=4), torch.nn.Flatten(2),
        cls1d(4, 2, 9, padding="same", padding_mode="circular"), torch.nn.Flatten(), torch.nn.LazyLinear(1))


def test_a_small_model_trains_like_torch():
    x = torch.randn(4, 3, 24, 24, dtype=torch.float64)
    target = torch.randn(4, 1, dtype=torch.float64)
    losses = {}
    for name, classes in (("torch", (torch.nn.Conv2d, torch.nn.Conv1d)), ("fftconv", (ft.Conv2d, ft.Conv1d))):
        model = _model(*classes).double()
        model(x)  # the lazy layer takes its shape
        torch.manual_seed(1)
        model[-1].reset_parameters()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        losses[name] = []
        for _ in range(5):
            opt.zero_grad()
            loss = F.mse_loss(model(x), target)
            loss.backward()
            opt.step()
            losses[name].append(loss.item())
    assert losses["torch"][-1] < losses["torch"][0]
    np.testing.assert_allclose(losses["fftconv"], losses["torch"], rtol=1e-10)


def test_compile_sees_one_operator():
    torch._dynamo.reset()
    model = _model(ft.Conv2d, ft.Conv1d)
    x = torch.randn(2, 3, 16, 16)
    model(x)
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")  # fullgraph: a break raises
    y = compiled(x)
    y.sum().backward()
    assert torch.allclose(y, model(x), atol=1e-6)
    assert all(p.grad is not None for p in model.parameters())


def test_operator_registration():
    x, w, b = torch.randn(2, 3, 9, 9), torch.randn(4, 3, 3, 3), torch.randn(4)
    result = torch.library.opcheck(torch.ops.fftconv.conv.default,
                                   (x, w, b, [1, 1], [1, 1, 2, 0], [1, 1], 1, "reflect", "auto"))
    assert set(result.values()) == {"SUCCESS"}
    meta = ft.conv2d(x.to("meta"), w.to("meta"), stride=2, padding=1)  # shapes alone
    assert meta.shape == (2, 4, 5, 5) and meta.device.type == "meta"


# -- convert ---------------------------------------------------------------------------------------

def test_convert_replaces_only_large_kernels():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.BatchNorm2d(16),
        torch.nn.Conv2d(16, 16, 31, padding=15, groups=16))
    x = torch.randn(4, 3, 48, 48)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    converted, report = ft.convert(net, x)
    assert report.replaced == ["2"]
    assert type(converted[0]) is torch.nn.Conv2d and type(converted[2]) is ft.Conv2d
    assert converted[2].method == "auto" and net[2].__class__ is torch.nn.Conv2d  # a copy was changed
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())  # running stats untouched
    assert list(converted.state_dict()) == list(net.state_dict())
    net.eval(), converted.eval()
    assert rel(converted(x), net(x)) < 1e-5
    text = repr(report)
    assert "1 of 2 convolution layer(s) replaced" in text and "fwd/dx/dw" in text
    decision = report.layers[1]
    assert decision.replaced and decision.speedup >= 2 and decision.input_shape == (4, 16, 48, 48)


def test_convert_inplace_keeps_parameters_and_training_flags():
    net = torch.nn.Sequential(torch.nn.Conv1d(4, 4, 1025, padding=512, groups=4), torch.nn.Conv1d(4, 4, 1))
    net.train()
    weight = net[0].weight
    same, report = ft.convert(net, torch.randn(2, 4, 4096), inplace=True)
    assert same is net and net.training and report.replaced == ["0"]
    assert net[0].weight is weight and type(net[0]) is ft.Conv1d


def test_convert_leaves_uncalled_layers():
    class Branches(torch.nn.Module):
        def __init__(self):
            super().__init__()
            # 63x63: large enough to gain 2x over the direct method's compiled loops
            self.used, self.unused = torch.nn.Conv2d(2, 2, 63, padding=31, groups=2), torch.nn.Conv2d(2, 2, 31)

        def forward(self, x):
            return self.used(x)

    _, report = ft.convert(Branches(), torch.randn(2, 2, 64, 64))
    assert report.replaced == ["used"]
    assert report.layers[1].reason == "not called by the example input"


def test_convert_checks_its_arguments():
    with pytest.raises(TypeError, match="model"):
        ft.convert("resnet", torch.randn(1))
    with pytest.raises(ValueError, match="min_speedup"):
        ft.convert(torch.nn.Conv2d(1, 1, 3), torch.randn(1, 1, 5, 5), min_speedup=0)


# -- errors -----------------------------------------------------------------------------------------

class _OnCuda(torch.Tensor):
    """A CPU tensor that says it lives on a GPU (none here): the device check is what is tested."""

    @property
    def device(self):
        return torch.device("cuda", 0)


def test_gpu_tensors_are_refused_with_torchs_convolution_named():
    x = torch.randn(1, 2, 8, 8).as_subclass(_OnCuda)
    with pytest.raises(ValueError, match=r"`input` is on cuda:0.*torch\.nn\.functional\.conv2d"):
        ft.conv2d(x, torch.randn(2, 2, 3, 3))


@pytest.mark.parametrize("call, error, match", [
    (lambda: ft.conv2d(torch.ones(1, 2, 8, 8, dtype=torch.int64), torch.ones(2, 2, 3, 3, dtype=torch.int64)),
     TypeError, "dtype torch.int64"),
    (lambda: ft.conv2d(torch.ones(1, 2, 8, 8), torch.ones(2, 2, 3, 3, dtype=torch.float64)), TypeError, "one dtype"),
    (lambda: ft.conv2d(np.ones((1, 2, 8, 8)), torch.ones(2, 2, 3, 3)), TypeError, "`input` must be a torch.Tensor"),
    (lambda: ft.conv2d(torch.ones(1, 2, 8, 8), torch.ones(2, 2, 3)), ValueError, "`weight` must be 4-D"),
    (lambda: ft.conv2d(torch.ones(8, 8), torch.ones(2, 2, 3, 3)), ValueError, "`input` must be 4-D"),
    (lambda: ft.conv2d(torch.ones(1, 3, 8, 8), torch.ones(2, 2, 3, 3)), ValueError, "input channels"),
    (lambda: ft.conv2d(torch.ones(1, 4, 8, 8), torch.ones(3, 2, 3, 3), groups=2), ValueError, "divisible by 2"),
    (lambda: ft.conv2d(torch.ones(1, 2, 8, 8), torch.ones(2, 2, 3, 3), torch.ones(3)), ValueError, "`bias`"),
    (lambda: ft.conv2d(torch.ones(1, 2, 8, 8), torch.ones(2, 2, 3, 3), stride=2, padding="same"),
     ValueError, "stride 1"),
    (lambda: ft.conv2d(torch.ones(1, 2, 8, 8), torch.ones(2, 2, 3, 3), padding="full"), ValueError, "`padding`"),
    (lambda: ft.conv2d(torch.ones(1, 2, 8, 8), torch.ones(2, 2, 3, 3), stride=0), ValueError, "`stride`"),
    (lambda: ft.conv2d(torch.ones(1, 2, 8, 8), torch.ones(2, 2, 3, 3), dilation=(1, 2, 3)),
     ValueError, "`dilation`"),
    (lambda: ft.conv2d(torch.ones(1, 2, 8, 8), torch.ones(2, 2, 3, 3), padding_mode="wrap"),
     ValueError, "`padding_mode`"),
    (lambda: ft.conv2d(torch.ones(1, 2, 8, 8), torch.ones(2, 2, 3, 3), method="fast"), ValueError, "method"),
    (lambda: ft.conv2d(torch.ones(1, 2, 4, 4), torch.ones(2, 2, 5, 5)), ValueError, "smaller than the dilated"),
    (lambda: ft.conv2d(torch.ones(1, 2, 4, 4), torch.ones(2, 2, 3, 3), groups=0), ValueError, "`groups`"),
])
def test_errors_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
