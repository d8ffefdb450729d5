"""PyTorch layers that train with fftconv's methods: ``torch.nn.functional``'s convolutions, differentiable.

``fftconv.torch.conv2d(input, weight, bias, stride, padding, dilation, groups)``
returns what :func:`torch.nn.functional.conv2d` returns, for CPU tensors, and
its backward pass runs fftconv's own gradient ops
(:func:`~fftconv.conv2d_backprop_input`, :func:`~fftconv.conv2d_backprop_filter`),
each planned for its shapes.  :class:`Conv1d`, :class:`Conv2d` and
:class:`Conv3d` are ``torch.nn.Conv1d/2d/3d`` with that forward, and
:func:`convert` swaps them into a model where the planner predicts a gain.

How it plugs into torch
-----------------------
The convolution is one operator, ``torch.ops.fftconv.conv``, registered with
:func:`torch.library.custom_op` with a shape function (``register_fake``) and
its autograd formula (``register_autograd``), whose backward is a second
operator, ``torch.ops.fftconv.conv_backward``.  Autograd, ``torch.compile``
(which sees one opaque node, no graph break) and ``torch.export`` treat it as
they treat torch's own ops.  Second derivatives are not provided.

Tensors reach fftconv as numpy views (``Tensor.numpy()``): inputs in NCHW,
weights ``(C_out, C_in / groups, *kernel)`` read through a transposed view,
results wrapped with ``torch.from_numpy``.  The bias is added in place on the
output; its gradient is ``grad.sum`` over batch and space.  float32 and
float64 compute in their own precision; float16 and bfloat16 are computed in
float32 and returned in their dtype.  CUDA and other devices are refused with
a message naming torch's own convolution.

This module needs torch (install its CPU build first; see :doc:`training`);
``import fftconv`` never imports it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch  # the real torch: imports are absolute, this module is fftconv.torch

from fftconv._engine import planner
from fftconv._ops import layer as _layer
from fftconv._ops.forward import plan_conv1d, plan_conv2d, plan_conv3d
from fftconv._ops.vjp import plan_conv1d_vjp, plan_conv2d_vjp, plan_conv3d_vjp

__all__ = ["conv1d", "conv2d", "conv3d", "Conv1d", "Conv2d", "Conv3d", "convert", "ConversionReport",
           "LayerDecision"]

_FORMATS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
#: dtypes computed as they are; float16 and bfloat16 are computed in float32.
_NATIVE = (torch.float32, torch.float64)
_WIDENED = (torch.float16, torch.bfloat16)


# -- argument checks (torch's forms, fftconv's messages) -------------------------------------------

def _int_tuple(name: str, value, nd: int, minimum: int) -> tuple[int, ...]:
    values = (value,) * nd if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if (values is None or len(values) not in (1, nd)
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in values)):
        raise ValueError(f"`{name}` must be an int >= {minimum} or {nd} of them; got {value!r}")
    return values * nd if len(values) == 1 else values


def _pads(padding, nd, kernel, stride, dilation) -> tuple[tuple[int, int], ...]:
    """``(before, after)`` per axis from torch's ``padding``: an int, ``nd`` ints, "same" or "valid"."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"`padding`='same' needs stride 1, as in torch; got stride {stride}")
            # torch's rule: the total d * (k - 1) split with the odd sample after
            totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"`padding` must be 'same', 'valid', an int or {nd} ints; got {padding!r}")
    return tuple((p, p) for p in _int_tuple("padding", padding, nd, 0))


def _check_tensor(name: str, t, op: str):
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor; got {type(t).__name__}")
    if t.device.type not in ("cpu", "meta"):
        raise ValueError(
            f"`{name}` is on {t.device}: fftconv.torch runs on the CPU only; use torch.nn.functional.{op} "
            f"(torch's own convolution) for {t.device.type} tensors, or move them with .cpu()")
    if t.dtype not in _NATIVE + _WIDENED:
        raise TypeError(f"`{name}` has dtype {t.dtype}; fftconv.torch.{op} takes float32 and float64 "
                        f"(float16 and bfloat16 computed in float32); use torch.nn.functional.{op} for others")


def _output_sizes(spatial, kernel, stride, pads, dilation):
    return [(n + lo + hi - d * (k - 1) - 1) // s + 1
            for n, k, s, (lo, hi), d in zip(spatial, kernel, stride, pads, dilation)]


def _convolve(nd, input, weight, bias, stride, padding, dilation, groups, padding_mode, method):
    op = f"conv{nd}d"
    _check_tensor("input", input, op)
    _check_tensor("weight", weight, op)
    if bias is not None:
        _check_tensor("bias", bias, op)
    if weight.dim() != nd + 2:
        raise ValueError(f"`weight` must be {nd + 2}-D (C_out, C_in / groups, {', '.join('kdhw'[3 - nd:])}); "
                         f"got shape {tuple(weight.shape)}")
    if input.dim() not in (nd + 1, nd + 2):
        raise ValueError(f"`input` must be {nd + 2}-D (N, C_in, *spatial) or {nd + 1}-D (unbatched); "
                         f"got shape {tuple(input.shape)}")
    dtypes = {input.dtype, weight.dtype} | ({bias.dtype} if bias is not None else set())
    if len(dtypes) > 1:
        raise TypeError(f"`input`, `weight` and `bias` must have one dtype, as in torch; got {input.dtype}, "
                        f"{weight.dtype}" + (f" and {bias.dtype}" if bias is not None else ""))
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"`groups` must be a positive int; got {groups!r}")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"`padding_mode` must be one of {_PADDING_MODES}; got {padding_mode!r}")
    method = planner.check_method(method)
    stride = _int_tuple("stride", stride, nd, 1)
    dilation = _int_tuple("dilation", dilation, nd, 1)
    kernel = tuple(weight.shape[2:])
    pads = _pads(padding, nd, kernel, stride, dilation)
    unbatched = input.dim() == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    c_in, c_out = x.shape[1], weight.shape[0]
    if c_in != weight.shape[1] * groups or c_out % groups:
        raise ValueError(f"`weight` of shape {tuple(weight.shape)} with groups={groups} needs "
                         f"{weight.shape[1] * groups} input channels and C_out divisible by {groups}; "
                         f"`input` of shape {tuple(input.shape)} has {c_in}")
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"`bias` must have shape ({c_out},); got {tuple(bias.shape)}")
    out = _output_sizes(x.shape[2:], kernel, stride, pads, dilation)
    if any(o < 1 for o in out) or any(k < 1 for k in kernel):
        raise ValueError(f"`input` of spatial size {tuple(x.shape[2:])} padded by {pads} is smaller than the "
                         f"dilated kernel {tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))}: "
                         f"the output would be {tuple(out)}")
    flat = [p for pair in pads for p in pair]
    y = torch.ops.fftconv.conv(x, weight, bias, list(stride), flat, list(dilation), groups, padding_mode, method)
    return y.squeeze(0) if unbatched else y


# -- the operators -------------------------------------------------------------------------------

def _geometry(stride, padding, dilation, groups, padding_mode, method) -> _layer.LayerGeometry:
    nd = len(stride)
    return _layer.LayerGeometry(tuple(stride), tuple(zip(padding[::2], padding[1::2])), tuple(dilation), groups,
                                padding_mode, _FORMATS[nd], method)


def _compute_dtype(t: torch.Tensor) -> torch.dtype:
    return torch.float32 if t.dtype in _WIDENED else t.dtype


def _numpy(t: torch.Tensor) -> np.ndarray:
    """A numpy view of ``t`` (a copy only for float16/bfloat16, computed in float32)."""
    if t.device.type != "cpu":
        raise ValueError(f"fftconv.torch runs on the CPU only; got a tensor on {t.device}")
    return t.detach().to(_compute_dtype(t)).numpy()


def _hwio(weight: torch.Tensor) -> np.ndarray:
    """``(C_out, C_in / groups, *kernel)`` as fftconv's ``(*kernel, C_in / groups, C_out)``: a view."""
    nd = weight.dim() - 2
    return _numpy(weight).transpose(*range(2, nd + 2), 1, 0)


def _tensor(a: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).to(dtype)


@torch.library.custom_op(
    "fftconv::conv", mutates_args=(),
    schema="(Tensor input, Tensor weight, Tensor? bias, int[] stride, int[] padding, int[] dilation, int groups, "
           "str padding_mode, str method) -> Tensor")
def _conv_op(input, weight, bias, stride, padding, dilation, groups, padding_mode, method):
    g = _geometry(stride, padding, dilation, groups, padding_mode, method)
    y = _layer.forward(_numpy(input), _hwio(weight), g)
    if bias is not None:
        y += _numpy(bias).reshape((-1,) + (1,) * g.ndim)
    return _tensor(y, input.dtype)


@_conv_op.register_fake
def _conv_shape(input, weight, bias, stride, padding, dilation, groups, padding_mode, method):
    pads = list(zip(padding[::2], padding[1::2]))
    out = _output_sizes(input.shape[2:], weight.shape[2:], stride, pads, dilation)
    return input.new_empty((input.shape[0], weight.shape[0], *out))


@torch.library.custom_op(
    "fftconv::conv_backward", mutates_args=(),
    schema="(Tensor grad, Tensor input, Tensor weight, int[] stride, int[] padding, int[] dilation, int groups, "
           "str padding_mode, str method, bool[] mask) -> (Tensor, Tensor)")
def _conv_backward_op(grad, input, weight, stride, padding, dilation, groups, padding_mode, method, mask):
    g = _geometry(stride, padding, dilation, groups, padding_mode, method)
    dy = _numpy(grad)
    dx = dw = None
    if mask[0]:
        dx = _tensor(_layer.input_gradient(tuple(input.shape), _hwio(weight), dy, g), input.dtype)
    if mask[1]:
        nd = g.ndim
        hwio = _layer.filter_gradient(_numpy(input), (*weight.shape[2:], weight.shape[1], weight.shape[0]), dy, g)
        dw = _tensor(hwio.transpose(nd + 1, nd, *range(nd)), weight.dtype)
    return (dx if dx is not None else input.new_empty(0)), (dw if dw is not None else weight.new_empty(0))


@_conv_backward_op.register_fake
def _conv_backward_shape(grad, input, weight, stride, padding, dilation, groups, padding_mode, method, mask):
    return (input.new_empty(input.shape if mask[0] else (0,)),
            weight.new_empty(weight.shape if mask[1] else (0,)))


def _setup_context(ctx, inputs, output):
    input, weight, bias, *options = inputs
    ctx.save_for_backward(input, weight)
    ctx.options = options


def _backward(ctx, grad):
    input, weight = ctx.saved_tensors
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    dx = dw = db = None
    if need_x or need_w:
        dx, dw = torch.ops.fftconv.conv_backward(grad, input, weight, *ctx.options, [need_x, need_w])
        dx, dw = (dx if need_x else None), (dw if need_w else None)
    if need_b:
        db = grad.sum(dim=[0, *range(2, grad.dim())])
    return dx, dw, db, None, None, None, None, None, None


torch.library.register_autograd("fftconv::conv", _backward, setup_context=_setup_context)


# -- the functions -------------------------------------------------------------------------------

_SHARED = """
    Parameters
    ----------
    input : torch.Tensor
        ``(N, C_in, *spatial)``, or ``(C_in, *spatial)`` unbatched, on the CPU.
    weight : torch.Tensor
        ``(C_out, C_in / groups, *kernel)``.
    bias : torch.Tensor, optional
        ``(C_out,)``.
    stride, dilation : int or tuple of int
        As in torch: one int for every axis or one per axis.
    padding : int, tuple of int, "same" or "valid"
        As in torch: zeros (or ``padding_mode``'s values) on both sides of each
        axis; ``"same"`` pads ``dilation * (kernel - 1)`` in all, the odd sample
        after, and needs stride 1.
    groups : int
        As in torch.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
        What fills the pads, as in ``torch.nn.ConvNd``; fftconv reads the
        padded input without making it.  Pads wider than the input are filled
        by :func:`numpy.pad`'s rule where torch raises.
    method : str
        fftconv's ``method``: ``"auto"`` (the planner's choice for each call's
        shapes and for each gradient), ``"direct"`` or ``"fft"``.

    Returns
    -------
    torch.Tensor
        ``(N, C_out, *out)`` in ``input``'s dtype, differentiable with respect to
        ``input``, ``weight`` and ``bias`` (first derivatives).

    Raises
    ------
    ValueError
        Bad shapes or values, tensors on another device than the CPU.
    TypeError
        Arguments that are not tensors, dtypes other than floating point, mixed dtypes.

"""


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
           method="auto"):
    """:func:`torch.nn.functional.conv2d`, differentiable, computed by fftconv.
    {shared}
    Examples
    --------
    >>> import torch, fftconv.torch
    >>> x = torch.randn(2, 8, 32, 32, dtype=torch.float64, requires_grad=True)
    >>> w = torch.randn(8, 1, 15, 15, dtype=torch.float64, requires_grad=True)
    >>> y = fftconv.torch.conv2d(x, w, padding="same", groups=8)
    >>> y.sum().backward()
    >>> ref = torch.nn.functional.conv2d(x, w, padding="same", groups=8)
    >>> torch.allclose(y, ref), x.grad.shape, w.grad.shape
    (True, torch.Size([2, 8, 32, 32]), torch.Size([8, 1, 15, 15]))
    """
    return _convolve(2, input, weight, bias, stride, padding, dilation, groups, padding_mode, method)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
           method="auto"):
    """:func:`torch.nn.functional.conv1d`, differentiable, computed by fftconv.
    {shared}
    Examples
    --------
    A causal long convolution (torch's ``padding`` pads both sides: pad the left alone first):

    >>> import torch, fftconv.torch
    >>> x = torch.randn(1, 4, 1024)
    >>> w = torch.randn(4, 1, 1024) / 32
    >>> y = fftconv.torch.conv1d(torch.nn.functional.pad(x, (1023, 0)), w, groups=4)
    >>> y.shape
    torch.Size([1, 4, 1024])
    """
    return _convolve(1, input, weight, bias, stride, padding, dilation, groups, padding_mode, method)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
           method="auto"):
    """:func:`torch.nn.functional.conv3d`, differentiable, computed by fftconv.
    {shared}
    Examples
    --------
    >>> import torch, fftconv.torch
    >>> fftconv.torch.conv3d(torch.ones(1, 1, 4, 4, 4), torch.ones(2, 1, 3, 3, 3), padding=1)[0, :, 0, 0, 0]
    tensor([8., 8.])
    """
    return _convolve(3, input, weight, bias, stride, padding, dilation, groups, padding_mode, method)


for _f in (conv1d, conv2d, conv3d):
    _f.__doc__ = _f.__doc__.replace("    {shared}\n", _SHARED)


# -- the modules -----------------------------------------------------------------------------------

class _FFTConvMixin:
    """Shared by :class:`Conv1d`, :class:`Conv2d` and :class:`Conv3d`: torch's module, fftconv's forward."""

    _function = None
    method = "auto"

    def _conv_forward(self, input, weight, bias):
        return type(self)._function(input, weight, bias, self.stride, self.padding, self.dilation, self.groups,
                                    self.padding_mode, self.method)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", method={self.method!r}"


def _module_doc(nd: int) -> str:
    return f"""``torch.nn.Conv{nd}d`` whose forward and backward run fftconv.

    The constructor, parameters (``weight``, ``bias``), their initialisation,
    ``state_dict`` keys and ``padding_mode`` are ``torch.nn.Conv{nd}d``'s (it is
    a subclass), plus keyword ``method`` (fftconv's; default ``"auto"``).
    Every call runs :func:`conv{nd}d`; see it for dtypes, devices and errors.
    """


class Conv1d(_FFTConvMixin, torch.nn.Conv1d):
    __doc__ = _module_doc(1) + """
    Examples
    --------
    >>> import torch, fftconv.torch
    >>> layer = fftconv.torch.Conv1d(4, 4, 257, padding="same", groups=4)
    >>> layer(torch.randn(2, 4, 1000)).shape
    torch.Size([2, 4, 1000])
    """
    _function = staticmethod(conv1d)

    def __init__(self, *args, method="auto", **kwargs):
        super().__init__(*args, **kwargs)
        self.method = planner.check_method(method)


class Conv2d(_FFTConvMixin, torch.nn.Conv2d):
    __doc__ = _module_doc(2) + """
    Examples
    --------
    >>> import torch, fftconv.torch
    >>> torch.manual_seed(0) and None
    >>> layer = fftconv.torch.Conv2d(16, 16, 31, padding=15, groups=16, padding_mode="reflect")
    >>> ref = torch.nn.Conv2d(16, 16, 31, padding=15, groups=16, padding_mode="reflect")
    >>> ref.load_state_dict(layer.state_dict())
    <All keys matched successfully>
    >>> x = torch.randn(1, 16, 40, 40)
    >>> torch.allclose(layer(x), ref(x), atol=1e-5)
    True
    """
    _function = staticmethod(conv2d)

    def __init__(self, *args, method="auto", **kwargs):
        super().__init__(*args, **kwargs)
        self.method = planner.check_method(method)


class Conv3d(_FFTConvMixin, torch.nn.Conv3d):
    __doc__ = _module_doc(3) + """
    Examples
    --------
    >>> import torch, fftconv.torch
    >>> fftconv.torch.Conv3d(2, 4, 5, padding=2)(torch.randn(1, 2, 8, 8, 8)).shape
    torch.Size([1, 4, 8, 8, 8])
    """
    _function = staticmethod(conv3d)

    def __init__(self, *args, method="auto", **kwargs):
        super().__init__(*args, **kwargs)
        self.method = planner.check_method(method)


_REPLACEMENTS = {torch.nn.Conv1d: Conv1d, torch.nn.Conv2d: Conv2d, torch.nn.Conv3d: Conv3d}


# -- convert ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerDecision:
    """What :func:`convert` decided for one ``torch.nn.ConvNd`` layer.

    Attributes
    ----------
    name : str
        The layer's name in the model (``model.get_submodule(name)``).
    input_shape : tuple of int or None
        The input it saw in the example call (None: it was not called).
    methods : tuple of str
        What fftconv's planner picks for the forward, the input gradient and
        the filter gradient (empty when not called).
    seconds : float
        fftconv's predicted seconds for those three with those methods.
    direct_seconds : float
        fftconv's predicted seconds for the three with its direct method.
    replaced : bool
    reason : str
    """

    name: str
    input_shape: tuple | None
    methods: tuple
    seconds: float
    direct_seconds: float
    replaced: bool
    reason: str

    @property
    def speedup(self) -> float:
        """Predicted direct seconds over predicted seconds of the planner's choice."""
        return self.direct_seconds / self.seconds if self.seconds else 1.0


@dataclass(frozen=True)
class ConversionReport:
    """The decisions of :func:`convert`, one per ``torch.nn.ConvNd`` layer; its repr is a table.

    Attributes
    ----------
    layers : tuple of LayerDecision
    min_speedup : float
    """

    layers: tuple
    min_speedup: float

    @property
    def replaced(self) -> list[str]:
        """Names of the layers that now run fftconv."""
        return [d.name for d in self.layers if d.replaced]

    def __repr__(self) -> str:
        lines = [f"ConversionReport: {len(self.replaced)} of {len(self.layers)} convolution layer(s) replaced "
                 f"(predicted speed-up over fftconv's direct method at least {self.min_speedup:g}x)"]
        for d in self.layers:
            shape = "x".join(map(str, d.input_shape)) if d.input_shape else "-"
            methods = "/".join(d.methods) if d.methods else "-"
            mark = "fftconv" if d.replaced else "torch  "
            lines.append(f"  {mark}  {d.name or '(model)'}: input {shape}, fwd/dx/dw {methods}, "
                         f"speed-up {d.speedup:.2f}x: {d.reason}")
        return "\n".join(lines)


_PLANS = {1: (plan_conv1d, plan_conv1d_vjp), 2: (plan_conv2d, plan_conv2d_vjp), 3: (plan_conv3d, plan_conv3d_vjp)}
_DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float32",
                torch.bfloat16: "float32"}


def _decide(name, module, shape, dtype, min_speedup) -> LayerDecision:
    nd = module.weight.dim() - 2
    plan, plan_vjp = _PLANS[nd]
    if shape is None:
        return LayerDecision(name, None, (), 0.0, 0.0, False, "not called by the example input")
    if dtype not in _DTYPE_NAMES:
        return LayerDecision(name, shape, (), 0.0, 0.0, False, f"dtype {dtype} is not supported by fftconv.torch")
    shape = tuple(shape) if len(shape) == nd + 2 else (1, *shape)
    kernel = tuple(module.weight.shape[2:])
    pads = _pads(module.padding, nd, kernel, module.stride, module.dilation)
    g = _layer.LayerGeometry(tuple(module.stride), pads, tuple(module.dilation), module.groups,
                             module.padding_mode, _FORMATS[nd])
    w_shape = (*kernel, module.weight.shape[1], module.weight.shape[0])
    options = dict(strides=g.strides, data_format=g.data_format, dilations=g.dilations, groups=g.groups,
                   dtype=_DTYPE_NAMES[dtype])
    forward = plan(shape, w_shape, padding=list(pads), padding_mode=g.mode, **options)
    if g.copies_pads:  # the gradients run on the padded input with no pads
        vjp = plan_vjp(g.padded_shape(shape), w_shape, padding="VALID", **options)
    else:
        vjp = plan_vjp(shape, w_shape, padding=list(pads), **options)
    plans = (forward, vjp.input_gradient, vjp.filter_gradient)
    methods = tuple(p.method for p in plans)
    seconds = sum(p.estimates.get(p.method, 0.0) for p in plans)
    direct = sum(p.estimates.get("direct", 0.0) for p in plans)
    if all(m == "direct" for m in methods):
        return LayerDecision(name, shape, methods, seconds, direct, False,
                             "fftconv's planner picks its direct method: torch's own kernels are kept")
    if seconds * min_speedup > direct:
        return LayerDecision(name, shape, methods, seconds, direct, False,
                             f"predicted gain {direct / seconds:.2f}x is below {min_speedup:g}x")
    return LayerDecision(name, shape, methods, seconds, direct, True,
                         f"predicted {direct / seconds:.1f}x faster than fftconv's direct method")


def convert(model, example_input, *, min_speedup=2.0, inplace=False):
    """Run ``model``'s large-kernel ``torch.nn.ConvNd`` layers with fftconv, where the planner predicts a gain.

    ``model`` is called once on ``example_input`` (in eval mode, without
    gradients; the training flags are restored) to learn each layer's input
    shape, because fftconv's planner decides on shapes.  A layer of type
    exactly ``torch.nn.Conv1d``, ``Conv2d`` or ``Conv3d`` becomes the
    matching :class:`Conv1d`, :class:`Conv2d` or :class:`Conv3d` (same
    parameter objects, buffers, hooks and ``state_dict`` keys) when, for
    every input shape it saw:

    * the planner picks a non-direct method (the FFT) for at least one of the
      forward, the input gradient and the filter gradient, and
    * fftconv's predicted seconds for the three, with the planner's methods,
      are at most ``1 / min_speedup`` of its predicted seconds with its
      direct method.

    fftconv has no model of torch's own speed, so the direct method stands in
    for it: both contract sliding windows with GEMMs.  torch's oneDNN kernels
    can beat fftconv's direct method on small kernels (within 1.5x by the
    project's own benchmarks), hence the default margin of 2: a layer is
    replaced only where the FFT is predicted to win by more than that.
    Every other layer is left alone.

    Parameters
    ----------
    model : torch.nn.Module
    example_input : torch.Tensor or tuple
        What ``model`` is called with (a tuple is unpacked as positional arguments).
    min_speedup : float
        The predicted gain over fftconv's direct method a layer needs (default 2).
    inplace : bool
        Change ``model`` itself (default: a deep copy is changed and returned).

    Returns
    -------
    model : torch.nn.Module
        The converted model (``model`` itself with ``inplace=True``).
    report : ConversionReport
        One :class:`LayerDecision` per ``torch.nn.ConvNd`` layer; its repr is a table.

    Examples
    --------
    >>> import torch, fftconv.torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3, padding=1),
    ...                           torch.nn.Conv2d(32, 32, 31, padding=15, groups=32))
    >>> net, report = fftconv.torch.convert(net, torch.randn(8, 3, 64, 64))
    >>> report.replaced
    ['1']
    >>> type(net[0]).__module__, type(net[1]).__module__
    ('torch.nn.modules.conv', 'fftconv.torch')
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module; got {type(model).__name__}")
    min_speedup = float(min_speedup)
    if not min_speedup > 0:
        raise ValueError(f"`min_speedup` must be a positive number; got {min_speedup!r}")
    if not inplace:
        model = copy.deepcopy(model)
    layers = [(name, m) for name, m in model.named_modules() if type(m) in _REPLACEMENTS]
    seen: dict[str, list] = {name: [] for name, _ in layers}

    def recorder(name):
        def hook(module, args):
            seen[name].append((tuple(args[0].shape), args[0].dtype))
        return hook

    handles = [m.register_forward_pre_hook(recorder(name)) for name, m in layers]
    flags = {m: m.training for m in model.modules()}
    try:
        model.eval()
        with torch.no_grad():
            model(*example_input) if isinstance(example_input, tuple) else model(example_input)
    finally:
        for h in handles:
            h.remove()
        for m, flag in flags.items():
            m.training = flag
    decisions = []
    for name, m in layers:
        calls = [_decide(name, m, shape, dtype, min_speedup) for shape, dtype in dict.fromkeys(seen[name])] or [
            _decide(name, m, None, None, min_speedup)]
        decision = min(calls, key=lambda d: (d.replaced, d.speedup))  # every shape must gain
        if decision.replaced:
            m.__class__ = _REPLACEMENTS[type(m)]
            m.method = "auto"
        decisions.append(decision)
    return model, ConversionReport(tuple(decisions), min_speedup)


del _f
