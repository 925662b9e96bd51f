"""Spatial ops of any rank: im2col (unfold/fold), 3-D convolution and pooling, unpooling,
pixel shuffle, grid sampling, affine grids and instance norm.

Two primitives carry most of it. `Im2col` lays every sliding window of a padded
(N, C, *S) input out as columns (N, C, *k, *blocks), one strided view and one copy;
`Col2im` is its adjoint, adding columns back onto the image with one strided-slice add
per kernel offset (never a scatter). Each is the other's backward, so:

    unfold            = Im2col                     fold = Col2im
    conv3d            = W (G, O/G, C/G*K) @ Im2col(x)       (matmul does the gradients)
    conv_transpose3d  = Col2im(W^T @ x)                      (the input gradient of conv3d)
    avg_pool3d        = Im2col(x).sum(kernel axes) / divisor

Max pooling, unpooling and grid sampling move single elements, so they are Functions
of their own that gather in forward and scatter (bincount over flat positions) in backward.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from ..autograd import Function
from ..backend import array_module, device_of, to_device
from ..tensor import Tensor


def _tuple(v, n: int, name: str, op: str) -> tuple:
    """conv's argument check. Imported on first use: importing ops.conv while lamina.ops is
    being built would put `conv` among the names lamina.ops exports."""
    from .conv import _tuple as check

    return check(v, n, name, op)

__all__ = [
    "unfold", "fold", "conv3d", "conv_transpose3d", "avg_pool3d", "max_pool3d", "adaptive_avg_pool3d",
    "max_unpool1d", "max_unpool2d", "max_unpool3d", "pixel_shuffle", "pixel_unshuffle", "grid_sample",
    "affine_grid", "instance_norm",
]
METHODS: list[str] = []


# ---- im2col and col2im over any number of spatial dims --------------------------------------
def _blocks(sizes, kernel, stride, dilation, pads):
    """How many windows fit along each dim of the padded input (PyTorch's output size)."""
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, d, (lo, hi) in zip(sizes, kernel, stride, dilation, pads))


def _padded(x, pads, value=0.0):
    """x (N, C, *S) inside a buffer of `value`, pads = ((lo, hi), ...) per spatial dim; x itself when none."""
    if not any(lo or hi for lo, hi in pads):
        return x
    xp = array_module(x)
    buf = xp.full(x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)), value, dtype=x.dtype)
    buf[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads))] = x
    return buf


def _windows(buf, kernel, stride, dilation, blocks):
    """The strided view (N, C, *k, *blocks) of every window of the padded buffer: no copy."""
    xp = array_module(buf)
    s = buf.strides
    shape = buf.shape[:2] + tuple(kernel) + tuple(blocks)
    strides = s[:2] + tuple(st * d for st, d in zip(s[2:], dilation)) + tuple(st * k for st, k in zip(s[2:], stride))
    return xp.lib.stride_tricks.as_strided(buf, shape, strides)  # read only: windows overlap


def _im2col(x, kernel, stride, dilation, pads, blocks, value=0.0):
    """Columns (N, C, *k, *blocks), contiguous."""
    return array_module(x).ascontiguousarray(_windows(_padded(x, pads, value), kernel, stride, dilation, blocks))


def _col2im(cols, shape, kernel, stride, dilation, pads, blocks):
    """Columns (N, C, *k, *blocks) added back onto an image of `shape` (N, C, *S): one
    strided-slice add per kernel offset into the padded image, then the padding is cropped."""
    xp = array_module(cols)
    acc = xp.zeros(tuple(shape[:2]) + tuple(n + lo + hi for n, (lo, hi) in zip(shape[2:], pads)), dtype=cols.dtype)
    for off in itertools.product(*map(range, kernel)):
        sl = tuple(slice(o * d, o * d + s * (b - 1) + 1, s) for o, d, s, b in zip(off, dilation, stride, blocks))
        acc[(Ellipsis,) + sl] += cols[(slice(None), slice(None)) + off]
    return acc[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(shape[2:], pads))]


class Im2col(Function):
    reads_inputs = False

    def forward(self, x, kernel, stride, dilation, pads, blocks):
        self.geom, self.shape = (kernel, stride, dilation, pads, blocks), x.shape
        return _im2col(x, kernel, stride, dilation, pads, blocks)

    def backward(self, g):
        return _col2im(g, self.shape, *self.geom), None, None, None, None, None


class Col2im(Function):
    reads_inputs = False

    def forward(self, cols, shape, kernel, stride, dilation, pads, blocks):
        self.geom = (kernel, stride, dilation, pads, blocks)
        return _col2im(cols, shape, *self.geom)

    def backward(self, g):
        return _im2col(g, *self.geom), None, None, None, None, None, None


def _im2col_args(op, nd, kernel_size, dilation, padding, stride):
    kernel = _tuple(kernel_size, nd, "kernel_size", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    padding = _tuple(padding, nd, "padding", op)
    stride = _tuple(stride, nd, "stride", op)
    return kernel, dilation, tuple((p, p) for p in padding), stride


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Every kh*kw window of an (N, C, H, W) input as a column: (N, C*kh*kw, L), L windows (im2col).

    >>> F.unfold(lamina.randn(2, 3, 5, 5), 3).shape   # (2, 27, 9)
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(f"unfold: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    kernel, dilation, pads, stride = _im2col_args("unfold", 2, kernel_size, dilation, padding, stride)
    blocks = _blocks(x.shape[2:], kernel, stride, dilation, pads)
    if min(blocks) < 1:
        raise RuntimeError(f"unfold: input of shape {input.shape} with kernel_size {kernel}, dilation {dilation}, "
                           f"padding {padding} and stride {stride} has {blocks} sliding blocks; each must be >= 1")
    cols = Im2col.apply(x, kernel, stride, dilation, pads, blocks)  # (N, C, kh, kw, bh, bw)
    cols = cols.reshape(x.shape[0], x.shape[1] * math.prod(kernel), math.prod(blocks))
    return cols if input.ndim == 4 else cols.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns (N, C*kh*kw, L) back into an (N, C, *output_size) image (col2im); the inverse
    of unfold up to the overlap counts.

    >>> F.fold(lamina.randn(2, 27, 9), (5, 5), 3).shape   # (2, 3, 5, 5)
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: expected a 2-D (C*kh*kw, L) or 3-D (N, C*kh*kw, L) input, got shape {input.shape}")
    x = input if input.ndim == 3 else input.unsqueeze(0)
    out = _tuple(output_size, 2, "output_size", "fold")
    kernel, dilation, pads, stride = _im2col_args("fold", 2, kernel_size, dilation, padding, stride)
    K = math.prod(kernel)
    if x.shape[1] % K:
        raise RuntimeError(f"fold: expected size of dim 1 of the input ({x.shape[1]}) to be divisible by the "
                           f"product of kernel_size {kernel} ({K}), input shape {input.shape}")
    blocks = _blocks(out, kernel, stride, dilation, pads)
    if min(blocks) < 1 or math.prod(blocks) != x.shape[2]:
        raise RuntimeError(f"fold: output_size {out} with kernel_size {kernel}, dilation {dilation}, padding "
                           f"{padding} and stride {stride} has {blocks} sliding blocks ({math.prod(blocks)}), "
                           f"but the input of shape {input.shape} has {x.shape[2]}")
    C = x.shape[1] // K
    cols = x.reshape((x.shape[0], C) + kernel + blocks)  # (N, C, kh, kw, bh, bw)
    y = Col2im.apply(cols, (x.shape[0], C) + out, kernel, stride, dilation, pads, blocks)
    return y if input.ndim == 3 else y.squeeze(0)


# ---- 3-D convolution ---------------------------------------------------------------------------
def _check_conv3d(op, input, weight, bias, groups, transposed):
    if weight.ndim != 5:
        raise RuntimeError(f"{op}: expected a 5-D weight, got shape {weight.shape}")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"{op}: expected a 5-D input (N, C, D, H, W) or an unbatched 4-D one, got shape "
                           f"{input.shape}")
    if not isinstance(groups, int) or groups < 1 or weight.shape[0] % groups:
        raise RuntimeError(f"{op}: weight of shape {weight.shape} does not split into groups={groups}")
    c_in = weight.shape[0] if transposed else weight.shape[1] * groups
    if input.shape[-4] != c_in:
        raise RuntimeError(f"{op}: weight of shape {weight.shape} with groups={groups} expects {c_in} input "
                           f"channels, got input of shape {input.shape}")
    c_out = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise RuntimeError(f"{op}: bias of shape {bias.shape} does not match {c_out} output channels")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"{op}: input dtype {input.dtype} and weight dtype {weight.dtype} differ")


def _bias(y, bias):
    return y if bias is None else y + bias.reshape((-1,) + (1,) * (y.ndim - 2))


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """3-D convolution of an (N, C, D, H, W) input with an (O, C/groups, kd, kh, kw) weight:
    one batched GEMM over the im2col columns.

    >>> F.conv3d(lamina.randn(2, 3, 8, 8, 8), lamina.randn(4, 3, 3, 3, 3), padding=1).shape   # (2, 4, 8, 8, 8)
    """
    _check_conv3d("conv3d", input, weight, bias, groups, False)
    x = input if input.ndim == 5 else input.unsqueeze(0)
    stride = _tuple(stride, 3, "stride", "conv3d")
    dilation = _tuple(dilation, 3, "dilation", "conv3d")
    kernel = tuple(weight.shape[2:])
    if padding == "valid":
        pads = ((0, 0),) * 3
    elif padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(f"conv3d: padding='same' is not supported for strided convolutions (stride={stride})")
        pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
    elif isinstance(padding, str):
        raise ValueError(f"conv3d: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    else:
        pads = tuple((p, p) for p in _tuple(padding, 3, "padding", "conv3d"))
    blocks = _blocks(x.shape[2:], kernel, stride, dilation, pads)
    if min(blocks) < 1:
        raise RuntimeError(f"conv3d: padded input of shape {input.shape} (padding {pads}) is smaller than the "
                           f"dilated kernel of weight {weight.shape} (dilation {dilation})")
    N, C, O, G = x.shape[0], x.shape[1], weight.shape[0], groups
    cols = Im2col.apply(x, kernel, stride, dilation, pads, blocks)  # (N, C, kd, kh, kw, Do, Ho, Wo)
    cols = cols.reshape(N, G, C // G * math.prod(kernel), math.prod(blocks))
    y = weight.reshape(G, O // G, -1) @ cols  # (N, G, O/G, Do*Ho*Wo)
    y = _bias(y.reshape((N, O) + blocks), bias)
    return y if input.ndim == 5 else y.squeeze(0)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 3-D convolution with an (Cin, Cout/groups, kd, kh, kw) weight: conv3d's input
    gradient, col2im(W^T @ x). Output size (n-1)*s - 2p + d*(k-1) + output_padding + 1 per dim."""
    op = "conv_transpose3d"
    _check_conv3d(op, input, weight, bias, groups, True)
    x = input if input.ndim == 5 else input.unsqueeze(0)
    stride, padding = _tuple(stride, 3, "stride", op), _tuple(padding, 3, "padding", op)
    output_padding, dilation = _tuple(output_padding, 3, "output_padding", op), _tuple(dilation, 3, "dilation", op)
    for o, s, d in zip(output_padding, stride, dilation):
        if o >= max(s, d):
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than stride {stride} or "
                             f"dilation {dilation}")
    kernel, spatial = tuple(weight.shape[2:]), tuple(x.shape[2:])
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1
                for n, s, p, d, k, o in zip(spatial, stride, padding, dilation, kernel, output_padding))
    if min(out) < 1:
        raise RuntimeError(f"{op}: output size {out} is too small for input shape {input.shape}, weight "
                           f"{weight.shape} and padding {padding}")
    N, Cin, G = x.shape[0], x.shape[1], groups
    Cout = weight.shape[1] * G
    x3 = x.reshape(N, G, Cin // G, math.prod(spatial))
    w3 = weight.reshape(G, Cin // G, -1).transpose(1, 2)  # (G, Cout/G*K, Cin/G)
    cols = (w3 @ x3).reshape((N, Cout) + kernel + spatial)  # (N, Cout, kd, kh, kw, D, H, W)
    y = Col2im.apply(cols, (N, Cout) + out, kernel, stride, dilation, tuple((p, p) for p in padding), spatial)
    y = _bias(y, bias)
    return y if input.ndim == 5 else y.squeeze(0)


# ---- 3-D pooling -------------------------------------------------------------------------------
def _pool_geometry(op, x, nd, kernel_size, stride, padding, dilation, ceil_mode):
    """Validated kernel, stride, padding, dilation, output size and padded-buffer pads of an nd pool."""
    from .pool import _pool_size

    kernel = _tuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None or stride == [] or stride == () else _tuple(stride, nd, "stride", op)
    padding = _tuple(padding, nd, "padding", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"{op}: padding {padding} should be at most half of the kernel size {kernel}")
    out = tuple(_pool_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    if min(out) < 1:
        raise RuntimeError(f"{op}: input of shape {x.shape} is too small for kernel_size {kernel}, stride {stride}, "
                           f"padding {padding}, dilation {dilation} (output size {out})")
    # the buffer holds the left padding, the input and whatever the last (ceil_mode) window reaches
    pads = tuple((p, max((o - 1) * s + d * (k - 1) + 1 - p - n, 0))
                 for n, k, s, p, d, o in zip(x.shape[2:], kernel, stride, padding, dilation, out))
    return kernel, stride, padding, dilation, out, pads


def _batched(op, input, nd):
    """(N, C, *S) or unbatched (C, *S): a batched tensor and whether to drop the batch again."""
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected a {nd + 1}-D (C, *spatial) or {nd + 2}-D (N, C, *spatial) input, "
                           f"got shape {input.shape}")
    return (input, False) if input.ndim == nd + 2 else (input.unsqueeze(0), True)


class MaxPoolNd(Function):
    """Max over each window: the windows of the -inf padded input are copied as (N, C, K, *out)
    and argmax picks the first maximum (a NaN window its last NaN, as PyTorch's scan does).
    Backward adds each window's gradient at its winner's flat position (bincount)."""

    def forward(self, x, kernel, stride, dilation, pads, out, found=None):
        xp = array_module(x)
        buf = _padded(x, pads, -math.inf)
        N, C = x.shape[:2]
        K = math.prod(kernel)
        win = xp.ascontiguousarray(_windows(buf, kernel, stride, dilation, out)).reshape((N, C, K) + out)
        arg = xp.argmax(win, axis=2)
        nan = xp.isnan(win)
        if bool(nan.any()):
            last = K - 1 - xp.argmax(nan[:, :, ::-1], axis=2)
            arg = xp.where(nan.any(axis=2), last, arg)
        best = xp.take_along_axis(win, arg[:, :, None], axis=2)[:, :, 0]
        lost = best == -math.inf
        if bool(lost.any()):  # a window of -inf: PyTorch's winner is its first cell inside the input
            inside = _padded(xp.ones((1, 1) + x.shape[2:], dtype=bool), pads, False)
            first = xp.argmax(xp.ascontiguousarray(_windows(inside, kernel, stride, dilation, out)).reshape(
                (1, 1, K) + out), axis=2)
            arg = xp.where(lost, first, arg)
        # the winner's coordinates in the padded buffer, per spatial dim
        offs = xp.unravel_index(arg, kernel)
        grids = xp.meshgrid(*[xp.arange(o) for o in out], indexing="ij")
        coords = [g * s + o * d for g, s, o, d in zip(grids, stride, offs, dilation)]
        flat = coords[0]
        for c, n in zip(coords[1:], buf.shape[3:]):
            flat = flat * n + c
        self.flat, self.buf_shape, self.x_shape, self.pads = flat, buf.shape, x.shape, pads
        if found is not None:  # PyTorch's indices: flat positions in the unpadded volume
            idx = coords[0] - pads[0][0]
            for c, n, (lo, _) in zip(coords[1:], x.shape[3:], pads[1:]):
                idx = idx * n + (c - lo)
            found.append(idx.astype(np.int64))
        return best

    def backward(self, g):
        xp = array_module(g)
        N, C = self.x_shape[:2]
        size = math.prod(self.buf_shape[2:])
        flat = (xp.arange(N * C).reshape((N, C) + (1,) * (g.ndim - 2)) * size + self.flat).reshape(-1)
        gx = xp.bincount(flat, weights=g.reshape(-1), minlength=N * C * size).astype(g.dtype, copy=False)
        gx = gx.reshape(self.buf_shape)
        gx = gx[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(self.x_shape[2:], self.pads))]
        return gx, None, None, None, None, None, None


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over each kd*kh*kw window of an (N, C, D, H, W) input; with return_indices also the flat
    D*H*W position of each maximum."""
    x, unbatched = _batched("max_pool3d", input, 3)
    kernel, stride, _, dilation, out, pads = _pool_geometry("max_pool3d", x, 3, kernel_size, stride, padding,
                                                            dilation, ceil_mode)
    found = [] if return_indices else None
    y = MaxPoolNd.apply(x, kernel, stride, dilation, pads, out, found)
    idx = Tensor._make(found[0], None) if return_indices else None
    if unbatched:
        y, idx = y.squeeze(0), None if idx is None else idx.squeeze(0)
    return (y, idx) if return_indices else y


def _divisor(x, kernel, stride, padding, out, count_include_pad, divisor_override):
    """The (*out) divisors of an average pool: window cells inside input+padding, or inside the input."""
    if divisor_override:
        return float(divisor_override)
    sizes = []
    for n, k, s, p, o in zip(x.shape[2:], kernel, stride, padding, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)  # a ceil_mode window may run past the padding: not counted
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        sizes.append(end - start)
    div = functools.reduce(np.multiply.outer, sizes).astype(x.dtype)
    return Tensor._make(to_device(div, device_of(x._data)), None)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over each kd*kh*kw window of an (N, C, D, H, W) input: the im2col columns summed."""
    x, unbatched = _batched("avg_pool3d", input, 3)
    kernel, stride, padding, _, out, pads = _pool_geometry("avg_pool3d", x, 3, kernel_size, stride, padding, 1,
                                                           ceil_mode)
    cols = Im2col.apply(x, kernel, stride, (1, 1, 1), pads, out)  # (N, C, kd, kh, kw, Do, Ho, Wo)
    y = cols.reshape(x.shape[:2] + (-1,) + out).sum(2) / _divisor(x, kernel, stride, padding, out,
                                                                   count_include_pad, divisor_override)
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average over PyTorch's adaptive bins to an (od, oh, ow) output: one (out, in) mean matrix per axis."""
    from .pool import _along_axes, _constant, _mean_matrix, _output_size

    x, unbatched = _batched("adaptive_avg_pool3d", input, 3)
    out = _output_size("adaptive_avg_pool3d", output_size, x.shape[2:])
    y = _along_axes(x, [_constant(_mean_matrix(n, o), x) for n, o in zip(x.shape[2:], out)])
    return y.squeeze(0) if unbatched else y


# ---- unpooling ---------------------------------------------------------------------------------
class MaxUnpool(Function):
    """Each value goes to its flat position among the output's spatial cells; the rest are zero."""

    reads_inputs = False

    def forward(self, x, idx, out):
        xp = array_module(x)
        N, C = x.shape[:2]
        rows = xp.arange(N * C)[:, None]
        self.rows, self.idx, self.x_shape = rows, idx.reshape(N * C, -1), x.shape
        y = xp.zeros((N * C, math.prod(out)), dtype=x.dtype)
        y[rows, self.idx] = x.reshape(N * C, -1)
        return y.reshape((N, C) + tuple(out))

    def backward(self, g):
        N, C = self.x_shape[:2]
        return g.reshape(N * C, -1)[self.rows, self.idx].reshape(self.x_shape), None, None


def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):
    x, unbatched = _batched(op, input, nd)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: indices of shape {indices.shape} must have the input's shape {input.shape}")
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: indices must be integers (int64), got dtype {indices.dtype}")
    kernel = _tuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None else _tuple(stride, nd, "stride", op)
    padding = _tuple(padding, nd, "padding", op)
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(x.shape[2:], stride, padding, kernel))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)
        if len(out) == nd + 2 or len(out) == nd + 1:
            out = out[-nd:]
        if len(out) != nd:
            raise ValueError(f"{op}: output_size {tuple(output_size)} should have {nd} spatial sizes")
        if any(not d - s < o < d + s for o, d, s in zip(out, default, stride)):
            low, high = (tuple(d + k * (s - 1) for d, s in zip(default, stride)) for k in (-1, 1))
            raise ValueError(f"{op}: output_size {out} must lie between {low} and {high} (input shape {input.shape})")
    idx = indices._data[None] if unbatched else indices._data
    if idx.size:
        lo, hi, cells = int(idx.min()), int(idx.max()), math.prod(out)
        if lo < 0 or hi >= cells:
            raise RuntimeError(f"{op}: found an invalid max index {hi if lo >= 0 else lo} (the output of spatial "
                               f"size {out} has {cells} cells)")
    y = MaxUnpool.apply(x, idx, out)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of max_pool1d: each value back at its index, zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of max_pool2d: each value back at its flat H*W index, zeros elsewhere.

    >>> y, i = F.max_pool2d(x, 2, return_indices=True); F.max_unpool2d(y, i, 2).shape == x.shape
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of max_pool3d."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


# ---- pixel shuffle -----------------------------------------------------------------------------
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r): channels become r x r blocks of pixels."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle: expected an input of at least 3 dims (*, C, H, W), got shape {input.shape}")
    if r < 1:
        raise ValueError(f"pixel_shuffle: upscale_factor must be positive, got {upscale_factor}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle: channels {c} of input shape {input.shape} are not divisible by "
                           f"upscale_factor squared ({r * r})")
    n, oc = len(lead), c // (r * r)
    y = input.reshape(*lead, oc, r, r, h, w)
    y = y.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (*, C, H, r, W, r)
    return y.reshape(*lead, oc, h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W): the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle: expected an input of at least 3 dims (*, C, H, W), got shape "
                           f"{input.shape}")
    if r < 1:
        raise ValueError(f"pixel_unshuffle: downscale_factor must be positive, got {downscale_factor}")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle: height {h} and width {w} of input shape {input.shape} must be "
                           f"divisible by downscale_factor {r}")
    n = len(lead)
    y = input.reshape(*lead, c, h // r, r, w // r, r)
    y = y.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (*, C, r, r, H/r, W/r)
    return y.reshape(*lead, c * r * r, h // r, w // r)


# ---- grid sampling -----------------------------------------------------------------------------
def _reflect(c, low2: int, high2: int):
    """Reflect coordinates into [low2/2, high2/2] (twice the bounds, as PyTorch writes them), and
    the derivative of the reflected coordinate (+1 or -1)."""
    xp = array_module(c)
    if low2 == high2:
        return xp.zeros_like(c), xp.zeros_like(c)
    lo, span = low2 / 2, (high2 - low2) / 2
    c = c - lo
    sign = xp.where(c < 0, -1.0, 1.0).astype(c.dtype)
    c = xp.abs(c)
    extra = xp.fmod(c, span)
    even = xp.floor(c / span) % 2 == 0
    return xp.where(even, extra + lo, span - extra + lo), xp.where(even, sign, -sign)


def _source(coord, size: int, padding_mode: str, align_corners: bool):
    """Pixel coordinates from normalised ones in [-1, 1], after the padding mode, and their
    derivative by the normalised coordinate (for the grid's gradient)."""
    xp = array_module(coord)
    if align_corners:
        c, d = (coord + 1) / 2 * (size - 1), (size - 1) / 2
    else:
        c, d = ((coord + 1) * size - 1) / 2, size / 2
    grad = xp.full(c.shape, d, dtype=c.dtype)
    if padding_mode == "reflection":
        c, dr = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        grad = grad * dr
    if padding_mode in ("border", "reflection"):
        inside = (c > 0) & (c < size - 1)  # the borders count as outside for the gradient, as in PyTorch
        c = xp.clip(c, 0, size - 1)
        grad = grad * inside
    return c, grad


class GridSample(Function):
    """out[n, c, *p] = input[n, c] sampled at the point grid[n, *p] = (x, y[, z]) in [-1, 1]:
    bilinear (trilinear for a volume) from the 2**nd cells around it, or the nearest cell;
    cells outside the input read 0 (zeros), or the coordinate is first clipped into it
    (border) or reflected (reflection). Each tap is one gather over the flattened input."""

    def forward(self, x, grid, mode, padding_mode, align_corners):
        xp = array_module(x)
        N, C, *spatial = x.shape
        nd = len(spatial)
        # per input axis (D,) H, W: pixel coordinates (N, P) and their derivative by the grid's;
        # the grid's last axis holds x (along W) first, so axis i reads component nd - 1 - i
        src = [_source(grid[..., nd - 1 - i].reshape(N, -1), n, padding_mode, align_corners)
               for i, n in enumerate(spatial)]
        steps = [math.prod(spatial[i + 1:]) for i in range(nd)]  # flat stride of each axis
        if mode == "nearest":
            low, frac, corners = [xp.rint(c) for c, _ in src], None, [(0,) * nd]  # half to even, as nearbyint
        else:
            low = [xp.floor(c) for c, _ in src]
            frac = [c - f for (c, _), f in zip(src, low)]
            corners = list(itertools.product((0, 1), repeat=nd))
        flat = x.reshape(N, C, -1)
        out = xp.zeros((N, C, low[0].shape[1]), dtype=x.dtype)
        self.taps = []
        for bits in corners:
            pos, valid, w = 0, True, 1.0
            for i, (b, n) in enumerate(zip(bits, spatial)):
                p = low[i] + b
                valid = valid & (p >= 0) & (p <= n - 1)
                pos = pos + xp.clip(p, 0, n - 1).astype(np.int64) * steps[i]
                if frac is not None:
                    w = w * (frac[i] if b else 1 - frac[i])
            v = xp.take_along_axis(flat, pos[:, None, :], axis=2) * valid[:, None, :]  # (N, C, P), 0 outside
            out += v * w if frac is None else v * w[:, None, :]
            self.taps.append((bits, pos, valid * w, v))
        self.shape, self.frac, self.d = x.shape, frac, [d for _, d in src]
        return out.reshape((N, C) + tuple(grid.shape[1:-1]))

    def backward(self, g):
        xp = array_module(g)
        N, C, *spatial = self.shape
        size = math.prod(spatial)
        g = g.reshape(N, C, -1)
        gx = ggrid = None
        if self.needs_input_grad[0]:
            base = xp.arange(N * C).reshape(N, C, 1) * size
            flat = xp.concatenate([(base + pos[:, None, :]).reshape(-1) for _, pos, _, _ in self.taps])
            weights = xp.concatenate([(g * w[:, None, :] if w.ndim else g * w).reshape(-1)
                                      for _, _, w, _ in self.taps])
            gx = xp.bincount(flat, weights=weights, minlength=N * C * size).astype(g.dtype, copy=False)
            gx = gx.reshape(self.shape)
        if self.needs_input_grad[1]:
            shape = self.inputs[1].shape
            ggrid = xp.zeros(shape, dtype=g.dtype)  # nearest sampling is flat in the grid: zeros, as PyTorch
            if self.frac is not None:
                nd = len(spatial)
                for i in range(nd):
                    # d out / d coordinate i: each tap's value times the other axes' weights, signed by its side
                    slope = 0
                    for bits, _, _, v in self.taps:
                        w = 1.0
                        for e, b in enumerate(bits):
                            if e != i:
                                w = w * (self.frac[e] if b else 1 - self.frac[e])
                        slope = slope + v * (w if bits[i] else -w)[:, None, :]
                    ggrid[..., nd - 1 - i] = ((slope * g).sum(1) * self.d[i]).reshape(shape[:-1])
        return gx, ggrid, None, None, None


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample an (N, C, H, W) input at the points of an (N, Ho, Wo, 2) grid of (x, y) in [-1, 1]
    (-1 is the left/top edge), giving (N, C, Ho, Wo); or an (N, C, D, H, W) volume at an
    (N, Do, Ho, Wo, 3) grid of (x, y, z) ('bilinear' is then trilinear). Gradients flow to the
    input and the grid.

    >>> F.grid_sample(img, F.affine_grid(theta, img.shape, align_corners=False), align_corners=False)
    """
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(f"grid_sample: mode must be 'bilinear' or 'nearest', got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"grid_sample: padding_mode must be 'zeros', 'border' or 'reflection', got {padding_mode!r}")
    if input.ndim not in (4, 5):
        raise NotImplementedError(f"grid_sample: expected a 4-D (N, C, H, W) or 5-D (N, C, D, H, W) input, got "
                                  f"shape {input.shape}")
    nd = input.ndim - 2
    if grid.ndim != input.ndim or grid.shape[-1] != nd or grid.shape[0] != input.shape[0]:
        want = "(N, H_out, W_out, 2)" if nd == 2 else "(N, D_out, H_out, W_out, 3)"
        raise RuntimeError(f"grid_sample: expected a grid of shape {want} with N = {input.shape[0]} for input "
                           f"{input.shape}, got {grid.shape}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sample: input dtype {input.dtype} and grid dtype {grid.dtype} differ")
    if input.dtype.kind != "f":
        raise RuntimeError(f"grid_sample: expected a floating-point input, got {input.dtype}")
    if min(input.shape[2:]) < 1:
        raise RuntimeError(f"grid_sample: input of shape {input.shape} has an empty spatial dim")
    return GridSample.apply(input, grid, mode, padding_mode, bool(align_corners))


def _linspace(n: int, align_corners: bool) -> np.ndarray:
    """PyTorch's base grid coordinates: -1..1, shrunk by (n-1)/n so that they are pixel centres
    without align_corners; a single point is 0."""
    if n <= 1:
        return np.zeros(max(n, 0))
    c = np.linspace(-1.0, 1.0, n)
    return c if align_corners else c * (n - 1) / n


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid of a batch of affine maps: theta (N, 2, 3) with size (N, C, H, W) gives
    (N, H, W, 2); theta (N, 3, 4) with size (N, C, D, H, W) gives (N, D, H, W, 3)."""
    size = tuple(int(s) for s in size)
    nd = len(size) - 2
    if nd not in (2, 3):
        raise NotImplementedError(f"affine_grid: size must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), got {size}")
    if theta.dtype.kind != "f":
        raise ValueError(f"affine_grid: expected theta to have a floating point dtype, got {theta.dtype}")
    if tuple(theta.shape) != (size[0], nd, nd + 1):
        raise ValueError(f"affine_grid: expected a batch of {nd}-D affine matrices of shape ({size[0]}, {nd}, "
                         f"{nd + 1}) for size {size}, got {tuple(theta.shape)}")
    if min(size) <= 0:
        raise ValueError(f"affine_grid: expected a non-zero, positive output size, got {size}")
    spatial = size[2:]
    axes = [_linspace(n, bool(align_corners)) for n in spatial]  # (D,) H, W
    mesh = np.meshgrid(*axes, indexing="ij")
    # the last coordinate is x (along W), then y (H), then z (D), then the constant 1
    base = np.stack(list(mesh[::-1]) + [np.ones(spatial)], axis=-1).reshape(1, -1, nd + 1)
    base_t = Tensor._make(to_device(base.astype(theta.dtype), device_of(theta._data)), None)
    grid = base_t @ theta.transpose(1, 2)  # (N, prod(spatial), nd)
    return grid.reshape((size[0],) + spatial + (nd,))


# ---- instance norm -----------------------------------------------------------------------------
def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) plane of an (N, C, *) input by its own mean and variance:
    batch norm over (1, N*C, *). Running statistics, when given, take the batch mean of the
    per-sample updates, as PyTorch's."""
    from .norm import batch_norm

    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *) with at least one spatial dim, "
                         f"got {input.shape}")
    N, C = input.shape[:2]
    for name, p in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if p is not None and tuple(p.shape) != (C,):
            raise RuntimeError(f"instance_norm: {name} has shape {p.shape}, expected ({C},) for input {input.shape}")
    if use_input_stats and math.prod(input.shape[2:]) <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input "
                         f"{input.shape}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("instance_norm: running_mean and running_var are needed when use_input_stats=False")
    rm = rv = None
    if running_mean is not None and running_var is not None:
        xp = array_module(running_mean._data)
        rm = Tensor._make(xp.tile(running_mean._data, N), None)
        rv = Tensor._make(xp.tile(running_var._data, N), None)
    x = input.reshape((1, N * C) + tuple(input.shape[2:]))
    y = batch_norm(x, rm, rv, None, None, bool(use_input_stats), momentum, eps).reshape(input.shape)
    if use_input_stats and rm is not None:  # each sample's update, averaged over the batch
        running_mean._data[...] = rm._data.reshape(N, C).mean(axis=0)
        running_var._data[...] = rv._data.reshape(N, C).mean(axis=0)
        running_mean._version += 1
        running_var._version += 1
    shape = (1, C) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y
