"""Convolution: conv2d and conv_transpose2d as primitives; conv1d is conv2d with a height of 1.

A convolution is one matrix product. im2col lays every receptive field out as a column,
and the columns are kept channel-major, (C, kh, kw, N, Ho, Wo), because then each of the
three products the op needs is a single GEMM with no further copy of the columns:

    forward      out    (O, N*Ho*Wo)      = W (O, C*kh*kw)  @ cols (C*kh*kw, N*Ho*Wo)
    grad weight  gW     (O, C*kh*kw)      = g (O, N*Ho*Wo)  @ cols.T
    grad input   gcols  (C*kh*kw, N*Ho*Wo) = W.T            @ g      -> col2im

col2im folds the columns back with one strided-slice add per kernel offset (kh*kw adds of
whole (C, N, Ho, Wo) blocks), never a scatter. Groups are a leading batch axis of the
GEMMs. conv_transpose2d is conv2d's input gradient run forward, so it reuses col2im, and
its own gradients are conv2d's forward and weight gradient.
"""
from __future__ import annotations

import operator

import numpy as np

from ..autograd import Function
from ..backend import array_module, copyto, empty_rows, parallel, split
from ..tensor import Tensor
from . import conv_fft, conv_winograd
from .reduce import channel_sum

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


# The least value of each geometry argument (a stride of 0 would divide by zero, a negative
# padding would crop); the functional ops and the layers' constructors check through _tuple
_LEAST = {"kernel_size": 1, "stride": 1, "dilation": 1, "padding": 0, "output_padding": 0}


def _tuple(v, n: int, name: str, op: str) -> tuple:
    """An int or a sequence of n ints, as a tuple of n ints, checked against _LEAST."""
    try:
        t = (operator.index(v),) * n if not isinstance(v, (tuple, list)) else tuple(map(operator.index, v))
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}") from None
    if len(t) != n:  # RuntimeError, as torch's conv and pool argument checks
        raise RuntimeError(f"{op}: {name} must be an int or {n} ints, got {t}")
    least = _LEAST.get(name)
    if least is not None and min(t) < least:
        raise RuntimeError(f"{op}: {name} must be {'positive' if least == 1 else 'non-negative'}, got "
                           f"{v if isinstance(v, int) else t}")
    return t


def _out_size(size: int, k: int, s: int, lo: int, hi: int, d: int) -> int:
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def _pad_cnhw(x, pads, shape=None):
    """x (N, C, H, W) as a zero-padded (C, N, Hp, Wp) array; pads = (top, bottom, left, right).
    The transpose to channel-major rides on the padding copy, so it costs nothing extra."""
    xp = array_module(x)
    t, b, l, r = pads
    if not any(pads):
        return x.transpose(1, 0, 2, 3)  # a view: the im2col copy below reads it in place
    N, C, H, W = x.shape
    out = xp.zeros((C, N, H + t + b, W + l + r), dtype=x.dtype)
    copyto(out[:, :, t:t + H, l:l + W], x.transpose(1, 0, 2, 3))
    return out


def _im2col(xc, kernel, stride, dilation, out_hw, rows=None):
    """Padded (C, N, Hp, Wp) -> columns (C, kh, kw, N, Ho, Wo), contiguous: one copy. With
    `rows` (a slice of kernel rows), only those rows' columns: see _row_chunks."""
    xp = array_module(xc)
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_hw
    # win[c, n, ho, wo, i, j] = xc[c, n, ho*sh + i*dh, wo*sw + j*dw]: one strided view, built
    # directly (sliding_window_view plus slicing costs ~50 us per call, which batch-1 inference feels)
    s0, s1, s2, s3 = xc.strides
    win = xp.lib.stride_tricks.as_strided(xc, (xc.shape[0], xc.shape[1], Ho, Wo, kh, kw),
                                          (s0, s1, s2 * sh, s3 * sw, s2 * dh, s3 * dw))
    if rows is not None:
        win = win[:, :, :, :, rows]
    win = win.transpose(0, 4, 5, 1, 2, 3)
    rows_n = win.shape[0] * win.shape[1] * win.shape[2]  # the GEMM's (C*kh*kw, N*Ho*Wo), rows off shared cache sets
    cols = empty_rows(xp, rows_n, win.shape[3] * Ho * Wo, xc.dtype).reshape(win.shape)
    copyto(cols, win)
    return cols


def _col2im_add(acc, gcols, first_row, stride, dilation):
    """Add columns (C, rows, kw, N, Ho, Wo), kernel rows first_row.., onto the padded
    (C, N, Hp, Wp) image `acc`: one strided-slice add per kernel offset (no scatter, no add.at)."""
    C, rows, kw, _, Ho, Wo = gcols.shape
    (sh, sw), (dh, dw) = stride, dilation

    def add(cs):
        for r in range(rows):
            i = first_row + r
            for j in range(kw):
                acc[cs, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw] += gcols[cs, r, j]
    split(add, C, acc)


def _crop_nchw(acc, x_shape, pads, out=None):
    """The (C, N, Hp, Wp) padded accumulator -> the (N, C, H, W) image gradient (into `out`, if given)."""
    _, _, H, W = x_shape
    t, _, l, _ = pads
    if out is None:
        out = array_module(acc).empty((acc.shape[1], acc.shape[0], H, W), dtype=acc.dtype)
    copyto(out, acc[:, :, t:t + H, l:l + W].transpose(1, 0, 2, 3))
    return out


def _col2im(gcols, x_shape, pads, stride, dilation):
    """Columns (C, kh, kw, N, Ho, Wo) summed back onto an (N, C, H, W) image."""
    _, _, H, W = x_shape
    t, b, l, r = pads
    acc = array_module(gcols).zeros((gcols.shape[0], x_shape[0], H + t + b, W + l + r), dtype=gcols.dtype)
    _col2im_add(acc, gcols, 0, stride, dilation)
    return _crop_nchw(acc, x_shape, pads)


def _row_chunks(cols_shape, itemsize: int, limit: int = 16 << 20):
    """Slices of kernel rows for backward: all rows at once when the columns are small, else a
    row at a time, so a large layer holds a kh-th of its columns (activation memory on a par
    with PyTorch's) while small layers keep one big GEMM."""
    kh = cols_shape[1]
    n = 1
    for d in cols_shape:
        n *= d
    step = kh if n * itemsize <= limit else 1
    return [slice(i, min(i + step, kh)) for i in range(0, kh, step)]


def _row_weight(w, rows: slice, groups: int):
    """Some kernel rows of the weight, transposed for the input gradient: (G, C/G*rows*kw, O/G)."""
    return _grouped(array_module(w).ascontiguousarray(w[:, :, rows]), groups).transpose(0, 2, 1)


def _input_grad(w, g2, x_shape, pads, stride, dilation, out_hw, groups: int):
    """dL/dx of conv2d: col2im(W^T @ g), g2 being the (G, O/G, N*Ho*Wo) output gradient, one
    kernel row at a time (a kh-th of the columns in memory at once).

    With stride 1, when padded rows are not much wider than output rows, the columns are laid
    out over padded-width rows (Ho, Wp) instead of (Ho, Wo): each kernel offset is then one
    flat shift of whole rows, so col2im adds long contiguous runs instead of short strided
    ones (about 2-3x faster). The Wp - Wo extra columns get zero gradient and add nothing.
    """
    xp = array_module(g2)
    N, C, H, W = x_shape
    (Ho, Wo), (t, b, l, r), (dh, dw) = out_hw, pads, dilation
    kh, kw = w.shape[2:]
    Hp, Wp = H + t + b, W + l + r
    chunks = _row_chunks((C, kh, kw, N, Ho, Wp), g2.itemsize)
    if tuple(stride) != (1, 1) or Wp > 1.2 * Wo:
        acc = xp.zeros((C, N, Hp, Wp), dtype=g2.dtype)
        for rows in chunks:
            wr = _row_weight(w, rows, groups)
            gcols = xp.matmul(wr, g2, out=empty_rows(xp, groups * wr.shape[1], g2.shape[2], g2.dtype)
                              .reshape(groups, wr.shape[1], -1))
            _col2im_add(acc, gcols.reshape((C, -1, kw, N) + tuple(out_hw)), rows.start, stride, dilation)
        return _crop_nchw(acc, x_shape, pads)
    O = g2.shape[0] * g2.shape[1]
    g_ext = xp.zeros((O, N, Ho, Wp), dtype=g2.dtype)
    g_ext[..., :Wo] = g2.reshape(O, N, Ho, Wo)
    g_ext = _grouped(g_ext, groups)
    L = Ho * Wp
    acc = xp.zeros((C, N, Hp * Wp + dw * (kw - 1)), dtype=g2.dtype)  # the last offsets overrun the image by that much
    for rows in chunks:
        gcols = xp.matmul(_row_weight(w, rows, groups), g_ext).reshape(C, -1, kw, N, L)

        def add(cs):
            for r, i in enumerate(range(rows.start, rows.stop)):
                for j in range(kw):
                    off = i * dh * Wp + j * dw  # position (ho + i*dh, wo + j*dw) is flat (ho*Wp + wo) + off
                    acc[cs, :, off:off + L] += gcols[cs, r, j]
        split(add, C, acc)
    return _crop_nchw(acc[:, :, :Hp * Wp].reshape(C, N, Hp, Wp), x_shape, pads)


# From this many output pixels up, conv2d's forward GEMM (and a first layer's weight gradient)
# runs one image at a time, as a batched matmul over the columns viewed (N, C*kh*kw, Ho*Wo):
# the result is then already (N, O, Ho*Wo). Below it the per-call overhead wins.
PER_IMAGE_GEMM = 512
# Stride-1 convolutions whose flat columns fit in this many bytes take Conv2d._flat_forward.
FLAT_COLS_BYTES = 1 << 20


def _per_image(cols):
    """Columns (C, kh, kw, N, Ho, Wo) as a (N, C*kh*kw, Ho*Wo) view: a GEMM operand per image."""
    N = cols.shape[3]
    return cols.reshape(-1, N, cols.shape[4] * cols.shape[5]).transpose(1, 0, 2)


def _per_image_matmul(a, b):
    """matmul(a, b) where b (or a) holds one matrix per image along axis 0, cut into blocks of
    images over lamina's threads (backend.split, from 8 MB of output): OpenBLAS runs such small
    GEMMs (a first layer's 16 x 25 by 25 x 784) on one core each. Inside a conv part, inline."""
    xp = array_module(b)
    N = max(a.shape[0] if a.ndim == 3 else 1, b.shape[0] if b.ndim == 3 else 1)
    out = xp.empty((N, a.shape[-2], b.shape[-1]), dtype=xp.result_type(a, b))

    def gemm(rows):
        xp.matmul(a[rows] if a.ndim == 3 else a, b[rows] if b.ndim == 3 else b, out=out[rows])
    split(gemm, N, out)
    return out


def _grouped(a, groups: int):
    """Weight (G*rows, ...) -> (G, rows, prod(...)): groups become the batch axis of a matmul."""
    return a.reshape(groups, a.shape[0] // groups, -1)


def _grouped_cols(cols, groups: int):
    """Columns (C, kh, kw, N, Ho, Wo) -> (G, C/G*kh*kw, N*Ho*Wo)."""
    return cols.reshape(groups, -1, cols.shape[3] * cols.shape[4] * cols.shape[5])


def _add_bias(out, bias):
    """out (N, O, Ho, Wo), a fresh array, plus a per-channel bias (or None), in place. The bias
    is spread into one (O*Ho*Wo,) row, which NumPy adds to each image about 2x faster than it
    broadcasts bias[:, None, None] (batch 1 skips the spreading copy)."""
    if bias is None:
        return out
    N, O = out.shape[:2]
    if N == 1 or not out.flags.c_contiguous:  # (a reshape of a strided array would be a copy)
        out += bias.reshape(1, -1, 1, 1)
    else:
        out.reshape(N, -1)[...] += array_module(out).repeat(bias, out.size // (N * O))
    return out


def _to_nchw(out_gm, N: int, Ho: int, Wo: int, bias):
    """GEMM result (O, N*Ho*Wo) -> contiguous (N, O, Ho, Wo), with the bias added in the same pass."""
    xp = array_module(out_gm)
    nchw = out_gm.reshape(-1, N, Ho, Wo).transpose(1, 0, 2, 3)
    if bias is None:
        return xp.ascontiguousarray(nchw)
    out = xp.empty(nchw.shape, dtype=out_gm.dtype)
    return xp.add(nchw, bias.reshape(1, -1, 1, 1), out=out)  # the transposing copy and the bias in one pass


# A convolution runs as one part of the batch per thread (backend.parallel) when each part
# gets at least this many flops. Below that, handing a part over (the GIL, and waking an idle
# core on a virtual machine) can cost more than it gains: LeNet's 60 MFLOP conv2 in two parts
# measured 1.5-5x slower than in one, mnist-cnn's 320 MFLOP conv2 5-20% faster.
PART_MIN_FLOPS = 100e6


class _InParts(Function):
    """A convolution over the batch cut into parts, one per thread (backend.parallel), when
    each part gets PART_MIN_FLOPS: each part is a `Part` over its own images, with its own
    saved arrays; the input gradient is the parts' side by side, the weight and bias
    gradients their sums. Subclasses name the Part and give `flops` and `out_shape`."""

    Part: type

    def forward(self, x, w, b, *args):
        xp = array_module(x)
        N = x.shape[0]
        parts = min(N, int(self.flops(x.shape, w.shape, *args) / max(PART_MIN_FLOPS, 1))) \
            if N > 1 and isinstance(x, np.ndarray) else 1  # (batch-1 inference skips the count)
        if parts < 2:
            self.parts = {0: self.Part()}
            return self.parts[0].forward(x, w, b, *args)
        out = xp.empty(self.out_shape(x.shape, w.shape, *args), dtype=x.dtype)
        self.parts = {}

        def run(rows):
            part, mine = self.Part(), out[rows]
            self.parts[rows.start] = part
            y = part.forward(x[rows], w, b, *args, out=mine)
            if y is not mine:  # a path that could not write into it
                mine[...] = y
        parallel(run, N, parts)
        return out

    def backward(self, g):
        xp = array_module(g)
        need = self.needs_input_grad[:3]
        rest = (None,) * (len(self.inputs) - 3)
        if len(self.parts) == 1:
            return self.parts.pop(0).backward(g, *need) + rest
        grads = {}
        gx = xp.empty(self.inputs[0].shape, dtype=g.dtype) if need[0] else None

        def run(rows):
            mine = gx[rows] if need[0] else None
            grads[rows.start] = part = self.parts.pop(rows.start).backward(g[rows], *need, gx_out=mine)
            if need[0] and part[0] is not mine:
                mine[...] = part[0]
        parallel(run, g.shape[0], len(self.parts))
        gw, gb = (sum(grads[k][i] for k in sorted(grads)) if need[i] else None for i in (1, 2))
        return (gx, gw, gb) + rest


class _Conv2dPart:
    """conv2d over one part of the batch, by the algorithm that suits it; keeps what its
    backward needs. `out` and `gx_out` are where the caller wants the output and the input
    gradient; a path that cannot write there returns a new array instead."""

    def forward(self, x, w, b, stride, pads, dilation, groups, out=None):
        xp = array_module(x)
        N, C, H, W = x.shape
        O, _, kh, kw = w.shape
        Ho, Wo = Conv2d.out_shape(x.shape, w.shape, stride, pads, dilation, groups)[2:]
        self.w, self.plan, self.wino = w, None, None
        if conv_winograd.use_winograd(x, w.shape, stride, dilation, groups):
            out, self.wino = conv_winograd.forward(x, w, b, pads, out)  # 3x3, stride 1: Winograd F(4x4, 3x3)
            return out
        if conv_fft.use_fft(x, w.shape, stride, dilation, groups, pads):
            # stride 1 with a kernel of 5x5 and up on a small image: in the frequency domain
            self.plan = conv_fft.plan_for(x, kh, kw, pads)
            out, self.X, self.K = conv_fft.forward(x, w, self.plan)
            return _add_bias(out, b)
        xc = _pad_cnhw(x, pads)
        self.xc, self.x_shape, self.out_hw = xc, x.shape, (Ho, Wo)
        self.stride, self.pads, self.dilation, self.groups, self.cols = stride, pads, dilation, groups, None
        Hp, Wp = xc.shape[2:]
        if tuple(stride) == (1, 1) and C * kh * kw * N * Hp * Wp * x.itemsize <= FLAT_COLS_BYTES:
            return self._flat_forward(xc, w, b, (Ho, Wo))
        cols = _im2col(xc, (kh, kw), stride, dilation, (Ho, Wo))  # (C, kh, kw, N, Ho, Wo)
        if groups == 1 and Ho * Wo >= PER_IMAGE_GEMM:  # straight into (N, O, Ho, Wo): no transposing copy
            out = _add_bias(_per_image_matmul(w.reshape(O, -1), _per_image(cols)).reshape(N, O, Ho, Wo), b)
        else:
            out = xp.matmul(_grouped(w, groups), _grouped_cols(cols, groups))  # (G, O/G, N*Ho*Wo)
        # Keep the (padded) input, not the kh*kw times larger columns: backward rebuilds them,
        # one more copy in exchange for activation memory on a par with PyTorch's. Except where
        # the columns are small: no bigger than twice the output (a first layer, with few input
        # channels) or than 8 MB, when keeping them costs little and saves that copy.
        self.cols = cols if cols.size <= 2 * out.size or cols.nbytes <= 8 << 20 else None
        return out if out.ndim == 4 else _to_nchw(out, N, Ho, Wo, b)

    def _flat_forward(self, xc, w, b, out_hw):
        """Forward for a small stride-1 input (batch-1 inference, mostly): columns over the flat
        padded image, where kernel offset (i, j) is the run of the image shifted by i*Wp + j.
        Each column row is then one long contiguous copy instead of Ho runs of Wo, 2-3x faster
        when the copy is small enough that its per-run cost dominates. The Wp - Wo extra
        positions per row (and the rows between images) are computed and dropped."""
        xp = array_module(xc)
        C, N, Hp, Wp = xc.shape
        O, _, kh, kw = w.shape
        (Ho, Wo), (dh, dw) = out_hw, self.dilation
        flat = xp.ascontiguousarray(xc).reshape(C, -1)
        L = N * Hp * Wp - (kh - 1) * dh * Wp - (kw - 1) * dw
        s0, s1 = flat.strides
        cols = xp.lib.stride_tricks.as_strided(flat, (C, kh, kw, L), (s0, dh * Wp * s1, dw * s1, s1))
        out = xp.matmul(_grouped(w, self.groups), xp.ascontiguousarray(cols).reshape(self.groups, -1, L))
        out = out.reshape(O, L)
        # output (o, n, ho, wo) sits at flat position n*Hp*Wp + ho*Wp + wo, always below L
        t0, t1 = out.strides
        return _to_nchw(xp.lib.stride_tricks.as_strided(out, (O, N, Ho, Wo), (t0, Hp * Wp * t1, Wp * t1, t1)),
                        N, Ho, Wo, b)

    def backward(self, g, need_x: bool, need_w: bool, need_b: bool, gx_out=None):
        """(gx, gw, gb), each None unless asked for."""
        xp = array_module(g)
        if self.wino is not None:
            return conv_winograd.backward(g, self.wino, need_x, need_w, need_b, gx_out)
        if self.plan is not None:
            return self._fft_backward(g, need_x, need_w, need_b)
        w, G = self.w, self.groups
        gx = gw = gb = None
        kernel = w.shape[2:]
        if need_w and not need_x and G == 1 and g.shape[2] * g.shape[3] >= PER_IMAGE_GEMM:
            # a first layer: no input gradient, so no need for g channel-major; one GEMM per image
            # against g as it is, summed over the batch, measured 1.1-2x faster than transposing g
            cols = self.cols if self.cols is not None else \
                _im2col(self.xc, kernel, self.stride, self.dilation, self.out_hw)
            g_rows = g.reshape(g.shape[0], g.shape[1], -1).transpose(0, 2, 1)
            gw = _per_image_matmul(_per_image(cols), g_rows).sum(axis=0)
            self.cols = None
            gb = channel_sum(g) if need_b else None
            return None, gw.T.reshape(w.shape), gb
        N, O, Ho, Wo = g.shape
        g2 = empty_rows(xp, O, N * Ho * Wo, g.dtype)
        copyto(g2.reshape(O, N, Ho, Wo), g.transpose(1, 0, 2, 3))
        g2 = _grouped(g2, G)  # (G, O/G, N*Ho*Wo)
        if need_w:
            gw = xp.empty(w.shape, dtype=g.dtype)
            O, Cg, kh, kw = w.shape
            chunks = _row_chunks((Cg * G, kh, kw) + g.shape[:1] + self.out_hw, g.itemsize)
            if self.cols is not None:
                chunks = [slice(0, kh)]
            for rows in chunks:
                cols = self.cols if self.cols is not None else \
                    _im2col(self.xc, kernel, self.stride, self.dilation, self.out_hw, rows)
                # (cols @ g2^T)^T: the long N*Ho*Wo axis as the inner dimension of a plain GEMM
                # measured 25-45% faster in OpenBLAS than g2 @ cols^T on these shapes
                gw_rows = xp.matmul(_grouped_cols(cols, G), g2.transpose(0, 2, 1)).transpose(0, 2, 1)
                gw[:, :, rows] = gw_rows.reshape(O, Cg, -1, kw)
            del cols
            self.cols = None
        if need_b:
            gb = g2.sum(axis=2).reshape(-1)
        if need_x:
            gx = _input_grad(w, g2, self.x_shape, self.pads, self.stride, self.dilation, self.out_hw, G)
        return gx, gw, gb

    def _fft_backward(self, g, need_x, need_w, need_b):
        plan, gx, gw, spec = self.plan, None, None, None
        if need_x:
            gx, spec = conv_fft.input_grad(g, self.K, plan)
        if need_w:
            if spec is None:
                spec = conv_fft.spectrum(g, plan.in_g, plan.cdt)
            gw = conv_fft.weight_grad(self.X, spec, plan, self.w.shape)
        gb = channel_sum(g) if need_b else None
        return gx, gw, gb


class Conv2d(_InParts):
    Part = _Conv2dPart

    @classmethod
    def flops(cls, x_shape, w_shape, stride, pads, dilation, groups):
        N, O, Ho, Wo = cls.out_shape(x_shape, w_shape, stride, pads, dilation, groups)
        return 2 * N * O * Ho * Wo * w_shape[1] * w_shape[2] * w_shape[3]  # (w_shape[1] is C / groups)

    @staticmethod
    def out_shape(x_shape, w_shape, stride, pads, dilation, groups):
        (N, _, H, W), (O, _, kh, kw) = x_shape, w_shape
        return (N, O, _out_size(H, kh, stride[0], pads[0], pads[1], dilation[0]),
                _out_size(W, kw, stride[1], pads[2], pads[3], dilation[1]))


class _ConvTranspose2dPart:
    """The input gradient of a conv2d whose weight is `w` (Cin, Cout/G, kh, kw), run forward,
    over one part of the batch."""

    def forward(self, x, w, b, stride, padding, output_padding, groups, dilation, out=None):
        xp = array_module(x)
        N, Cin, H, W = x.shape
        _, Cg, kh, kw = w.shape
        Ho, Wo = ConvTranspose2d.out_shape(x.shape, w.shape, stride, padding, output_padding, groups, dilation)[2:]
        x2 = _grouped(xp.ascontiguousarray(x.transpose(1, 0, 2, 3)), groups)  # (G, Cin/G, N*H*W)
        gcols = xp.matmul(_grouped(w, groups).transpose(0, 2, 1), x2)  # (G, Cout/G*kh*kw, N*H*W)
        gcols = gcols.reshape(Cg * groups, kh, kw, N, H, W)
        self.pads = (padding[0], padding[0], padding[1], padding[1])
        self.x2, self.w, self.in_hw = x2, w, (H, W)
        self.stride, self.dilation, self.groups = stride, dilation, groups
        return _add_bias(_col2im(gcols, (N, Cg * groups, Ho, Wo), self.pads, stride, dilation), b)

    def backward(self, g, need_x: bool, need_w: bool, need_b: bool, gx_out=None):
        """(gx, gw, gb), each None unless asked for."""
        xp = array_module(g)
        w, G, (H, W) = self.w, self.groups, self.in_hw
        N, Cout = g.shape[:2]
        kh, kw = w.shape[2:]
        # conv2d of g with the same weight: its columns serve both gradients
        cols = _im2col(_pad_cnhw(g, self.pads), (kh, kw), self.stride, self.dilation, (H, W))
        gx = gw = gb = None
        if need_x:
            gx = _to_nchw(xp.matmul(_grouped(w, G), _grouped_cols(cols, G)), N, H, W, None)
        if need_w:
            gw = xp.matmul(self.x2, _grouped_cols(cols, G).transpose(0, 2, 1)).reshape(w.shape)
        if need_b:
            gb = channel_sum(g)
        return gx, gw, gb


class ConvTranspose2d(_InParts):
    Part = _ConvTranspose2dPart

    @staticmethod
    def flops(x_shape, w_shape, stride, padding, output_padding, groups, dilation):
        (N, Cin, H, W), (_, Cg, kh, kw) = x_shape, w_shape
        return 2 * N * Cin * H * W * Cg * kh * kw  # about

    @staticmethod
    def out_shape(x_shape, w_shape, stride, padding, output_padding, groups, dilation):
        (N, _, H, W), (_, Cg, kh, kw) = x_shape, w_shape
        return (N, Cg * groups) + tuple((size - 1) * s - 2 * p + d * (k - 1) + op + 1 for size, s, p, d, k, op in
                                        zip((H, W), stride, padding, dilation, (kh, kw), output_padding))


def _check_conv(op, input, weight, bias, groups, nd, transposed=False):
    if input.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected a {nd + 2}-D input (N, C, {'H, W' if nd == 2 else 'L'}), "
                           f"got shape {input.shape}")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected a {nd + 2}-D weight, got shape {weight.shape}")
    if groups < 1 or (weight.shape[0] % groups):
        raise RuntimeError(f"{op}: weight of shape {weight.shape} does not split into groups={groups}")
    c_in = weight.shape[0] if transposed else weight.shape[1] * groups
    if input.shape[1] != c_in:
        raise RuntimeError(f"{op}: weight of shape {weight.shape} with groups={groups} expects {c_in} input "
                           f"channels, got input of shape {input.shape}")
    c_out = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise RuntimeError(f"{op}: bias of shape {bias.shape} does not match {c_out} output channels")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"{op}: input dtype {input.dtype} and weight dtype {weight.dtype} differ")


def _unbatched(op, input, nd):
    """PyTorch accepts an unbatched (C, ...) input; add the batch axis and remember to drop it."""
    if isinstance(input, Tensor) and input.ndim == nd + 1:
        return input.unsqueeze(0), True
    return input, False


def _conv_pads(op, padding, kernel, stride, dilation) -> tuple:
    """(top, bottom, left, right) from an int, a pair, 'valid' or 'same' (which may be uneven)."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride={stride})")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    ph, pw = _tuple(padding, 2, "padding", op)
    return (ph, ph, pw, pw)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of an (N, C, H, W) input with an (O, C/groups, kh, kw) weight.

    >>> F.conv2d(lamina.randn(8, 3, 32, 32), lamina.randn(16, 3, 3, 3), padding=1).shape   # (8, 16, 32, 32)
    """
    input, unbatched = _unbatched("conv2d", input, 2)
    _check_conv("conv2d", input, weight, bias, groups, 2)
    stride = _tuple(stride, 2, "stride", "conv2d")
    dilation = _tuple(dilation, 2, "dilation", "conv2d")
    pads = _conv_pads("conv2d", padding, weight.shape[2:], stride, dilation)
    H, W = input.shape[2] + pads[0] + pads[1], input.shape[3] + pads[2] + pads[3]
    kh, kw = (d * (k - 1) + 1 for k, d in zip(weight.shape[2:], dilation))
    if H < kh or W < kw:
        raise RuntimeError(f"conv2d: padded input of size ({H}, {W}) is smaller than the dilated kernel "
                           f"({kh}, {kw}); input shape {input.shape}, weight shape {weight.shape}")
    out = Conv2d.apply(input, weight, bias, stride, pads, dilation, groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D convolution of an (N, C, L) input with an (O, C/groups, k) weight: conv2d with a height of 1."""
    input, unbatched = _unbatched("conv1d", input, 1)
    _check_conv("conv1d", input, weight, bias, groups, 1)
    if not isinstance(padding, str):
        padding = (0, _tuple(padding, 1, "padding", "conv1d")[0])
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, _tuple(stride, 1, "stride", "conv1d")[0]),
                 padding, (1, _tuple(dilation, 1, "dilation", "conv1d")[0]), groups)  # (N, O, 1, Lo)
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 2-D convolution ("deconvolution") with an (Cin, Cout/groups, kh, kw) weight: the
    gradient of conv2d with respect to its input. Output size (H-1)*s - 2p + d*(k-1) + output_padding + 1.
    """
    input, unbatched = _unbatched("conv_transpose2d", input, 2)
    _check_conv("conv_transpose2d", input, weight, bias, groups, 2, transposed=True)
    stride = _tuple(stride, 2, "stride", "conv_transpose2d")
    padding = _tuple(padding, 2, "padding", "conv_transpose2d")
    output_padding = _tuple(output_padding, 2, "output_padding", "conv_transpose2d")
    dilation = _tuple(dilation, 2, "dilation", "conv_transpose2d")
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= max(s, d):
            raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller than "
                             f"stride {stride} or dilation {dilation}")
    sizes = [(n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, s, p, d, k, o in
             zip(input.shape[2:], stride, padding, dilation, weight.shape[2:], output_padding)]
    if min(sizes) < 1:
        raise RuntimeError(f"conv_transpose2d: output size {tuple(sizes)} is too small for input shape "
                           f"{input.shape}, weight {weight.shape} and padding {padding}")
    out = ConvTranspose2d.apply(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 1-D convolution: conv_transpose2d with a height of 1."""
    input, unbatched = _unbatched("conv_transpose1d", input, 1)
    _check_conv("conv_transpose1d", input, weight, bias, groups, 1, transposed=True)
    one = lambda v, name: (0 if name in ("padding", "output_padding") else 1,  # noqa: E731
                           _tuple(v, 1, name, "conv_transpose1d")[0])
    out = conv_transpose2d(input.unsqueeze(2), weight.unsqueeze(2), bias, one(stride, "stride"),
                           one(padding, "padding"), one(output_padding, "output_padding"), groups,
                           one(dilation, "dilation")).squeeze(2)
    return out.squeeze(0) if unbatched else out
