"""Optional Numba kernels for loop-bound CPU work (the `fast` extra).

NumPy makes one pass over memory per operation; a kernel that needs per-channel sums and
then a per-channel affine map pays for many passes, where a compiled loop reads each
element two or three times in all. Each kernel here has a NumPy twin in the op that calls
it, which is what runs without Numba, on the GPU, or with LAMINA_NUMBA=0; tests check the
two agree. Kernels compile on first use (cached on disk), so `import lamina` stays light.
"""
from __future__ import annotations

import os

import numpy as np

_kernels: list = []  # [dict of compiled kernels] or [None] once we know Numba is missing


def _compile():
    try:
        import numba
    except ImportError:
        return None
    njit, prange = numba.njit, numba.prange

    @njit(parallel=True, cache=True)
    def bn_forward(x3, w, b, eps, out, xhat, mean, var):
        N, C, L = x3.shape
        m = N * L
        for c in prange(C):
            s = 0.0
            for n in range(N):
                for i in range(L):
                    s += x3[n, c, i]
            mu = s / m
            v = 0.0
            for n in range(N):
                for i in range(L):
                    d = x3[n, c, i] - mu
                    v += d * d
            v /= m
            rstd = 1.0 / np.sqrt(v + eps)
            wc, bc = w[c], b[c]
            for n in range(N):
                for i in range(L):
                    h = (x3[n, c, i] - mu) * rstd
                    xhat[n, c, i] = h
                    out[n, c, i] = h * wc + bc
            mean[c], var[c] = mu, v

    @njit(parallel=True, cache=True)
    def bn_backward(g3, xhat, scale, gx, gsum, gdot):
        N, C, L = g3.shape
        m = N * L
        for c in prange(C):
            s = 0.0
            d = 0.0
            for n in range(N):
                for i in range(L):
                    s += g3[n, c, i]
                    d += g3[n, c, i] * xhat[n, c, i]
            k = scale[c]
            a, sm = d / m, s / m
            for n in range(N):
                for i in range(L):
                    gx[n, c, i] = k * (g3[n, c, i] - xhat[n, c, i] * a - sm)
            gsum[c], gdot[c] = s, d

    return {"bn_forward": bn_forward, "bn_backward": bn_backward}


def get(name: str, *arrays):
    """The compiled kernel `name` if Numba is installed, enabled and every array is a NumPy
    array (the GPU keeps the NumPy/CuPy twin); else None."""
    if os.environ.get("LAMINA_NUMBA", "1") == "0" or not all(type(a) is np.ndarray for a in arrays):
        return None
    if not _kernels:
        _kernels.append(_compile())
    return None if _kernels[0] is None else _kernels[0][name]


def batch_norm_forward(x3, weight, bias, eps):
    """Training batch norm of (N, C, L): (out, xhat, mean, biased var), or None without Numba."""
    kernel = get("bn_forward", x3)
    if kernel is None:
        return None
    C = x3.shape[1]
    w = np.ones(C, x3.dtype) if weight is None else weight
    b = np.zeros(C, x3.dtype) if bias is None else bias
    out, xhat = np.empty_like(x3), np.empty_like(x3)
    mean, var = np.empty(C, x3.dtype), np.empty(C, x3.dtype)
    kernel(np.ascontiguousarray(x3), w, b, eps, out, xhat, mean, var)
    return out, xhat, mean, var


def batch_norm_backward(g3, xhat, scale):
    """Training batch norm's (gx, sum(g), sum(g * xhat)) per channel, or None without Numba."""
    kernel = get("bn_backward", g3, xhat)
    if kernel is None:
        return None
    C = g3.shape[1]
    gx = np.empty_like(xhat)
    gsum, gdot = np.empty(C, xhat.dtype), np.empty(C, xhat.dtype)
    kernel(np.ascontiguousarray(g3), xhat, scale.astype(xhat.dtype, copy=False), gx, gsum, gdot)
    return gx, gsum, gdot
