"""fftconv: fast large-kernel convolution with exactly TensorFlow's semantics.

``conv2d(x, w, ..., method="auto")`` returns what :func:`tf.nn.conv2d` returns,
and runs whichever of the direct method (sliding windows + GEMM) and the
batched real-FFT overlap-save method a shape-only cost model predicts is
faster.  See :func:`plan_conv2d` to inspect and reuse that decision and
:class:`FilterBank` to apply fixed filters to a stream of inputs.
:func:`firfilter` is :func:`scipy.signal.lfilter` for FIR filters, and
:class:`StreamConvolver` filters a signal that arrives in chunks, with state.
"""

from fftconv._ops.forward import (
    FilterBank,
    conv1d,
    conv2d,
    conv3d,
    depthwise_conv2d,
    plan_conv1d,
    plan_conv2d,
    plan_conv3d,
    plan_depthwise_conv2d,
)
from fftconv._ops.filter_gradient import (
    FilterGradientPlan,
    conv1d_backprop_filter,
    conv2d_backprop_filter,
    conv3d_backprop_filter,
    depthwise_conv2d_backprop_filter,
    plan_conv1d_backprop_filter,
    plan_conv2d_backprop_filter,
    plan_conv3d_backprop_filter,
    plan_depthwise_conv2d_backprop_filter,
)
from fftconv._engine.plan import BoundPlan, ConvPlan
from fftconv._ops.separable import BoundSeparablePlan, SeparablePlan, plan_separable_conv2d, separable_conv2d
from fftconv._ops.transpose import (
    BoundTransposePlan,
    TransposePlan,
    conv1d_backprop_input,
    conv1d_transpose,
    conv2d_backprop_input,
    conv2d_transpose,
    conv3d_backprop_input,
    conv3d_transpose,
    depthwise_conv2d_backprop_input,
    plan_conv1d_transpose,
    plan_conv2d_transpose,
    plan_conv3d_transpose,
    plan_depthwise_conv2d_backprop_input,
)
from fftconv._ops.vjp import VJPPlan, conv1d_vjp, conv2d_vjp, conv3d_vjp, plan_conv1d_vjp, plan_conv2d_vjp, plan_conv3d_vjp
from fftconv._ops.signal import convolve, correlate
from fftconv._ops.firfilter import firfilter
from fftconv._ops.stream import StreamConvolver
from fftconv._runtime.threads import get_workers, set_workers
from fftconv._engine.spectra import clear as clear_spectrum_cache
from fftconv._runtime.scratch import release as release_scratch
from fftconv.methods import METHODS

__version__ = "0.1.0"

__all__ = [
    "conv1d", "conv2d", "conv3d", "depthwise_conv2d", "convolve", "correlate",
    "plan_conv1d", "plan_conv2d", "plan_conv3d", "plan_depthwise_conv2d",
    "ConvPlan", "BoundPlan", "FilterBank", "METHODS",
    # the gradient side: transposed convolutions, input and filter gradients, vector-Jacobian products
    "conv1d_transpose", "conv2d_transpose", "conv3d_transpose",
    "conv1d_backprop_input", "conv2d_backprop_input", "conv3d_backprop_input",
    "depthwise_conv2d_backprop_input",
    "conv1d_backprop_filter", "conv2d_backprop_filter", "conv3d_backprop_filter",
    "depthwise_conv2d_backprop_filter",
    "conv1d_vjp", "conv2d_vjp", "conv3d_vjp",
    "plan_conv1d_transpose", "plan_conv2d_transpose", "plan_conv3d_transpose",
    "plan_depthwise_conv2d_backprop_input",
    "plan_conv1d_backprop_filter", "plan_conv2d_backprop_filter", "plan_conv3d_backprop_filter",
    "plan_depthwise_conv2d_backprop_filter",
    "plan_conv1d_vjp", "plan_conv2d_vjp", "plan_conv3d_vjp",
    "separable_conv2d", "plan_separable_conv2d",
    # streams: scipy.signal.lfilter's FIR filter with state, and a stateful convolver for chunks
    "firfilter", "StreamConvolver",
    "TransposePlan", "BoundTransposePlan", "FilterGradientPlan", "VJPPlan", "SeparablePlan", "BoundSeparablePlan",
    "get_workers", "set_workers", "release_scratch", "clear_spectrum_cache", "__version__",
]
