"""Stride-1 3x3 convolution by Winograd's minimal filtering, F(4x4, 3x3).

A 3x3 kernel over a 6x6 input tile gives a 4x4 output tile. im2col spends 144
multiplications per tile and channel pair and copies the input nine times over;
Winograd transforms each tile once (V = B^T d B), the kernel once (U = G w G^T), and then
needs 36 multiplications: one (O, C) @ (C, N*tiles) GEMM per transform point. The output
tile is A^T M A. Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks"
(2016), give the matrices below for the points 0, 1, -1, 2, -2 and infinity.

Layout is chosen for memory passes, which are half the cost here (the GEMMs the other half):
- everything is channel-major, like im2col's columns: tiles are cut from the padded
  (C, N, Hp, Wp) copy that im2col uses, into (36, C*N*tiles) (2.25x the input);
- each 2-D transform is one GEMM with the Kronecker product of its matrix with itself
  (36 x 36 for the input): more flops than two passes of 6 x 6, but one trip through memory;
- the output transform runs as (O*N*tiles, 36) @ (36, 16), so each 4x4 output tile lands
  with its 16 values together; moving tiles into NCHW then moves each tile row's four
  floats as one 16-byte unit (`_tile_rows`), 2.5-4x faster than a copy float by float;
  backward reads the output gradient the same way;
- the bias rides in the transform domain: column 7 of the output transform (point (1, 1),
  A^T's all-ones column twice) is all ones, so adding b to M[7] adds it to every output of
  the tile, a pass over 1/36 of M instead of the whole output; for the same reason the
  bias gradient is dM[7]'s sum (1/16 of the output gradient);
- the transforms' big matrices come from `backend.empty_rows`, whose rows are not a multiple
  of 4 KB apart (C*N*tiles floats often is): 20-30% faster GEMMs;
- backward runs the three maps transposed; the input gradient's tiles first fold their
  last two rows into the next tile's first two (one pass in tile space), then go back as
  16 assignments plus 8 adds where neighbouring tiles' columns overlap.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..backend import array_module, copyto, empty_rows, split
from .reduce import rowsum

_BT = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], dtype=np.float64)
_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
               [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], dtype=np.float64)
_AT = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
               dtype=np.float64)

# k_out[:, BIAS_POINT] is all ones: a value added there reaches all 16 outputs of a tile
BIAS_POINT = 7

# below this many flops (im2col's count) the extra Python of the transforms does not pay
MIN_FLOPS = 30e6
MIN_CHANNELS = 8
# On images this small the frequency domain (conv_fft) measured faster, even for 3x3 kernels:
# 7-27% at 8x8 with 64-128 channels; at 16x16 and up Winograd wins from 64 channels on.
MIN_PIXELS = 101
ENABLED = True


@lru_cache(maxsize=8)
def _matrices(dtype: str, xp_name: str):
    """The three Kronecker transforms in the data's dtype: input (36, 36), kernel (36, 9), output (16, 36)."""
    mats = tuple(np.kron(m, m).astype(dtype) for m in (_BT, _G, _AT))
    if xp_name == "numpy":
        return mats
    import cupy
    return tuple(cupy.asarray(m) for m in mats)


def use_winograd(x, w_shape, stride, dilation, groups) -> bool:
    """Whether conv2d of the array x with a weight of w_shape should take this path."""
    N, C, H, W = x.shape
    O, _, kh, kw = w_shape
    if not ENABLED or (kh, kw) != (3, 3) or tuple(stride) != (1, 1) or tuple(dilation) != (1, 1) or groups != 1:
        return False
    # with few channels the per-tile GEMMs are tiny and the transforms (2.25x the input and
    # the output, each way) dominate: a 3 -> 16 stem ran 4x slower than im2col
    return x.dtype in (np.float32, np.float64) and min(C, O) >= MIN_CHANNELS and H * W >= MIN_PIXELS and \
        2 * N * C * O * H * W * 9 >= MIN_FLOPS


class Geometry:
    """Sizes of one call: output (Ho, Wo), tiles (th, tw), the padded buffer (Hp, Wp)."""

    def __init__(self, x_shape, O, pads):
        self.N, self.C, self.H, self.W = x_shape
        self.O, self.pads = O, pads
        t, b, l, r = pads
        self.Ho, self.Wo = self.H + t + b - 2, self.W + l + r - 2
        self.th, self.tw = -(-self.Ho // 4), -(-self.Wo // 4)
        self.Hp, self.Wp = 4 * self.th + 2, 4 * self.tw + 2


def _tiles(buf, g: Geometry):
    """Padded (C, N, Hp, Wp) -> the (36, C*N*tiles) matrix of 6x6 tiles, 4 apart."""
    xp = array_module(buf)
    s0, s1, s2, s3 = buf.strides
    view = xp.lib.stride_tricks.as_strided(buf, (6, 6) + buf.shape[:2] + (g.th, g.tw),
                                           (s2, s3, s0, s1, 4 * s2, 4 * s3))
    T = empty_rows(xp, 36, g.C * g.N * g.th * g.tw, buf.dtype)
    copyto(T.reshape(view.shape).transpose(2, 0, 1, 3, 4, 5), view.transpose(2, 0, 1, 3, 4, 5))  # cut over channels
    return T


def _tile_rows(a):
    """A C-contiguous array whose last axis holds 4 floats, viewed as 16-byte units (complex128
    only as a container of bytes: copies never do arithmetic on it). NumPy's strided copies
    cost per element, so a transposing copy of 4-float runs goes about 4x faster this way."""
    xp = array_module(a)
    return a.view(xp.complex128)  # float32: last axis 4 -> 1; float64: 4 -> 2


def forward(x, w, bias, pads, out=None):
    """(out (N, O, Ho, Wo), saved) for backward; bias (O,) or None. The output goes into `out`
    where given, unless the last tiles hang over its edge."""
    from .conv import _pad_cnhw  # the channel-major padded copy im2col uses
    xp = array_module(x)
    N, C, H, W = x.shape
    O = w.shape[0]
    g = Geometry(x.shape, O, pads)
    t, _, l, _ = pads
    k_in, k_w, k_out = _matrices(np.dtype(x.dtype).str, xp.__name__)
    buf = _pad_cnhw(x, (t, g.Hp - H - t, l, g.Wp - W - l))  # (C, N, Hp, Wp)
    T = _tiles(buf, g)
    V = xp.matmul(k_in, T, out=empty_rows(xp, 36, T.shape[1], x.dtype)).reshape(36, C, -1)  # (36, C, N*tiles)
    del buf, T
    U = (k_w @ w.transpose(2, 3, 0, 1).reshape(9, O * C)).reshape(36, O, C)
    # (36, O, N*tiles): one GEMM per transform point. M stays a plain array: the output
    # transform reads it transposed, and that measured faster without empty_rows' gap
    M = U @ V
    if bias is not None:
        M[BIAS_POINT] += bias[:, None]
    Y = (M.reshape(36, -1).T @ k_out.T).reshape(O, N, g.th, g.tw, 4, 4)  # (o, n, i, j, i', j')
    del M  # big temporaries go as soon as they are used: they set the step's peak memory
    whole = (g.Ho, g.Wo) == (4 * g.th, 4 * g.tw)
    if out is None or not whole:
        out = xp.empty((N, O, 4 * g.th, 4 * g.tw), dtype=x.dtype)  # viewed (n, o, i, i', j, j')
    copyto(_tile_rows(out.reshape(N, O, g.th, 4, g.tw, 4)), _tile_rows(Y).transpose(1, 0, 2, 4, 3, 5))
    del Y
    if not whole:
        out = xp.ascontiguousarray(out[:, :, :g.Ho, :g.Wo])
    return out, (g, V, U)


def backward(grad, saved, need_x: bool, need_w: bool, need_b: bool = False, gx_out=None):
    """(dL/dx, dL/dw, dL/db), each None unless asked for; dL/dx into `gx_out` where given."""
    from .conv import _crop_nchw
    g, V, U = saved
    xp = array_module(grad)
    N, C, O = g.N, g.C, g.O
    k_in, k_w, k_out = _matrices(np.dtype(grad.dtype).str, xp.__name__)
    if (g.Ho, g.Wo) != (4 * g.th, 4 * g.tw):  # the last tiles hang over the edge: zero gradient there
        full = xp.zeros((N, O, 4 * g.th, 4 * g.tw), dtype=grad.dtype)
        full[:, :, :g.Ho, :g.Wo] = grad
        grad = full
    g6 = xp.ascontiguousarray(grad).reshape(N, O, g.th, 4, g.tw, 4)  # (n, o, i, i', j, j')
    dY = xp.empty((O, N, g.th, g.tw, 4, 4), dtype=grad.dtype)  # (o, n, i, j, i', j')
    copyto(_tile_rows(dY), _tile_rows(g6).transpose(1, 0, 2, 4, 3, 5))
    dM = xp.matmul(k_out.T, dY.reshape(-1, 16).T, out=empty_rows(xp, 36, dY.size // 16, grad.dtype))
    dM = dM.reshape(36, O, -1)  # (36, O, N*tiles)
    del dY, g6
    gx = gw = gb = None
    if need_b:
        gb = rowsum(dM[BIAS_POINT])
    if need_w:
        dU = dM @ V.transpose(0, 2, 1)  # (36, O, C)
        gw = (k_w.T @ dU.reshape(36, -1)).reshape(3, 3, O, C).transpose(2, 3, 0, 1)
        gw = xp.ascontiguousarray(gw)
    if need_x:
        dV = xp.matmul(U.transpose(0, 2, 1), dM, out=empty_rows(xp, 36, C * dM.shape[2], grad.dtype).reshape(36, C, -1))
        del dM  # each big temporary goes as soon as the next is made: they set the peak
        dd = xp.matmul(k_in.T, dV.reshape(36, -1), out=empty_rows(xp, 36, dV[0].size, grad.dtype))
        dd = dd.reshape(6, 6, C, N, g.th, g.tw)
        del dV
        acc = xp.empty((C, N, g.Hp, g.Wp), dtype=grad.dtype)

        def overlap_add(rows):
            a, d = acc[rows], dd[:, :, rows]
            th4, tw4 = 4 * g.th, 4 * g.tw
            a[:, :, :, tw4:] = 0  # columns that only the overlapping offsets reach
            # A tile's last two rows overlap the next tile's first two: folded into them first,
            # in tile space (one pass over contiguous runs), so only the columns overlap below.
            d[:2, :, :, :, 1:] += d[4:, :, :, :, :-1]
            for u in range(4):  # the first 4x4 offsets cover the image once: assigned
                for v in range(4):
                    a[:, :, u:u + th4:4, v:v + tw4:4] = d[u, v]
            for u in range(4):  # the last two columns of each tile overlap the next tile: added
                for v in (4, 5):
                    a[:, :, u:u + th4:4, v:v + tw4:4] += d[u, v]
            # the last row of tiles has no next tile to fold into: its last two rows go to the
            # two image rows below the tiles
            for u in (4, 5):
                row, last = a[:, :, th4 + u - 4], d[u, :, :, :, -1]
                row[:, :, :tw4] = 0
                for v in range(6):
                    row[:, :, v:v + tw4:4] += last[v]
        split(overlap_add, C, acc)
        gx = _crop_nchw(acc, (N, C, g.H, g.W), g.pads, gx_out)
    return gx, gw, gb
