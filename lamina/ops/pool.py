"""Pooling and resampling: max/avg pooling, adaptive pooling and interpolate.

Max and average pooling visit the kernel offsets, not the windows: for each offset (i, j)
the elements it picks from every window form one strided slice of the (padded) input, so
the forward is kh*kw whole-array passes (a running max that remembers which offset won,
or a running sum), and the backward puts the gradient back through the same slices. When
windows do not overlap (kernel == stride, the common case) each input element belongs to
one slice, so the backward is plain assignment; overlapping windows add into the slices.
Nothing loops over batch or channels, and nothing scatters with add.at.

Adaptive average pooling and interpolation are linear maps along each spatial axis, so they
are products with small (out, in) matrices, composed from matmul: no backward here (nearest
interpolation is a gather, index_select along each axis).
1-D pooling is the 2-D op with a height of 1.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ..backend import array_module, copyto, device_of, split, to_device
from ..tensor import Tensor
from .conv import _tuple

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "interpolate", "upsample", "upsample_nearest",
    "upsample_bilinear",
]


def _pool_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's output length; with ceil_mode the last window must still start inside input or left pad."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _geometry(op, x, kernel, stride, padding, dilation, ceil_mode):
    """Validated pairs and the output size of a 2-D pool over x (N, C, H, W)."""
    kernel = _tuple(kernel, 2, "kernel_size", op)
    stride = kernel if stride is None or stride == [] or stride == () else _tuple(stride, 2, "stride", op)
    padding = _tuple(padding, 2, "padding", op)
    dilation = _tuple(dilation, 2, "dilation", op)
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"{op}: padding {padding} should be at most half of the kernel size {kernel}")
    out = tuple(_pool_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    if min(out) < 1:
        raise RuntimeError(f"{op}: input of shape {x.shape} is too small for kernel_size {kernel}, "
                           f"stride {stride}, padding {padding}, dilation {dilation} (output size {out})")
    return kernel, stride, padding, dilation, out


def _padded(x, padding, need, value):
    """x (N, C, H, W) inside a buffer filled with `value`, padding[0] rows on top and padding[1]
    columns on the left, at least need=(rows, cols) in size; x itself when nothing is added."""
    xp = array_module(x)
    N, C, H, W = x.shape
    (ph, pw), (nh, nw) = padding, need
    hb, wb = max(nh, ph + H), max(nw, pw + W)
    if ph == pw == 0 and hb == H and wb == W:
        return x
    buf = xp.full((N, C, hb, wb), value, dtype=x.dtype)
    copyto(buf[:, :, ph:ph + H, pw:pw + W], x)
    return buf


def _offsets(kernel, stride, dilation, out):
    """For each kernel offset: its flat number i*kw + j and the strided slice it picks from a padded buffer."""
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, (Ellipsis, slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh),
                               slice(j * dw, j * dw + sw * (Wo - 1) + 1, sw))


def _spread(parts, g, x_shape, padding, kernel, stride, dilation, out):
    """The backward of a slice-wise pool with output gradient g. parts(rows) yields (offset,
    gradient) for the images `rows`, in offset order; each goes back into its slice, by
    assignment when windows do not overlap and by adding when they do; then the padding is
    cropped. Runs over blocks of images on lamina's threads."""
    N, C, H, W = x_shape
    (ph, pw), (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = padding, kernel, stride, dilation, out
    need = ((Ho - 1) * sh + dh * (kh - 1) + 1, (Wo - 1) * sw + dw * (kw - 1) + 1)
    size = (max(need[0], ph + H), max(need[1], pw + W))
    disjoint = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1
    tiled = (sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and size == need
    slices = dict(_offsets(kernel, stride, dilation, out))
    xp, dtype = array_module(g), g.dtype
    acc = (xp.empty if tiled else xp.zeros)((N, C) + size, dtype=dtype)  # tiled: every cell is assigned below

    def spread(rows):
        a = acc[rows]
        for k, part in parts(rows):
            if disjoint:
                a[slices[k]] = part
            else:
                a[slices[k]] += part
    split(spread, N, acc)
    if acc.shape[2:] == (H, W):
        return acc
    out = xp.empty(x_shape, dtype=dtype)
    copyto(out, acc[:, :, ph:ph + H, pw:pw + W])
    return out


class MaxPool2d(Function):
    """Max over each window: one in-place np.maximum per kernel offset. Which offset won is
    found again in backward (or for return_indices) by comparing each offset with the
    maximum, so the forward pass does no bookkeeping at all."""

    def forward(self, x, kernel, stride, padding, dilation, out, found=None):
        xp = array_module(x)
        (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out
        need = ((Ho - 1) * sh + dh * (kh - 1) + 1, (Wo - 1) * sw + dw * (kw - 1) + 1)
        buf = _padded(x, padding, need, -math.inf)
        best = xp.empty(x.shape[:2] + tuple(out), dtype=x.dtype)

        def pool(rows):
            b, src = best[rows], buf[rows]
            for k, sl in _offsets(kernel, stride, dilation, out):
                if k == 0:
                    b[...] = src[sl]
                else:
                    xp.maximum(b, src[sl], out=b)  # NaN propagates, as in PyTorch
        split(pool, x.shape[0], best)
        self.buf, self.best, self.x_shape = buf, best, x.shape
        self.geom = (padding, kernel, stride, dilation, out)
        if found is not None:  # PyTorch's return_indices: flat positions in the unpadded H*W plane
            arg = xp.zeros(best.shape, dtype=np.int32)
            for k, _, hit in self._first_hits():
                arg += hit * np.int32(k)
            i, j = arg // kw, arg % kw
            rows = xp.arange(Ho).reshape(-1, 1) * sh - padding[0] + i * dh
            cols = xp.arange(Wo) * sw - padding[1] + j * dw
            found.append((rows * x.shape[3] + cols).astype(np.int64))
        return best

    def _first_hits(self):
        """For each kernel offset: (k, slice, mask of the windows whose winner is there), in
        PyTorch's scan order: ties go to the first maximum, and a window holding NaN (whose
        maximum is NaN) to its last NaN, since PyTorch's scan takes every NaN it meets."""
        xp = array_module(self.best)
        best, offsets = self.best, list(_offsets(*self.geom[1:]))
        hits, taken = [], None
        for k, sl in offsets:  # first maximum; never true in a NaN window (NaN != NaN)
            hit = self.buf[sl] == best
            if taken is None:
                taken = hit.copy()
            else:
                hit &= ~taken
                taken |= hit
            hits.append(hit)
        if bool(xp.isnan(best).any()):
            taken = None
            for i in reversed(range(len(offsets))):  # last NaN
                hit = xp.isnan(self.buf[offsets[i][1]])
                if taken is None:
                    taken = hit.copy()
                else:
                    hit &= ~taken
                    taken |= hit
                hits[i] |= hit
        return [(k, sl, hit) for (k, sl), hit in zip(offsets, hits)]

    def backward(self, g):
        xp = array_module(g)
        if bool(xp.isnan(self.best).any()):  # NaN windows send their gradient to their last NaN
            # g * mask rather than where(mask, g, 0): several times faster in NumPy (a non-finite
            # upstream gradient would leak into the unselected cells, where PyTorch puts 0)
            hits = self._first_hits()

            def parts(rows):
                return ((k, g[rows] * hit[rows]) for k, _, hit in hits)
        else:
            # Hand each window's gradient to the first offset that holds its maximum: `left` is
            # the gradient not yet handed out, zeroed where an offset claims it, so a later tie
            # gets 0. The last offset takes what is left (some offset holds the maximum), so this
            # is three passes per offset where masks of first hits take about six.
            offsets = list(_offsets(*self.geom[1:]))

            def parts(rows):
                left, buf, best = g[rows], self.buf[rows], self.best[rows]
                for k, sl in offsets[:-1]:
                    part = xp.multiply(left, buf[sl] == best)
                    yield k, part
                    left = left - part
                yield offsets[-1][0], left
        gx = _spread(parts, g, self.x_shape, *self.geom)
        return gx, None, None, None, None, None, None


class AvgPool2d(Function):
    reads_inputs = False

    def forward(self, x, kernel, stride, padding, out, divisor):
        (kh, kw), (sh, sw), (Ho, Wo) = kernel, stride, out
        buf = _padded(x, padding, ((Ho - 1) * sh + kh, (Wo - 1) * sw + kw), 0)
        total = array_module(x).empty(x.shape[:2] + tuple(out), dtype=x.dtype)

        def pool(rows):
            t, src = total[rows], buf[rows]
            for k, sl in _offsets(kernel, stride, (1, 1), out):
                if k == 0:
                    t[...] = src[sl]
                else:
                    t += src[sl]
            t /= divisor
        split(pool, x.shape[0], total)
        self.x_shape, self.geom, self.divisor = x.shape, (padding, kernel, stride, (1, 1), out), divisor
        return total

    def backward(self, g):
        gq = g / self.divisor
        offsets = [k for k, _ in _offsets(*self.geom[1:])]
        return _spread(lambda rows: ((k, gq[rows]) for k in offsets), gq, self.x_shape, *self.geom), \
            None, None, None, None, None


def _avg_divisor(x, kernel, stride, padding, out, count_include_pad, divisor_override):
    """The (Ho, Wo) divisors: window cells inside input+padding (count_include_pad) or inside input."""
    if divisor_override:
        return float(divisor_override)
    sizes = []
    for n, k, s, p, o in zip(x.shape[2:], kernel, stride, padding, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)  # windows of ceil_mode may run past the padding: not counted
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        sizes.append(end - start)
    div = np.outer(sizes[0], sizes[1]).astype(x.dtype)
    return to_device(div, device_of(x._data))


def _as_2d(op, input, nd):
    """Pools take (N, C, *spatial) or unbatched (C, *spatial); returns a 4-D view and how to undo it."""
    if input.ndim not in (nd + 1, nd + 2):
        names = "H, W" if nd == 2 else "L"
        raise RuntimeError(f"{op}: expected a {nd + 1}-D ({'C, ' + names}) or {nd + 2}-D (N, C, {names}) input, "
                           f"got shape {input.shape}")
    shape = input.shape
    x = input.reshape((-1, shape[-3] if nd == 2 else shape[-2]) + (shape[-2:] if nd == 2 else (1, shape[-1])))
    return x, lambda y: y.reshape(shape[:-nd] + tuple(y.shape[4 - nd:]))


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over each kh*kw window (stride defaults to the kernel); with return_indices also the
    flat H*W position of each maximum.

    >>> F.max_pool2d(lamina.randn(8, 16, 28, 28), 2).shape   # (8, 16, 14, 14)
    """
    x, back = _as_2d("max_pool2d", input, 2)
    geom = _geometry("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    found = [] if return_indices else None
    kernel, stride, padding, dilation, out = geom
    y = back(MaxPool2d.apply(x, kernel, stride, padding, dilation, out, found))
    return (y, Tensor._make(back(Tensor._make(found[0], None))._data, None)) if return_indices else y


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over each window of an (N, C, L) input: max_pool2d with a height of 1."""
    x, back = _as_2d("max_pool1d", input, 1)
    one = lambda v, name, fill: (fill, _tuple(v, 1, name, "max_pool1d")[0])  # noqa: E731
    stride = kernel_size if stride is None or stride == [] or stride == () else stride
    geom = _geometry("max_pool1d", x, one(kernel_size, "kernel_size", 1), one(stride, "stride", 1),
                     one(padding, "padding", 0), one(dilation, "dilation", 1), ceil_mode)
    found = [] if return_indices else None
    y = back(MaxPool2d.apply(x, *geom, found))
    return (y, Tensor._make(back(Tensor._make(found[0], None))._data, None)) if return_indices else y


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over each kh*kw window; padded cells count in the mean when count_include_pad."""
    x, back = _as_2d("avg_pool2d", input, 2)
    kernel, stride, padding, _, out = _geometry("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    div = _avg_divisor(x, kernel, stride, padding, out, count_include_pad, divisor_override)
    return back(AvgPool2d.apply(x, kernel, stride, padding, out, div))


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over each window of an (N, C, L) input: avg_pool2d with a height of 1."""
    x, back = _as_2d("avg_pool1d", input, 1)
    one = lambda v, name, fill: (fill, _tuple(v, 1, name, "avg_pool1d")[0])  # noqa: E731
    stride = kernel_size if stride is None or stride == [] or stride == () else stride
    kernel, stride, padding, _, out = _geometry("avg_pool1d", x, one(kernel_size, "kernel_size", 1),
                                                one(stride, "stride", 1), one(padding, "padding", 0), 1, ceil_mode)
    div = _avg_divisor(x, kernel, stride, padding, out, count_include_pad, None)
    return back(AvgPool2d.apply(x, kernel, stride, padding, out, div))


# ---- adaptive pooling -------------------------------------------------------------------------
def _bins(n_in: int, n_out: int):
    """PyTorch's adaptive bins: start = floor(i*in/out), end = ceil((i+1)*in/out)."""
    i = np.arange(n_out)
    return (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)


def _constant(a, like: Tensor) -> Tensor:
    """A NumPy array as a constant tensor with `like`'s dtype and device."""
    return Tensor._make(to_device(a.astype(like.dtype), device_of(like._data)), None)


def _mean_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(out, in): row i averages bin i."""
    start, end = _bins(n_in, n_out)
    cols = np.arange(n_in)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return inside / (end - start)[:, None]


def _output_size(op, output_size, spatial):
    """An int or a tuple of sizes, where None keeps the input's size (as in PyTorch)."""
    size = (output_size,) * len(spatial) if isinstance(output_size, int) else tuple(output_size)
    if len(size) != len(spatial):
        raise ValueError(f"{op}: output_size {output_size} does not match {len(spatial)} spatial dims")
    return tuple(n if o is None else int(o) for o, n in zip(size, spatial))


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average over PyTorch's adaptive bins to an (oh, ow) output: Mh @ x @ Mw.T."""
    x, back = _as_2d("adaptive_avg_pool2d", input, 2)
    oh, ow = _output_size("adaptive_avg_pool2d", output_size, x.shape[2:])
    mh, mw = _mean_matrix(x.shape[2], oh), _mean_matrix(x.shape[3], ow)
    return back(_constant(mh, x) @ x @ _constant(mw.T, x))  # (N, C, oh, ow)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average over PyTorch's adaptive bins of an (N, C, L) input: x @ M.T."""
    x, back = _as_2d("adaptive_avg_pool1d", input, 1)
    (o,) = _output_size("adaptive_avg_pool1d", output_size, x.shape[3:])
    return back(x @ _constant(_mean_matrix(x.shape[3], o).T, x))


class AdaptiveMaxPool2d(Function):
    """Max over bins of varying size. Offset a of bin i reads row min(start_i + a, end_i - 1):
    short bins repeat their last row, which never beats the first copy. Bins may overlap, so
    the backward sums with bincount over flat positions."""

    def forward(self, x, out, found=None):
        xp = array_module(x)
        N, C, H, W = x.shape
        (sh, eh), (sw, ew) = _bins(H, out[0]), _bins(W, out[1])
        best = pos = None
        for a in range(int((eh - sh).max())):
            rows = xp.asarray(np.minimum(sh + a, eh - 1))
            for b in range(int((ew - sw).max())):
                cols = xp.asarray(np.minimum(sw + b, ew - 1))
                v = x[:, :, rows[:, None], cols]  # (N, C, oh, ow)
                p = rows[:, None] * W + cols
                if best is None:
                    best, pos = v, xp.broadcast_to(p, v.shape).copy()
                    continue
                take = v > best
                take |= xp.isnan(v)
                pos = xp.where(take, p, pos)
                xp.maximum(best, v, out=best)
        self.pos, self.x_shape = pos, x.shape
        if found is not None:
            found.append(pos.astype(np.int64))
        return best

    def backward(self, g):
        xp = array_module(g)
        N, C, H, W = self.x_shape
        flat = (xp.arange(N * C).reshape(N, C, 1, 1) * (H * W) + self.pos).reshape(-1)
        gx = xp.bincount(flat, weights=g.reshape(-1), minlength=N * C * H * W)
        return gx.astype(g.dtype, copy=False).reshape(self.x_shape), None, None


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max over PyTorch's adaptive bins to an (oh, ow) output (bins may overlap when sizes do not divide)."""
    x, back = _as_2d("adaptive_max_pool2d", input, 2)
    out = _output_size("adaptive_max_pool2d", output_size, x.shape[2:])
    found = [] if return_indices else None
    if x.shape[2] % out[0] == 0 and x.shape[3] % out[1] == 0:  # equal bins: a plain max pool
        k = (x.shape[2] // out[0], x.shape[3] // out[1])
        y = MaxPool2d.apply(x, k, k, (0, 0), (1, 1), out, found)
    else:
        y = AdaptiveMaxPool2d.apply(x, out, found)
    y = back(y)
    return (y, Tensor._make(back(Tensor._make(found[0], None))._data, None)) if return_indices else y


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max over PyTorch's adaptive bins of an (N, C, L) input."""
    x, back = _as_2d("adaptive_max_pool1d", input, 1)
    (o,) = _output_size("adaptive_max_pool1d", output_size, x.shape[3:])
    found = [] if return_indices else None
    y = back(AdaptiveMaxPool2d.apply(x, (1, o), found))
    return (y, Tensor._make(back(Tensor._make(found[0], None))._data, None)) if return_indices else y


# ---- interpolation ----------------------------------------------------------------------------
def _nearest_source(n_in: int, n_out: int, exact: bool, scale) -> np.ndarray:
    """The input index each output index copies: floor(dst * ratio) ('nearest', PyTorch's legacy
    rule) or floor((dst + 0.5) * ratio) ('nearest-exact'), ratio in float32 as PyTorch computes it.
    `scale` is the user's scale_factor (PyTorch then maps with 1/scale_factor, not in/out)."""
    ratio = np.float32(1.0 / scale if scale else n_in / n_out)
    dst = np.arange(n_out).astype(np.float32) + np.float32(0.5 if exact else 0.0)
    return np.minimum(np.floor(dst * ratio).astype(np.int64), n_in - 1)


def _cubic_weights(t, a: float = -0.75):
    """Keys' cubic convolution weights of the four taps around a point at fraction t (PyTorch's A)."""
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _resample_matrix(n_in: int, n_out: int, mode: str, align_corners: bool, scale) -> np.ndarray:
    """(out, in) weights of 1-D linear or cubic resampling, with PyTorch's source coordinates."""
    dst = np.arange(n_out)
    m = np.zeros((n_out, n_in))
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        ratio = 1.0 / scale if scale else n_in / n_out
        src = (dst + 0.5) * ratio - 0.5
        if mode == "linear":
            src = np.maximum(src, 0.0)  # cubic keeps negative coordinates (its taps are clamped instead)
    i0 = np.floor(src).astype(np.int64)
    frac = src - i0
    if mode == "cubic":
        for k, w in enumerate(_cubic_weights(frac)):
            np.add.at(m, (dst, np.clip(i0 - 1 + k, 0, n_in - 1)), w)  # taps past an edge read the edge
        return m
    i0 = np.minimum(i0, n_in - 1)
    m[dst, i0] = 1.0 - frac
    m[dst, np.minimum(i0 + 1, n_in - 1)] += frac  # rows are distinct, so this fancy add has no repeated index
    return m


def _along_axes(x: Tensor, mats) -> Tensor:
    """Apply one (out, in) matrix along each spatial axis of x (N, C, *S): the last axis is a
    right product, each earlier one a left product over x viewed (lead, n, rest)."""
    y = x @ mats[-1].t()  # (..., W) @ (W, ow)
    for axis in range(y.ndim - 2, 1, -1):
        shape, m = y.shape, mats[axis - 2]
        lead, rest = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
        y = (m @ y.reshape(lead, shape[axis], rest)).reshape(shape[:axis] + (m.shape[0],) + shape[axis + 1:])
    return y


def _uint8_pass(a, m: np.ndarray, axis: int):
    """One axis of PyTorch's uint8 resampling: the weights in fixed point (as many bits as fit
    an int16 for the largest), an integer sum rounded half up, saturated to 0..255."""
    bits = 0
    while bits < 22 and int(0.5 + np.abs(m).max() * (1 << (bits + 1))) < (1 << 15):
        bits += 1
    w = np.where(m < 0, np.ceil(m * (1 << bits) - 0.5), np.floor(m * (1 << bits) + 0.5)).astype(np.int64)
    acc = np.moveaxis(np.tensordot(a.astype(np.int64), w, axes=([axis], [1])), -1, axis)
    return np.clip((acc + (1 << (bits - 1))) >> bits, 0, 255).astype(np.uint8)


_MODES = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "area": (1, 2, 3), "linear": (1,), "bilinear": (2,),
          "bicubic": (2,), "trilinear": (3,)}


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resize an (N, C, L), (N, C, H, W) or (N, C, D, H, W) input by `size` or `scale_factor`.
    'nearest' and 'nearest-exact' pick one input cell per output cell (any dtype); 'linear',
    'bilinear', 'trilinear', 'bicubic' and 'area' (adaptive average pooling) are products with
    one (out, in) matrix per spatial axis. uint8 images are resampled as PyTorch does them, in
    fixed point and rounded (bilinear only).

    >>> F.interpolate(lamina.randn(1, 3, 8, 8), scale_factor=2, mode="bilinear").shape   # (1, 3, 16, 16)
    """
    nd = input.ndim - 2
    if nd not in (1, 2, 3):
        raise NotImplementedError(f"interpolate: expected a 3-D, 4-D or 5-D input, got shape {input.shape}")
    if mode not in _MODES or nd not in _MODES[mode]:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not supported for a {input.ndim}-D input (shape {input.shape}); use "
            f"'nearest', 'nearest-exact', 'area', or {['linear', 'bilinear or bicubic', 'trilinear'][nd - 1]!r}")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("interpolate: align_corners only has an effect with mode 'linear', 'bilinear', 'bicubic' "
                         "or 'trilinear'")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    spatial = input.shape[2:]
    if size is not None:
        out = _tuple(size, nd, "size", "interpolate")
        scales = (None,) * nd
    else:
        scales = (float(scale_factor),) * nd if isinstance(scale_factor, (int, float)) else tuple(map(float, scale_factor))
        if len(scales) != nd:
            raise ValueError(f"interpolate: scale_factor {scale_factor} does not match {nd} spatial dims")
        out = tuple(int(math.floor(n * s)) for n, s in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    if min(out) < 1:
        raise ValueError(f"interpolate: output size {out} from input shape {input.shape} must be positive")
    if mode in ("nearest", "nearest-exact"):
        from .index import index_select

        y = input
        for axis, (n, o, s) in enumerate(zip(spatial, out, scales)):
            if n != o or s:
                idx = to_device(_nearest_source(n, o, mode == "nearest-exact", s), device_of(input._data))
                y = index_select(y, axis + 2, Tensor._make(idx, None))
        return y
    if mode == "area":
        return _along_axes(input, [_constant(_mean_matrix(n, o), input) for n, o in zip(spatial, out)])
    kind = "cubic" if mode == "bicubic" else "linear"
    mats = [_resample_matrix(n, o, kind, bool(align_corners), s) for n, o, s in zip(spatial, out, scales)]
    if input.dtype == np.uint8:
        if mode != "bilinear":
            raise NotImplementedError(f"interpolate: uint8 input is supported with mode 'bilinear' (and nearest), "
                                      f"not {mode!r}")
        a = input._data if isinstance(input._data, np.ndarray) else input._data.get()
        for axis in (3, 2):  # width first, then height, as PyTorch
            if a.shape[axis] != mats[axis - 2].shape[0]:
                a = _uint8_pass(a, mats[axis - 2], axis)
        return Tensor._make(to_device(a, device_of(input._data)), None)
    if input.dtype.kind != "f":
        raise RuntimeError(f"interpolate: mode {mode!r} needs a floating-point input, got {input.dtype}")
    return _along_axes(input, [_constant(m, input) for m in mats])


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """The same as interpolate (PyTorch's older name)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Bilinear upsampling with align_corners=True, as PyTorch's upsample_bilinear."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
