"""Stride-1 convolution in the frequency domain, for kernels of 5x5 and up on small images
(3x3 kernels go to Winograd, `conv_winograd.py`, wherever that applies).

im2col turns a convolution into one GEMM of 2*N*C*O*Ho*Wo*kh*kw flops, the whole cost
of a 5x5 layer. In the frequency domain the same layer is one small complex matrix
product per frequency: about 8*N*C*O*P*Q flops for a P x Q half-spectrum, which for a
5x5 kernel on a 14x14 image is 8x fewer. The three products of a training step become

    forward      Y[f] (N, O) = X[f] (N, C) @ K[f] (C, O)
    grad input  GX[f] (N, C) = G[f] (N, O) @ conj(K[f]).T
    grad weight GW[f] (C, O) = X[f].T      @ conj(G[f])

with X, G and K the spectra of the input, the output gradient and the kernel.

The transforms are DFTs written as small matrices rather than FFT calls: an image of
14 x 14 is too short for an FFT to pay off, NumPy's FFT runs image by image, and a DFT
matrix can skip the zero padding on the way in and the cropped border on the way out,
both of which an FFT would compute. Each transform is two GEMMs, one per spatial axis.

Padding needs no padded copy. In a circular frame of P >= H + max(top, bottom) rows,
the padded input is the input itself with zeros wrapping round, and the padding offset
becomes a phase on the kernel: the kernel's tap u sits at (u - top) mod P. The output's
first Ho rows are then exactly the convolution, and the same holds for the gradients,
which are the adjoints of these maps.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..backend import array_module, empty_rows, split

# Use the frequency domain when its estimated flops are below this fraction of im2col's (its
# small complex GEMMs run slower per flop than one big GEMM, but im2col pays for its copies:
# at an estimate of 0.65-0.8 the frequency domain measured 1.3-1.8x faster, at 1.7 no faster)
# and the layer is big enough for its extra Python (a 5x5 16->32 layer on 14x14 broke even at batch 4).
FFT_GAIN = 1.0
MIN_FLOPS = 30e6


def fft_flops(N, C, O, H, W, kh, kw, pads) -> tuple[int, int]:
    """(direct, frequency-domain) flop estimates for a forward pass."""
    t, b, l, r = pads
    Ho, Wo = H + t + b - kh + 1, W + l + r - kw + 1
    P, Q = H + max(t, b), (W + max(l, r)) // 2 + 1
    direct = 2 * N * C * O * Ho * Wo * kh * kw
    transform_in = 4 * N * C * (P * H * W + P * Q * W)
    transform_out = 8 * N * O * Ho * P * Q + 4 * N * O * Ho * Q * Wo
    return direct, transform_in + 8 * N * C * O * P * Q + transform_out


def use_fft(x, w_shape, stride, dilation, groups, pads) -> bool:
    """Whether conv2d of the array x with a weight of w_shape should run in the frequency domain."""
    N, C, H, W = x.shape
    O, _, kh, kw = w_shape
    if tuple(stride) != (1, 1) or tuple(dilation) != (1, 1) or groups != 1 or kh * kw < 9:  # 3x3: see conv_winograd
        return False
    if x.dtype not in (np.float32, np.float64):
        return False
    direct, fft = fft_flops(N, C, O, H, W, kh, kw, pads)
    return direct >= MIN_FLOPS and fft < FFT_GAIN * direct


class Plan:
    """The DFT matrices for one layer geometry and dtype (cached: a network reuses a handful)."""

    def __init__(self, H, W, kh, kw, pads, dtype):
        t, b, l, r = pads
        self.Ho, self.Wo = H + t + b - kh + 1, W + l + r - kw + 1
        P, PW = H + max(t, b), W + max(l, r)
        Q = PW // 2 + 1
        self.P, self.Q = P, Q
        cdt = np.complex64 if np.dtype(dtype) == np.float32 else np.complex128
        a, q = np.arange(P), np.arange(Q)
        rows = lambda n: np.exp(-2j * np.pi * np.outer(a, np.arange(n)) / P)  # (P, n): DFT over n rows
        cols = lambda n: np.exp(-2j * np.pi * np.outer(np.arange(n), q) / PW)  # (n, Q): real DFT over n cols
        # the inverse over the half-spectrum: column q stands for q and PW - q, except q = 0 and PW/2
        weight = np.where((q == 0) | (2 * q == PW), 1.0, 2.0) / (P * PW)
        inv_rows = lambda idx: np.exp(2j * np.pi * np.outer(idx, a) / P)  # (len(idx), P)
        inv_cols = lambda idx: weight[:, None] * np.exp(2j * np.pi * np.outer(q, idx) / PW)  # (Q, len(idx))
        real = np.float32 if cdt == np.complex64 else np.float64
        stack_rows = lambda m: np.concatenate([m.real, m.imag]).astype(real)  # complex (P, n) -> real (2P, n)
        stack_cols = lambda m: np.concatenate([m.real.T, m.imag.T]).astype(real)  # complex (n, Q) -> real (2Q, n)
        self.in_x = (stack_rows(rows(H)), stack_cols(cols(W)))
        self.in_g = (stack_rows(rows(self.Ho)), stack_cols(cols(self.Wo)))
        # the kernel's spectrum is conjugated here, so the forward product is a plain X @ K
        self.k_rows = np.exp(2j * np.pi * np.outer(a, np.arange(kh) - t) / P).astype(cdt)  # (P, kh)
        self.k_cols = np.exp(2j * np.pi * np.outer(np.arange(kw) - l, q) / PW).astype(cdt)  # (kw, Q)
        inv_real = lambda m: np.concatenate([m.real, -m.imag]).T.astype(real)  # (Q, n) -> real (n, 2Q)
        self.out_y = (inv_rows(np.arange(self.Ho)).astype(cdt), inv_real(inv_cols(np.arange(self.Wo))))
        self.out_x = (inv_rows(np.arange(H)).astype(cdt), inv_real(inv_cols(np.arange(W))))
        self.out_w = (inv_rows(np.arange(kh) - t).astype(cdt), inv_real(inv_cols(np.arange(kw) - l)))
        self.cdt = cdt

    def to(self, xp):
        """The matrices as arrays of the module xp (CuPy copies them to the GPU once)."""
        if xp is np:
            return self
        dev = object.__new__(Plan)
        dev.__dict__.update({k: tuple(xp.asarray(m) for m in v) if isinstance(v, tuple)
                             else xp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in self.__dict__.items()})
        return dev


@lru_cache(maxsize=64)
def _plan(H, W, kh, kw, pads, dtype, xp_name):
    plan = Plan(H, W, kh, kw, pads, dtype)
    if xp_name == "numpy":
        return plan
    import cupy
    return plan.to(cupy)


def plan_for(x, kh, kw, pads) -> Plan:
    xp = array_module(x)
    return _plan(x.shape[2], x.shape[3], kh, kw, tuple(pads), np.dtype(x.dtype).str, xp.__name__)


def spectrum(a, mats, cdt):
    """Images a (N, C, h, w) -> half-spectra (P*Q, N, C), complex: two real GEMMs, one per axis."""
    xp = array_module(a)
    N, C, h, w = a.shape
    rows, cols = mats  # (2P, h), (2Q, w)
    P, Q = rows.shape[0] // 2, cols.shape[0] // 2
    # over columns first, one GEMM per image row i: (2Q, w) @ a[:, :, i, :].T, the input read in
    # place as a transposed operand, so no transposing copy of it is made (measured 10-25% faster)
    # (N*C is often a multiple of 1024: empty_rows keeps the GEMMs' rows off shared cache sets)
    t = empty_rows(xp, h, 2 * Q * N * C, rows.dtype)
    xp.matmul(cols, a.reshape(N * C, h, w).transpose(1, 2, 0), out=t.reshape(h, 2 * Q, N * C))
    parts = xp.matmul(rows, t, out=empty_rows(xp, 2 * P, t.shape[1], rows.dtype))
    parts = parts.reshape(2 * P, 2 * Q, N * C)  # (re, im) of rows x (re, im) of cols
    del t  # big temporaries go as soon as the next is made: they set the step's peak memory
    out = xp.empty((P, Q, N * C), dtype=cdt)

    def combine(r):  # (a + ib)(c + id) = (ac - bd) + i(ad + bc)
        xp.subtract(parts[:P][r, :Q], parts[P:][r, Q:], out=out[r].real)
        xp.add(parts[:P][r, Q:], parts[P:][r, :Q], out=out[r].imag)
    split(combine, P, out)
    return out.reshape(P * Q, N, C)


def image(s, mats, N, C):
    """Half-spectra s (P*Q, N*C) -> real images (N, C, h, w) over the rows and cols the matrices pick."""
    xp = array_module(s)
    rows, cols = mats  # complex (h, P), real (w, 2Q)
    P, Q = rows.shape[1], cols.shape[1] // 2
    z = xp.matmul(rows, s.reshape(P, Q * N * C), out=empty_rows(xp, rows.shape[0], Q * N * C, rows.dtype))
    z = z.reshape(-1, Q, N * C)  # (h, Q, N*C), complex
    h, w = z.shape[0], cols.shape[0]
    zz = xp.empty((h, 2 * Q, N * C), dtype=cols.dtype)

    def split_parts(r):
        zz[r, :Q] = z[r].real
        zz[r, Q:] = z[r].imag
    split(split_parts, h, zz)
    del z
    # the real part of z times the inverse columns, written straight into (N, C, h, w) order:
    # each image row i is one GEMM whose output rows are strided, so no transposing copy follows
    out = xp.empty((N * C, h, w), dtype=cols.dtype)
    xp.matmul(zz.transpose(0, 2, 1), cols.T, out=out.transpose(1, 0, 2))
    return out.reshape(N, C, h, w)


def kernel_spectrum(w, plan):
    """Weight (O, C, kh, kw) -> conj of its shifted spectrum, (P*Q, C, O): the forward multiplier."""
    xp = array_module(w)
    O, C, kh, kw = w.shape
    k = xp.tensordot(plan.k_rows, w.astype(plan.cdt), axes=([1], [2]))  # (P, O, C, kw)
    k = xp.tensordot(k, plan.k_cols, axes=([3], [0]))  # (P, O, C, Q)
    return xp.ascontiguousarray(k.transpose(0, 3, 2, 1)).reshape(plan.P * plan.Q, C, O)


def _per_frequency(a, b, P: int):
    """a (F, n, k) @ b (F, k, m), one small product per frequency, written as the (P, Q*n*m)
    rows `image` transforms, an odd number of cache lines apart (see backend.empty_rows)."""
    xp = array_module(a)
    F, n, m = a.shape[0], a.shape[1], b.shape[2]
    k, Q = a.shape[2], F // P
    out = empty_rows(xp, P, Q * n * m, xp.result_type(a, b))
    xp.matmul(a.reshape(P, Q, n, k), b.reshape(P, Q, k, m), out=out.reshape(P, Q, n, m))
    return out


def forward(x, w, plan):
    """(out (N, O, Ho, Wo), X, K): X and K are kept for backward."""
    N, C = x.shape[:2]
    O = w.shape[0]
    X = spectrum(x, plan.in_x, plan.cdt)  # (F, N, C)
    K = kernel_spectrum(w, plan)  # (F, C, O)
    out = image(_per_frequency(X, K, plan.P), plan.out_y, N, O)
    return out, X, K


def input_grad(g, K, plan):
    N, O = g.shape[:2]
    C = K.shape[1]
    G = spectrum(g, plan.in_g, plan.cdt)  # (F, N, O)
    return image(_per_frequency(G, K.conj().transpose(0, 2, 1), plan.P), plan.out_x, N, C), G


def weight_grad(X, G, plan, w_shape):
    """dL/dW (O, C, kh, kw) from the spectra of the input and of the output gradient."""
    xp = array_module(X)
    GW = (X.conj().transpose(0, 2, 1) @ G).conj()  # X.T @ conj(G), conjugating the smaller operands
    O, C = w_shape[:2]
    gw = image(GW, plan.out_w, C, O)  # (C, O, kh, kw)
    return xp.ascontiguousarray(gw.transpose(1, 0, 2, 3))
