"""Spatial layers: 3-D convolution and pooling, unpooling, pixel shuffle, fold/unfold, padding.

Thin Modules over lamina.nn.functional (lamina/ops/spatial.py, pool.py, shape.py's pad) with
PyTorch's arguments, attribute values and state_dict keys. Conv3d and ConvTranspose3d share
everything but the rank with Conv2d and ConvTranspose2d (layers/conv.py): the same
kaiming_uniform_(a=sqrt(5)) init, the same checks.
"""
from __future__ import annotations

from ...ops.conv import _tuple
from .. import functional as F
from ..module import Module
from .conv import _ConvNd, _ConvTransposeNd
from .pool import _AdaptivePool, _AvgPoolNd, _check_rank, _MaxPoolNd

__all__ = [
    "Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "MaxUnpool1d", "MaxUnpool2d",
    "MaxUnpool3d", "PixelShuffle", "PixelUnshuffle", "Fold", "Unfold",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
]


# ---- 3-D convolution and pooling ---------------------------------------------------------------
class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out).

    >>> nn.Conv3d(3, 8, 3, padding=1)   # weight (8, 3, 3, 3, 3), bias (8,)
    """

    nd = 3
    conv = staticmethod(F.conv3d)


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution: each spatial size becomes (n-1)*s - 2p + d*(k-1) + output_padding + 1."""

    nd = 3

    def forward(self, input, output_size=None):
        self._check(input)
        return F.conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)


class MaxPool3d(_MaxPoolNd):
    """Max over kd*kh*kw windows of (N, C, D, H, W); stride defaults to the kernel size."""

    nd = 3

    def forward(self, input):
        _check_rank(self, input, 3)
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool3d(_AvgPoolNd):
    """Mean over kd*kh*kw windows of (N, C, D, H, W); padded cells count when count_include_pad."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input):
        _check_rank(self, input, 3)
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(_AdaptivePool):
    """Average to a fixed (od, oh, ow) output over adaptive bins of (N, C, D, H, W)."""

    nd = 3

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input):
        _check_rank(self, input, 3)
        return F.adaptive_avg_pool3d(input, self.output_size)


# ---- unpooling ---------------------------------------------------------------------------------
class _MaxUnpoolNd(Module):
    nd = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name, n = type(self).__name__, self.nd
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", name)
        self.stride = self.kernel_size if stride is None else _tuple(stride, n, "stride", name)
        self.padding = _tuple(padding, n, "padding", name)

    def forward(self, input, indices, output_size=None):
        _check_rank(self, input, self.nd)
        unpool = getattr(F, f"max_unpool{self.nd}d")
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d: values back at their indices, zeros elsewhere."""

    nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d(return_indices=True).

    >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    >>> unpool(*pool(x))   # x's shape, the maxima in place, zeros elsewhere
    """

    nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d(return_indices=True)."""

    nd = 3


# ---- pixel shuffle, fold and unfold ------------------------------------------------------------
class PixelShuffle(Module):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r), as in sub-pixel convolution upsampling."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W): the inverse of PixelShuffle."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class Unfold(Module):
    """Sliding windows as columns: (N, C, H, W) -> (N, C*kh*kw, L) (im2col)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Columns summed back into an image: (N, C*kh*kw, L) -> (N, C, *output_size) (col2im)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


# ---- padding -----------------------------------------------------------------------------------
class _PadNd(Module):
    """F.pad with a fixed padding: an int pads every side of the last nd dims; a tuple gives
    (left, right, top, bottom, front, back) as F.pad takes it."""

    nd, mode = 1, "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        n = 2 * self.nd
        if isinstance(padding, int):
            padding = (padding,) * n
        padding = tuple(int(p) for p in padding)
        if len(padding) != n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or {n} ints, got {padding}")
        self.padding, self.value = padding, value

    def forward(self, input):
        if self.mode != "constant" and input.ndim not in (self.nd + 1, self.nd + 2):
            raise RuntimeError(f"{type(self).__name__}: expected a {self.nd + 1}-D or {self.nd + 2}-D input, got "
                               f"shape {tuple(input.shape)}")
        return F.pad(input, self.padding, self.mode, self.value)

    def extra_repr(self) -> str:
        return f"{self.padding}" + (f", value={self.value}" if self.mode == "constant" and self.value else "")


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding, value)


class ZeroPad1d(_PadNd):
    """Pad the last 1 dim of (N, C, L) with zeros."""

    nd, mode = 1, "constant"


class ZeroPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) with zeros."""

    nd, mode = 2, "constant"


class ZeroPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) with zeros."""

    nd, mode = 3, "constant"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last 1 dim of (N, C, L) with `value`."""

    nd, mode = 1, "constant"


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims of (N, C, H, W) with `value`."""

    nd, mode = 2, "constant"


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims of (N, C, D, H, W) with `value`."""

    nd, mode = 3, "constant"


class ReflectionPad1d(_PadNd):
    """Pad the last 1 dim of (N, C, L) by reflection (the edge not repeated; each pad smaller than its dim)."""

    nd, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) by reflection (the edge not repeated; each pad smaller than its dim)."""

    nd, mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) by reflection (the edge not repeated; each pad smaller than its dim)."""

    nd, mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last 1 dim of (N, C, L) by repeating the edge."""

    nd, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) by repeating the edge."""

    nd, mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) by repeating the edge."""

    nd, mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Pad the last 1 dim of (N, C, L) by wrapping around (at most once)."""

    nd, mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) by wrapping around (at most once)."""

    nd, mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) by wrapping around (at most once)."""

    nd, mode = 3, "circular"
