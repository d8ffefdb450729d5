"""fftconv: fast large-kernel convolution with exactly TensorFlow's semantics.

``conv2d(x, w, ..., method="auto")`` returns what :func:`tf.nn.conv2d` returns,
and runs whichever of the direct method (sliding windows + GEMM) and the
batched real-FFT overlap-save method a shape-only cost model predicts is
faster.  See :func:`plan_conv2d` to inspect and reuse that decision and
:class:`FilterBank` to apply fixed filters to a stream of inputs.
"""

from ._api import (
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
from ._plan import BoundPlan, ConvPlan
from ._signal import convolve, correlate
from ._workers import get_workers, set_workers
from ._spectra import clear as clear_spectrum_cache
from ._workspace import release as release_scratch
from .methods import METHODS

__version__ = "0.1.0"

__all__ = [
    "conv1d", "conv2d", "conv3d", "depthwise_conv2d", "convolve", "correlate",
    "plan_conv1d", "plan_conv2d", "plan_conv3d", "plan_depthwise_conv2d",
    "ConvPlan", "BoundPlan", "FilterBank", "METHODS",
    "get_workers", "set_workers", "release_scratch", "clear_spectrum_cache", "__version__",
]
