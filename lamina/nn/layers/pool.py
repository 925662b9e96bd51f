"""Pooling and resampling layers: max, average and adaptive pools, and Upsample.

Each is a thin Module over lamina.nn.functional (lamina/ops/pool.py); they hold only their
arguments, no parameters, and check the input's rank so the error names the layer.
"""
from __future__ import annotations

from .. import functional as F
from ..module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


def _check_rank(layer: Module, input, nd: int) -> None:
    if input.ndim not in (nd + 1, nd + 2):
        dims = {1: "L", 2: "H, W", 3: "D, H, W"}[nd]
        raise RuntimeError(f"{type(layer).__name__}: expected a {nd + 2}-D input (N, C, {dims}) or an unbatched "
                           f"{nd + 1}-D input (C, {dims}), got shape {tuple(input.shape)}")


class _MaxPoolNd(Module):
    nd = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """Max over kh*kw windows of (N, C, H, W); stride defaults to the kernel size.

    >>> nn.MaxPool2d(2)(lamina.randn(8, 16, 28, 28)).shape   # (8, 16, 14, 14)
    """

    def forward(self, input):
        _check_rank(self, input, 2)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """Max over windows of (N, C, L)."""

    nd = 1

    def forward(self, input):
        _check_rank(self, input, 1)
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class _AvgPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over kh*kw windows of (N, C, H, W); padded cells count when count_include_pad."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input):
        _check_rank(self, input, 2)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of (N, C, L)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True):
        one = lambda v: (v,) if isinstance(v, int) else tuple(v)  # noqa: E731  (PyTorch keeps 1-tuples here)
        super().__init__(one(kernel_size), None if stride is None else one(stride), one(padding), ceil_mode,
                         count_include_pad)

    def forward(self, input):
        _check_rank(self, input, 1)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class _AdaptivePool(Module):
    nd = 2

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average to a fixed (oh, ow) output over bins floor(i*H/oh) .. ceil((i+1)*H/oh).

    >>> nn.AdaptiveAvgPool2d(1)(lamina.randn(8, 512, 7, 7)).shape   # (8, 512, 1, 1)
    """

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input):
        _check_rank(self, input, 2)
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average to a fixed output length over adaptive bins of (N, C, L)."""

    nd = 1

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input):
        _check_rank(self, input, 1)
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool2d(_AdaptivePool):
    """Max to a fixed (oh, ow) output over adaptive bins (which overlap when sizes do not divide)."""

    def forward(self, input):
        _check_rank(self, input, 2)
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptivePool):
    """Max to a fixed output length over adaptive bins of (N, C, L)."""

    nd = 1

    def forward(self, input):
        _check_rank(self, input, 1)
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class Upsample(Module):
    """Resize by `size` or `scale_factor`: mode 'nearest', 'nearest-exact', 'area', 'linear' (3-D input),
    'bilinear' or 'bicubic' (4-D), 'trilinear' (5-D).

    >>> nn.Upsample(scale_factor=2, mode="bilinear")(lamina.randn(1, 3, 8, 8)).shape   # (1, 3, 16, 16)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        if input.ndim not in (3, 4, 5):
            raise RuntimeError(f"{type(self).__name__}: expected a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D "
                               f"(N, C, D, H, W) input, got shape {tuple(input.shape)}")
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:
        s = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return s + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
