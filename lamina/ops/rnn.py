"""The fused recurrence: one primitive runs one layer, in one direction, of an RNN, LSTM or
GRU over a whole sequence.

Why fused: written from small ops, a recurrent layer records about ten graph nodes per time
step and walks them back one by one. Here the input projection of every time step is one
(batched) GEMM call, each step is one matmul `W_hh @ h` for all gates with the gate math done
on whole arrays, and backward is one reverse loop over time that stores each step's gate
gradients; the input and weight gradients are then single GEMMs over all steps at once.

Layouts are PyTorch's: W_ih (G*H, I), W_hh (G*H, H); LSTM gates i, f, g, o; GRU gates
r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).

Variable lengths come in as `lengths` (B,): at steps past a sequence's end its state is held
(so the final state is the one at its true end, and a reverse pass starts there) and its
output is zero.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _sigmoid_(a):
    """In-place logistic sigmoid, 1 / (1 + exp(-a)) as ops.activation's: accurate at both tails
    (0.5 * tanh(a / 2) + 0.5 gave exactly 0 below about -17 in float32)."""
    xp = array_module(a)
    xp.negative(a, out=a)
    with np.errstate(over="ignore"):  # exp overflows to inf below about -88: 1 / inf = 0, the limit
        xp.exp(a, out=a)
    a += 1.0
    return xp.reciprocal(a, out=a)


def _lstm_order(xp, H: int):
    """Rows i, f, g, o -> i, f, o, g, so that the three sigmoid gates are one contiguous block.
    The permutation swaps two blocks, so it is its own inverse."""
    return xp.concatenate([xp.arange(2 * H), xp.arange(3 * H, 4 * H), xp.arange(2 * H, 3 * H)])


class Recurrence(Function):
    """Inputs: x (T, B, I), h0 (B, R), c0 (B, H) or None, w_ih, w_hh, b_ih, b_hh (or None), and
    w_hr (R, H) for an LSTM with a projection (else None; R = H).
    Output: (T + 1, B, H), or (T + 2, B, H) for LSTM: the T outputs, then h_n (then c_n); the
    outputs and h_n fill the first R features (`recurrence` slices them out).

    Inside, states and gates are kept feature-major, (H, B) and (G*H, B): the per-step product
    is then `W_hh @ h`, which BLAS runs about a third faster than `h @ W_hh^T` for a small
    batch, and every gate is a contiguous block of rows.
    """

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr=None, *, mode, reverse=False, lengths=None):
        xp = array_module(x)
        T, B, _ = x.shape
        H = w_hh.shape[0] // GATES[mode]
        R = H if w_hr is None else w_hr.shape[0]  # the state's size: proj_size when the LSTM projects
        lstm, gru = mode == "LSTM", mode == "GRU"
        if lstm:  # work in i, f, o, g order; gradients are permuted back in backward
            order = _lstm_order(xp, H)
            w_ih, w_hh = w_ih[order], w_hh[order]
            b_ih, b_hh = (None, None) if b_ih is None else (b_ih[order], b_hh[order])
        # every time step's input projection at once: one batched GEMM, W_ih @ x_t^T for all t
        A = xp.matmul(w_ih, x.transpose(0, 2, 1))  # (T, G*H, B), activated in place below
        if b_ih is not None:  # GRU's b_hn sits inside r * (...), so it is added per step instead
            A += (xp.concatenate([b_ih[:2 * H] + b_hh[:2 * H], b_ih[2 * H:]]) if gru else b_ih + b_hh)[:, None]
        b_hn = b_hh[2 * H:, None] if gru and b_hh is not None else None
        mask = None
        if lengths is not None and int(lengths.min()) < T:
            mask = (xp.arange(T)[:, None] < xp.asarray(lengths)[None, :]).astype(x.dtype)[:, None, :]  # (T, 1, B)

        # rows of h use the first R of H features (all of them unless the LSTM projects)
        y = xp.zeros((T + 2 if lstm else T + 1, H, B), dtype=x.dtype)
        h_prev = xp.empty((T, R, B), dtype=x.dtype)  # the state each step started from
        unprojected = xp.empty((T, H, B), dtype=x.dtype) if w_hr is not None else None  # o * tanh(c)
        c_prev = xp.empty((T, H, B), dtype=x.dtype) if lstm else None
        extra = xp.empty((T, H, B), dtype=x.dtype) if (lstm or gru) else None  # LSTM tanh(c), GRU W_hn h + b_hn
        h = xp.ascontiguousarray(h0.T)  # (R, B)
        c = xp.ascontiguousarray(c0.T) if lstm else None
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            h_prev[t] = h
            a = A[t]  # (G*H, B)
            if lstm:
                c_prev[t] = c
                a += w_hh @ h
                _sigmoid_(a[:3 * H])
                xp.tanh(a[3 * H:], out=a[3 * H:])
                i, f, o, g = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
                c_new = f * c
                c_new += i * g
                h_new = o * xp.tanh(c_new, out=extra[t])
                if w_hr is not None:  # h = W_hr (o * tanh(c)): (R, B)
                    unprojected[t] = h_new
                    h_new = w_hr @ h_new
            elif gru:
                gh = w_hh @ h  # (3H, B)
                a[:2 * H] += gh[:2 * H]
                _sigmoid_(a[:2 * H])
                r, z, n = a[:H], a[H:2 * H], a[2 * H:]
                ghn = extra[t]
                if b_hn is None:
                    ghn[...] = gh[2 * H:]
                else:
                    xp.add(gh[2 * H:], b_hn, out=ghn)
                n += r * ghn
                xp.tanh(n, out=n)
                h_new = h - n
                h_new *= z
                h_new += n  # (1 - z) * n + z * h
            else:
                a += w_hh @ h
                if mode == "RNN_TANH":
                    xp.tanh(a, out=a)
                else:
                    xp.maximum(a, 0.0, out=a)
                h_new = a
            if mask is None:
                y[t, :R] = h = h_new
                if lstm:
                    c = c_new
            else:
                m = mask[t]  # (1, B)
                xp.multiply(h_new, m, out=y[t, :R])
                h = h + m * (h_new - h)
                if lstm:
                    c = c + m * (c_new - c)
        y[T, :R] = h
        if lstm:
            y[T + 1] = c
        self.x, self.w_ih, self.w_hh, self.w_hr, self.A, self.mask = x, w_ih, w_hh, w_hr, A, mask
        self.h_prev, self.c_prev, self.extra, self.unprojected = h_prev, c_prev, extra, unprojected
        self.mode, self.reverse, self.has_bias = mode, reverse, b_ih is not None
        return xp.ascontiguousarray(y.transpose(0, 2, 1))  # (T + 1 or 2, B, H)

    def backward(self, g):
        xp = array_module(g)
        x, A, mask, w_hh, w_hr, mode = self.x, self.A, self.mask, self.w_hh, self.w_hr, self.mode
        T, B, _ = x.shape
        H, R = A.shape[1] // GATES[mode], self.h_prev.shape[1]
        lstm, gru = mode == "LSTM", mode == "GRU"
        g = xp.ascontiguousarray(g.transpose(0, 2, 1))  # (T + 1 or 2, H, B)
        dY = g[:T, :R]
        dh = g[T, :R]
        dc = g[T + 1] if lstm else None
        w_hhT = w_hh.T
        dA = xp.empty_like(A)  # gradients w.r.t. the gate pre-activations (T, G*H, B), input side
        dAh = xp.empty_like(A) if gru else dA  # ... and hidden side (GRU's n gate differs)
        if lstm:
            # Everything in the LSTM's gate gradients that does not depend on the incoming
            # gradient, for all steps at once: a few big passes instead of ~10 small ones per
            # step. Then d(gate) = P * dc_new (i, f, g) or P * dh_new (o), and dc_new = dh_new * KO + dc.
            S, gates, tcs = A[:, :3 * H], A[:, 3 * H:], self.extra
            P = xp.empty_like(A)
            xp.subtract(S, S * S, out=P[:, :3 * H])  # sigmoid' = s (1 - s)
            P[:, :H] *= gates  # i: g
            P[:, H:2 * H] *= self.c_prev  # f: c_prev
            P[:, 2 * H:3 * H] *= tcs  # o: tanh(c)
            xp.subtract(1.0, gates * gates, out=P[:, 3 * H:])  # g: tanh' ...
            P[:, 3 * H:] *= S[:, :H]  # ... times i
            KO = 1.0 - tcs * tcs
            KO *= S[:, 2 * H:3 * H]  # o (1 - tanh(c)^2)
            dproj = xp.empty((T, R, B), dtype=g.dtype) if w_hr is not None else None  # dL/dh, for dW_hr
        for t in (range(T) if self.reverse else range(T - 1, -1, -1)):
            a, d = A[t], dA[t]
            if mask is None:
                dh_new = dY[t] + dh
            else:
                m = mask[t]
                dh_new = m * (dY[t] + dh)
                dh_keep = dh - m * dh  # the part of dh that flows past a padded step untouched
            if lstm:
                f, p = a[H:2 * H], P[t]
                if w_hr is not None:  # back through h = W_hr (o * tanh(c))
                    dproj[t] = dh_new
                    dh_new = w_hr.T @ dh_new  # (H, B)
                dc_new = dh_new * KO[t]
                dc_new += dc if mask is None else m * dc
                xp.multiply(p[:2 * H].reshape(2, H, -1), dc_new, out=d[:2 * H].reshape(2, H, -1))  # i, f
                xp.multiply(p[2 * H:3 * H], dh_new, out=d[2 * H:3 * H])  # o
                xp.multiply(p[3 * H:], dc_new, out=d[3 * H:])  # g
                dc = dc_new * f if mask is None else dc_new * f + (dc - m * dc)
                dh = w_hhT @ d
            elif gru:
                r, z, n = a[:H], a[H:2 * H], a[2 * H:]
                hp, ghn, dh_ = self.h_prev[t], self.extra[t], dAh[t]
                dn = 1.0 - n * n
                dn *= 1.0 - z
                dn *= dh_new  # through tanh: d(pre-activation of n)
                d[2 * H:] = dn
                xp.multiply(dh_new, hp - n, out=d[H:2 * H])
                d[H:2 * H] *= z - z * z
                xp.multiply(dn, ghn, out=d[:H])
                d[:H] *= r - r * r
                dh_[:2 * H] = d[:2 * H]
                xp.multiply(dn, r, out=dh_[2 * H:])
                dh = dh_new * z
                dh += w_hhT @ dh_
            else:
                if mode == "RNN_TANH":
                    xp.multiply(dh_new, 1.0 - a * a, out=d)
                else:
                    xp.multiply(dh_new, a > 0, out=d)
                dh = w_hhT @ d
            if mask is not None:
                dh += dh_keep
        # the input and weight gradients over all time steps, one GEMM each
        need_x, need_h0, need_c0, need_wih, need_whh, need_bih, need_bhh, need_whr = self.needs_input_grad
        dA2 = _steps_as_columns(dA)  # (G*H, T*B)
        dAh2 = _steps_as_columns(dAh) if gru else dA2
        dx = (dA2.T @ self.w_ih).reshape(x.shape) if need_x else None
        dw_ih = dA2 @ x.reshape(T * B, -1) if need_wih else None
        dw_hh = dAh2 @ _steps_as_columns(self.h_prev).T if need_whh else None
        dw_hr = None
        if w_hr is not None and need_whr:  # sum over steps of dL/dh_t (o * tanh(c_t))^T: (R, H)
            dw_hr = _steps_as_columns(dproj) @ _steps_as_columns(self.unprojected).T
        db_ih = dA2.sum(1) if self.has_bias and need_bih else None
        db_hh = dAh2.sum(1) if self.has_bias and need_bhh else None
        if lstm:  # back from i, f, o, g to PyTorch's i, f, g, o
            order = _lstm_order(xp, H)
            dw_ih, dw_hh, db_ih, db_hh = (None if v is None else v[order] for v in (dw_ih, dw_hh, db_ih, db_hh))
        dh0 = xp.ascontiguousarray(dh.T) if need_h0 else None
        dc0 = xp.ascontiguousarray(dc.T) if lstm and need_c0 else None
        return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, dw_hr


def _steps_as_columns(a):
    """Per-step arrays (T, F, B) as one (F, T*B) matrix: every step's columns side by side."""
    T, F, B = a.shape
    return array_module(a).ascontiguousarray(a.transpose(1, 0, 2)).reshape(F, T * B)


def recurrence(x: Tensor, h0: Tensor, c0: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
               b_hh: Tensor | None, w_hr: Tensor | None = None, *, mode: str, reverse: bool = False, lengths=None):
    """Run one layer-direction of an RNN ('RNN_TANH', 'RNN_RELU'), 'LSTM' or 'GRU' over x (T, B, I).

    Returns (output (T, B, R), h_n (B, R), c_n (B, H) or None), R = H unless an LSTM projects
    its state with `w_hr` (R, H). `lengths` (B,) is an int array of true sequence lengths, or
    None when every sequence fills all T steps.
    """
    if mode not in GATES:
        raise ValueError(f"recurrence: mode must be one of {sorted(GATES)}, got {mode!r}")
    T = x.shape[0]
    if lengths is not None:
        lengths = np.asarray(lengths)
    y = Recurrence.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode=mode, reverse=reverse, lengths=lengths)
    if w_hr is not None:  # h rows hold R features, padded to H
        R = w_hr.shape[0]
        return y[:T, :, :R], y[T, :, :R], y[T + 1]
    return y[:T], y[T], (y[T + 1] if mode == "LSTM" else None)
