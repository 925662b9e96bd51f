"""Fused loss primitives: softmax cross-entropy, CTC and binary cross-entropy, each with its
backward beside it.

Cross-entropy is fused because it ends every classifier's forward pass: one log-softmax in
forward, and a backward that is just `softmax - target` scaled, instead of the five or six
small ops (and their saved arrays) that the composition would record. CTC is a primitive
because its gradient comes from the forward-backward recursion, not from the chain rule
through a Python loop over time. The binary cross-entropies are primitives for torch's
gradients where the composition would give 0/0 or lose digits (saturated probabilities,
large logits).
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..backend import array_module

_NEG_INF = float("-inf")


def class_index(target):
    """The index tuple that picks x[n, target[n, d...], d...] out of an (N, C, d...) array."""
    xp = array_module(target)
    nd = target.ndim
    grids = [xp.arange(n).reshape([-1 if i == k else 1 for i in range(nd)]) for k, n in enumerate(target.shape)]
    return (grids[0], target, *grids[1:])


def _exp_shifted(x):
    """(x - shift, exp(x - shift), its sum over dim 1, keepdims): a stable softmax's pieces.

    The shift is each row's max, except for (N, C) input: NumPy reduces many short contiguous
    rows about ten times slower than BLAS does, so there the shift is the batch's largest
    logit and the row sums are a matrix-vector product. That is as exact unless some row's max
    sits so far below the batch's that its sum nears underflow; then the row max is used after all.
    """
    xp = array_module(x)
    if x.ndim == 2 and x.size:
        shifted = x - x.max()
        e = xp.exp(shifted)
        s = e @ xp.ones((x.shape[1], 1), dtype=x.dtype)  # (N, 1)
        if float(s.min()) >= float(xp.finfo(x.dtype).tiny) ** 0.5:
            return shifted, e, s
    shifted = x - x.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    return shifted, e, e.sum(axis=1, keepdims=True)


def _nll(log_s, picked, s, e_t):
    """-log p(target) from the shifted softmax's pieces: log(s) - (x_t - shift), except where
    p(target) = e_t / s >= 1/2, where it is log(s / e_t), a ratio in [1, 2]. That keeps a small
    loss's digits when the shift is the batch's max logit rather than the row's: a row 30 below
    it that is right with p = 1 - 2e-9 has a loss of 2e-9, which (-30 + 2e-9) - (-30) loses."""
    xp = array_module(s)
    near = 2 * e_t >= s
    return xp.where(near, xp.log(s / xp.where(near, e_t, s)), log_s - picked)


class CrossEntropy(Function):
    """Softmax cross-entropy over dim 1 of x (N, C, d...) against class indices (N, d...).

    Each position n has a target distribution b[n] = (1 - eps) * w_n * onehot(y_n) +
    eps / C * valid_n * weight (w_n = weight[y_n], 0 where y_n == ignore_index), and its loss
    is -sum_c b[n, c] * log_softmax(x)[n, c]. The gradient is softmax * sum_c b[n, c] - b[n],
    times the upstream gradient; 'mean' divides by sum_n w_n, as torch does.
    """

    def forward(self, x, target, weight, *, ignore_index, label_smoothing, reduction):
        xp = array_module(x)
        eps, C = label_smoothing, x.shape[1]
        shifted, self.e, self.s = _exp_shifted(x)
        log_s = xp.log(self.s)
        valid = target != ignore_index
        tgt = xp.where(valid, target, 0)  # ignored positions pick class 0, then get weight 0
        self.idx = class_index(tgt)
        w = valid.astype(x.dtype) if weight is None else weight[tgt] * valid
        loss = _nll(log_s[:, 0], shifted[self.idx], self.s[:, 0], self.e[self.idx]) * w  # -log p(target), weighted
        if eps:
            valid = valid.astype(x.dtype)  # bool * Python float would give float64
            cw = None if weight is None else weight.reshape((1, C) + (1,) * (x.ndim - 2))
            logp = shifted - log_s
            smooth = -(logp if cw is None else logp * cw).sum(axis=1) * valid
            loss = loss * (1.0 - eps) + smooth * (eps / C)
            wsum = float(C) if weight is None else weight.sum()
            self.a = w * (1.0 - eps) + valid * (wsum * (eps / C))  # sum_c b[n, c]
            self.cw = cw  # the class weights that smoothing spreads
            self.valid = valid
        else:
            self.a = w
        self.w, self.eps, self.reduction = w, eps, reduction
        if reduction == "mean":
            self.total = w.sum()
            return loss.sum() / self.total
        return loss.sum() if reduction == "sum" else loss

    def backward(self, g):
        xp = array_module(g)
        scale = g / self.total if self.reduction == "mean" else g  # () or (N, d...)
        coef = xp.expand_dims(scale * self.a, 1) / self.s  # (N, 1, d...)
        grad = self.e * coef  # softmax * sum_c b[n, c]
        w = self.w * scale if self.eps == 0 else self.w * (scale * (1.0 - self.eps))
        grad[self.idx] -= w  # minus the one-hot part of b (grad is ours, so in place is safe)
        if self.eps:
            spread = xp.expand_dims(self.valid * (scale * (self.eps / grad.shape[1])), 1)  # (N, 1, d...)
            grad -= spread if self.cw is None else spread * self.cw
        return grad, None, None


CrossEntropy.reads_inputs = False  # backward reads only what forward saved


def _logsumexp3(a, b, c):
    """log(e^a + e^b + e^c) elementwise; -inf where all three are -inf.

    Three vectorised exps beat two calls of NumPy's logaddexp, which is scalar code: this is
    the inner step of the CTC recursions, run once per time step.
    """
    xp = array_module(a)
    m = xp.maximum(xp.maximum(a, b), c)
    m = xp.where(m == _NEG_INF, 0.0, m)  # all three -inf: any finite shift leaves log(0) = -inf
    return xp.log(xp.exp(a - m) + xp.exp(b - m) + xp.exp(c - m)) + m


class CTCLoss(Function):
    """Connectionist temporal classification loss, by the log-space forward-backward recursion.

    log_probs (T, B, C); targets (B, S) padded; lengths (B,) int arrays. A target of length
    S_b is walked as the extended sequence l' = (blank, l1, blank, l2, ..., blank) of 2 S_b + 1
    states; alpha[t, s] and beta[t, s] are the log-probabilities of all alignment prefixes
    ending (suffixes starting) in state s at time t, both including log_probs[t, l'_s]. The
    gradient is the one torch gives, w.r.t. log_probs as the output of a log_softmax:
    exp(log_probs) minus the posterior occupancy of each class at each time step.
    """

    def forward(self, log_probs, *, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
        xp = array_module(log_probs)
        T, B, C = log_probs.shape
        L = 2 * targets.shape[1] + 1
        ext = xp.full((B, L), blank, dtype=targets.dtype)  # (B, L): blank, l1, blank, l2, ..., blank
        ext[:, 1::2] = targets
        s = xp.arange(L)
        in_seq = s < (2 * target_lengths + 1)[:, None]  # (B, L): the states each target really has
        ext = xp.where(in_seq, ext, blank)
        lp_ext = xp.where(in_seq, log_probs[:, xp.arange(B)[:, None], ext], _NEG_INF)  # (T, B, L)
        # a jump s-2 -> s skips a blank: allowed onto a label that differs from the one two back
        skip = xp.zeros((B, L), dtype=bool)
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        # alpha is kept with two -inf columns in front so that s-1 and s-2 are plain slices
        alpha = xp.full((T, B, L + 2), _NEG_INF, dtype=log_probs.dtype)  # (T, B, 2 + L)
        alpha[0, :, 2:4] = lp_ext[0, :, :2]
        active = xp.arange(T)[:, None] < input_lengths  # (T, B)
        with np.errstate(divide="ignore"):  # log(0) = -inf marks unreachable states
            for t in range(1, T):
                prev = alpha[t - 1]
                new = _logsumexp3(prev[:, 2:], prev[:, 1:-1], xp.where(skip, prev[:, :-2], _NEG_INF))
                # past its input length a sequence keeps its last alpha, so alpha[T-1] holds every end
                alpha[t, :, 2:] = xp.where(active[t][:, None], new + lp_ext[t], prev[:, 2:])
        last = alpha[T - 1]
        b = xp.arange(B)
        end = 2 * target_lengths + 2  # column of state L_b - 1 in the padded alpha
        nll = -xp.logaddexp(last[b, end], last[b, end - 1])  # end in a blank or in the last label
        self.saved = (log_probs, targets, input_lengths, target_lengths, ext, in_seq, lp_ext, skip, alpha, active, nll)
        self.reduction, self.zero_infinity = reduction, zero_infinity
        if zero_infinity:
            nll = xp.where(xp.isinf(nll), 0.0, nll)
        if reduction == "mean":
            return (nll / xp.maximum(target_lengths, 1).astype(nll.dtype)).mean()
        return nll.sum() if reduction == "sum" else nll

    def backward(self, g):
        log_probs, targets, input_lengths, target_lengths, ext, in_seq, lp_ext, skip, alpha, active, nll = self.saved
        xp = array_module(log_probs)
        T, B, C = log_probs.shape
        L = ext.shape[1]
        # beta is kept with two -inf columns behind so that s+1 and s+2 are plain slices
        beta = xp.full((T, B, L + 2), _NEG_INF, dtype=log_probs.dtype)  # (T, B, L + 2)
        skip_next = xp.zeros((B, L), dtype=bool)  # s -> s+2 is allowed where s+2 may be skipped to
        skip_next[:, :-2] = skip[:, 2:]
        s = xp.arange(L)
        ends = in_seq & (s >= 2 * target_lengths[:, None] - 1)  # the last blank and the last label
        starts = (input_lengths - 1)[:, None] == xp.arange(T)  # (B, T): where each sequence's beta begins
        with np.errstate(divide="ignore"):
            for t in range(T - 1, -1, -1):
                if t == T - 1:
                    rec = xp.full((B, L), _NEG_INF, dtype=log_probs.dtype)
                else:
                    nxt = beta[t + 1]
                    rec = _logsumexp3(nxt[:, :-2], nxt[:, 1:-1], xp.where(skip_next, nxt[:, 2:], _NEG_INF)) + lp_ext[t]
                beta[t, :, :-2] = xp.where(starts[:, t:t + 1] & ends, lp_ext[t], rec)
        # posterior occupancy of each state: alpha * beta / p(target), with log_probs counted once
        finite = xp.where(xp.isinf(nll), 0.0, nll)
        post = xp.exp(alpha[:, :, 2:] + beta[:, :, :-2] - xp.where(in_seq, lp_ext, 0.0) + finite[:, None])  # (T, B, L)
        # sum the states that share a class: one bincount over flat (t, b, class) positions
        flat = (xp.arange(T)[:, None, None] * B + xp.arange(B)[:, None]) * C + ext  # (T, B, L)
        occupancy = xp.bincount(flat.ravel(), weights=post.ravel(), minlength=T * B * C).reshape(T, B, C)
        grad = xp.exp(log_probs) - occupancy.astype(log_probs.dtype)
        inf = xp.isinf(nll)
        if self.zero_infinity:
            scale = xp.where(inf, 0.0, g)
        else:  # torch gives NaN gradients for an impossible alignment; so do we
            scale = xp.where(inf, float("nan"), g)
        if self.reduction == "mean":
            scale = scale / (B * xp.maximum(target_lengths, 1)).astype(log_probs.dtype)
        grad = grad * xp.broadcast_to(scale, (B,)).astype(log_probs.dtype)[:, None]
        return xp.where(active[:, :, None], grad, 0.0)  # past each input length: no gradient (not even NaN)


class BinaryCrossEntropy(Function):
    """-(y log x + (1 - y) log(1 - x)) elementwise, logs clamped at -100 as in torch.

    A primitive so that the gradient is torch's (x - y) / max(x (1 - x), 1e-12): the chain rule
    through clamp(log(x)) would give 0/0 where a float32 sigmoid saturates at exactly 0 or 1.
    """

    def forward(self, x, y):
        xp = array_module(x)
        self.x, self.y = x, y
        with np.errstate(divide="ignore"):  # log(0) = -inf is expected here and clamped (CuPy never warns)
            self.log_x = xp.maximum(xp.log(x), -100.0)
            self.log_1mx = xp.maximum(xp.log1p(-x), -100.0)
        return -(y * self.log_x + (1.0 - y) * self.log_1mx)

    def backward(self, g):
        xp = array_module(g)
        x, y = self.x, self.y
        gx = g * (x - y) / xp.maximum(x * (1.0 - x), 1e-12) if self.needs_input_grad[0] else None
        gy = g * (self.log_1mx - self.log_x) if self.needs_input_grad[1] else None
        return gx, gy


class BinaryCrossEntropyWithLogits(Function):
    """(1 - y) x + (1 + (pos_weight - 1) y) log(1 + e^-x) elementwise, computed stably.

    pos_weight (or None) broadcasts against x, usually as one weight per class in the last dim.
    """

    def forward(self, x, y, pos_weight):
        xp = array_module(x)
        self.x, self.y, self.pos_weight = x, y, pos_weight
        self.sp = xp.maximum(-x, 0.0) + xp.log1p(xp.exp(-xp.abs(x)))  # log(1 + e^-x) without overflow
        lw = 1.0 if pos_weight is None else 1.0 + (pos_weight - 1.0) * y
        return (1.0 - y) * x + lw * self.sp

    def backward(self, g):
        xp = array_module(g)
        x, y, pw = self.x, self.y, self.pos_weight
        gx = gy = None  # pos_weight gets no gradient, as in torch
        if self.needs_input_grad[0]:
            sig = xp.exp(-self.sp)  # sigmoid(x), accurate in the tails where 1 - sigmoid(-x) is not
            gx = g * (sig - y) if pw is None else g * ((1.0 + (pw - 1.0) * y) * sig - pw * y)
        if self.needs_input_grad[1]:
            gy = g * (-x if pw is None else (pw - 1.0) * self.sp - x)
        return gx, gy, None
