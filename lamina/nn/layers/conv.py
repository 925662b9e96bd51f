"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d.

Weights have PyTorch's shapes, names and default initialisation: weight (out, in/groups, *k)
for a convolution, (in, out/groups, *k) for a transposed one, kaiming_uniform_(a=sqrt(5))
(which is U(-1/sqrt(fan_in), 1/sqrt(fan_in))) and a bias from the same range.
"""
from __future__ import annotations

import math

from ... import creation
from ...ops.conv import _tuple
from .. import functional as F
from .. import init
from ..module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]




class _ConvNd(Module):
    """What Conv1d/2d and ConvTranspose1d/2d share: arguments, parameters, init, checks and repr."""

    nd = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", output_padding=0,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} and out_channels={out_channels} must both be "
                             f"divisible by groups={groups}")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        n = self.nd
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        # checked here, not only in forward: a negative padding would otherwise reach F.pad, which crops
        self.kernel_size, self.stride, self.dilation = (_tuple(v, n, key, name) for key, v in (
            ("kernel_size", kernel_size), ("stride", stride), ("dilation", dilation)))
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                                 f"(stride={self.stride})")
            self.padding = padding
        else:
            self.padding = _tuple(padding, n, "padding", name)
        self.output_padding, self.padding_mode = _tuple(output_padding, n, "output_padding", name), padding_mode
        shape = ((in_channels, out_channels // groups) if self.transposed else
                 (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
        self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)  # PyTorch's fan_in for both kinds
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _check(self, input) -> None:
        """A clear error for a wrong rank or channel count, naming the layer and the expected shape."""
        name, n = type(self).__name__, self.nd
        dims = {1: "L", 2: "H, W", 3: "D, H, W"}[n]
        if input.ndim not in (n + 1, n + 2):
            raise RuntimeError(f"{name}: expected a {n + 2}-D input (N, C, {dims}) or an unbatched {n + 1}-D "
                               f"input (C, {dims}), got shape {tuple(input.shape)}")
        c = input.shape[-n - 1]
        if c != self.in_channels:
            raise RuntimeError(f"{name}: expected input with {self.in_channels} channels (shape (N, "
                               f"{self.in_channels}, {dims})), got shape {tuple(input.shape)}")

    def _mode_pad(self, input):
        """Non-zero padding modes pad explicitly with F.pad; the convolution then pads nothing."""
        if self.padding_mode == "zeros":
            return input, self.padding
        if self.padding == "valid":
            return input, 0
        if self.padding == "same":
            total = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            pairs = [(t // 2, t - t // 2) for t in total]
        else:
            pairs = [(p, p) for p in self.padding]
        widths = tuple(w for lo_hi in reversed(pairs) for w in lo_hi)  # F.pad takes the last dim first
        return F.pad(input, widths, mode=self.padding_mode), 0

    def forward(self, input):
        self._check(input)
        x, padding = self._mode_pad(input)
        return self.conv(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out).

    >>> conv = nn.Conv2d(3, 16, 3, padding=1)   # weight (16, 3, 3, 3), bias (16,)
    """

    nd = 2
    conv = staticmethod(F.conv2d)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out)."""

    nd = 1
    conv = staticmethod(F.conv1d)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None):
        if padding_mode != "zeros" or isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: only padding_mode='zeros' and integer padding are supported")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device=device, dtype=dtype)

    def _output_padding(self, input, output_size):
        """output_padding, or the one that makes the output `output_size` (the trailing spatial dims)."""
        if output_size is None:
            return self.output_padding
        want = tuple(output_size)[-self.nd:]
        smallest = [(n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in
                    zip(input.shape[-self.nd:], self.stride, self.padding, self.dilation, self.kernel_size)]
        extra = tuple(w - m for w, m in zip(want, smallest))
        if any(e < 0 or e >= max(s, d) for e, s, d in zip(extra, self.stride, self.dilation)):
            raise ValueError(f"{type(self).__name__}: output_size {want} is not reachable from input shape "
                             f"{tuple(input.shape)} (sizes from {tuple(smallest)} up to stride - 1 more)")
        return extra


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution: (N, C_in, H, W) -> (N, C_out, (H-1)*s - 2p + d*(k-1) + output_padding + 1, ...).

    >>> up = nn.ConvTranspose2d(16, 8, 2, stride=2)   # doubles H and W; weight (16, 8, 2, 2)
    """

    nd = 2

    def forward(self, input, output_size=None):
        self._check(input)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution over (N, C_in, L)."""

    nd = 1

    def forward(self, input, output_size=None):
        self._check(input)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups, self.dilation)
