"""Dense-layer primitives: linear (x @ W^T + b) and embedding (a row lookup).

linear is fused because it is the most common layer: composed as transpose, matmul and a
broadcast add it makes an extra output-sized array forward and a reduction through
`unbroadcast` backward. embedding is a primitive because its backward must add the
gradients of repeated indices into one row, quickly.
"""
from __future__ import annotations

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor

__all__ = ["linear", "embedding"]


class Linear(Function):
    def forward(self, x, weight, bias):
        self.x, self.weight = x, weight
        self.has_bias = bias is not None
        # (rows, in) @ (in, out): one GEMM (NumPy would loop over the leading dims of an
        # N-d operand); BLAS reads the transposed view of weight directly
        y = x.reshape(-1, x.shape[-1]) @ weight.T
        if bias is not None:
            y += bias
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, g):
        x, w = self.x, self.weight
        gx = gw = gb = None
        g2 = g.reshape(-1, g.shape[-1])  # (rows, out)
        if self.needs_input_grad[0]:
            gx = (g2 @ w).reshape(x.shape)
        if self.needs_input_grad[1]:
            gw = g2.T @ x.reshape(-1, x.shape[-1])  # (out, in)
        if self.has_bias and self.needs_input_grad[2]:
            gb = g2.sum(axis=0)
        return gx, gw, gb


class Embedding(Function):
    reads_inputs = False  # backward reads only the saved indices, never the table

    def forward(self, weight, idx, padding_idx):
        self.idx, self.shape, self.padding_idx = idx, weight.shape, padding_idx
        return array_module(weight).take(weight, idx, axis=0)  # (*idx.shape, dim)

    def backward(self, g):
        xp = array_module(g)
        v, d = self.shape
        gw = xp.zeros((v * d,), dtype=g.dtype)
        # Rows of repeated indices add up. One add.at over flat element offsets takes
        # NumPy's fast 1-D path: measured 3-5x faster than add.at over rows, and faster than
        # sort + add.reduceat or a bincount for small and large vocabularies alike.
        flat = (self.idx.reshape(-1, 1) * d + xp.arange(d)).reshape(-1)
        xp.add.at(gw, flat, g.reshape(-1))
        gw = gw.reshape(v, d)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw, None, None


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, with weight of shape (out_features, in_features)."""
    if weight.ndim != 2 or input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"linear: input of shape {input.shape} and weight of shape {weight.shape} do not align: "
                           f"expected input (..., {weight.shape[-1] if weight.ndim else '?'})")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"linear: bias has shape {bias.shape}, expected ({weight.shape[0]},)")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"linear: input dtype {input.dtype} and weight dtype {weight.dtype} differ")
    return Linear.apply(input, weight, bias)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm=None) -> Tensor:
    """Rows of `weight` picked by the integer tensor `input`: output (*input.shape, dim).
    The row at `padding_idx` gets no gradient."""
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm is not supported")
    if input.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: indices must be an integer tensor, got {input.dtype}")
    v = weight.shape[0]
    idx = input.data
    if idx.size and (int(idx.max()) >= v or int(idx.min()) < 0):
        bad = int(idx.max()) if int(idx.max()) >= v else int(idx.min())
        raise IndexError(f"embedding: index {bad} is out of range for a table of {v} rows")
    if padding_idx is not None:
        if not -v <= padding_idx < v:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {v} rows")
        padding_idx %= v
    return Embedding.apply(weight, idx, padding_idx)
