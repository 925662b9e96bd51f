"""matmul (1-D, 2-D, batched, broadcast) and einsum, the two ops where most FLOPs go."""
from __future__ import annotations

import string

import numpy as np

from ..autograd import Function, unbroadcast
from ..backend import array_module
from ..tensor import Tensor
from .elementwise import operands


class MatMul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        # 1-D operands act as a row (a) or a column (b); lift them so one rule covers all cases
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if b.ndim == 1:  # b first: when both are 1-D the 0-d gradient becomes (1, 1)
            g = g[..., None]
        if a.ndim == 1:
            g = g[..., None, :]
        ga = gb = None
        if na:
            ga = unbroadcast(g @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if nb:
            gb = unbroadcast(a2.swapaxes(-1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


def matmul(input, other) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics for 1-D, 2-D and batched operands."""
    a, b = operands(input, other)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dim, got shapes {a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} do not align: {k_a} != {k_b}")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dims of shapes {a.shape} and {b.shape} do not broadcast") from None
    return MatMul.apply(a, b)


def mm(input, mat2) -> Tensor:
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def bmm(input, mat2) -> Tensor:
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: expected 3-D tensors with equal batch, got shapes {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def dot(input, other) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: expected 1-D tensors, got shapes {input.shape} and {other.shape}")
    return matmul(input, other)


def outer(input, vec2) -> Tensor:
    return matmul(input.reshape(-1, 1), vec2.reshape(1, -1))


def _explicit(equation: str, shapes) -> tuple[list[str], str]:
    """Split an einsum equation into per-operand subscripts and an output, with '...' spelled
    out as unused letters and an implicit output made explicit."""
    eq = equation.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(f"einsum: equation {equation!r} names {len(ins)} operands but {len(shapes)} were given")
    free = [c for c in string.ascii_letters if c not in eq]
    ell_n = max((len(s) - (len(sub) - 3) for sub, s in zip(ins, shapes) if "..." in sub), default=0)
    ell = "".join(free[:ell_n])
    out_ins = []
    for sub, s in zip(ins, shapes):
        if "..." in sub:
            k = len(s) - (len(sub) - 3)
            sub = sub.replace("...", ell[ell_n - k:])
        if len(sub) != len(s):
            raise RuntimeError(f"einsum: subscripts {sub!r} do not match an operand of shape {tuple(s)}")
        out_ins.append(sub)
    if not _:
        counts = {c: lhs.count(c) for c in set(lhs.replace(".", "").replace(",", ""))}
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        rhs = rhs.replace("...", ell)
    return out_ins, rhs


class Einsum(Function):
    def forward(self, *xs, subs, out):
        self.xs, self.subs, self.out = xs, subs, out
        eq = ",".join(subs) + "->" + out
        return array_module(xs[0]).einsum(eq, *xs, optimize=len(xs) > 2)

    def backward(self, g):
        xp = array_module(g)
        grads = []
        for i, (x, sub) in enumerate(zip(self.xs, self.subs)):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            # a letter repeated in one operand ('ii', a diagonal) is one index: the gradient is
            # found over the distinct letters, then spread back onto the diagonal
            uniq = "".join(dict.fromkeys(sub))
            size = {c: n for c, n in zip(sub, x.shape)}
            others = [(x2, s2) for j, (x2, s2) in enumerate(zip(self.xs, self.subs)) if j != i]
            have = set(self.out).union(*[set(s2) for _, s2 in others])
            # letters only this operand has were summed away: compute without them, then broadcast
            kept = "".join(c for c in uniq if c in have)
            eq = ",".join([self.out] + [s2 for _, s2 in others]) + "->" + kept
            gi = xp.einsum(eq, g, *[x2 for x2, _ in others], optimize=len(others) > 1)
            if kept != uniq:
                gi = xp.broadcast_to(gi.reshape([size[c] if c in have else 1 for c in uniq]), [size[c] for c in uniq])
            grads.append(gi if uniq == sub else _onto_diagonal(xp, gi, uniq, sub, size))
        return tuple(grads)


def _onto_diagonal(xp, g, uniq: str, sub: str, size: dict):
    """g (indexed by the distinct letters `uniq`) placed on the diagonal of an array indexed by
    `sub`, zeros elsewhere: each repeat of a letter gets a fresh letter tied to the first by an
    identity matrix, e.g. 'iij' is einsum('ij,iI->iIj', g, eye)."""
    fresh = iter(c for c in string.ascii_letters if c not in sub)
    full, deltas = "", []
    for k, c in enumerate(sub):
        if c in sub[:k]:
            f = next(fresh)
            full, deltas = full + f, deltas + [c + f]
        else:
            full += c
    eq = ",".join([uniq] + deltas) + "->" + full
    return xp.einsum(eq, g, *[xp.eye(size[d[0]], dtype=g.dtype) for d in deltas])


def einsum(equation: str, *operands_) -> Tensor:
    """Einstein summation, e.g. einsum('bij,bjk->bik', a, b)."""
    if len(operands_) == 1 and isinstance(operands_[0], (list, tuple)):
        operands_ = tuple(operands_[0])
    ts = list(operands_)
    dtype = ts[0].dtype
    for t_ in ts[1:]:
        dtype = operands(Tensor._make(np.empty((1,), dtype), None), t_)[0].dtype if t_.dtype != dtype else dtype
    ts = [t_.to(dtype) for t_ in ts]
    subs, out = _explicit(equation, [t_.shape for t_ in ts])
    return Einsum.apply(*ts, subs=subs, out=out)
