"""In-place ops inside the graph: `out += identity` in a ResNet block, `outputs[t] = h` in a
hand-written RNN loop, `x.relu_()`.

lamina's graph links tensors, not nodes, so an in-place op cannot rewrite a node. It computes
the out-of-place result instead, writes it into the tensor's memory (so every view of that
memory sees the new values, as in torch), and hands the tensor's old node to a stand-in Tensor
that becomes the new node's input. Nodes recorded before the change still name the tensor
itself; backward sends their gradients to the stand-in (`autograd._as_of`: a node newer than
its consumer can only mean the tensor was changed in place since).
"""
from __future__ import annotations

from ..autograd import Function, unbroadcast
from ..backend import array_module
from ..tensor import Tensor
from . import elementwise
from .index import GetItem


class SetItem(Function):
    """x with x[key] = value, out of place: the gradient of x is zero where it was overwritten."""

    reads_inputs = False

    def forward(self, x, value, key):
        self.key, self.vshape = key, getattr(value, "shape", ())
        out = x.copy()
        out[key] = value
        return out

    def backward(self, g):
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = g.copy()
            gx[self.key] = 0
        if self.needs_input_grad[1]:
            gv = unbroadcast(g[self.key], self.vshape)
        return gx, gv, None


def _check(t: Tensor, op: str) -> None:
    if t._ctx is None and t.requires_grad:
        raise RuntimeError(f"{op}: in-place op on a leaf tensor that requires grad (shape {t.shape}); wrap it in "
                           "lamina.no_grad() (as optimisers and init do) or use the out-of-place op")
    base = t._ctx.inputs[0] if t._ctx is not None else None
    # t shares its memory with its node's input, and that node is not an earlier in-place op on t
    if isinstance(base, Tensor) and base._vc is t._vc and not hasattr(t._ctx, "rebased"):
        if base._ctx is None:
            raise RuntimeError(f"{op}: in-place op on a view (shape {t.shape}) of a leaf tensor that requires grad; "
                               "wrap it in lamina.no_grad() (as optimisers and init do)")
        raise RuntimeError(f"{op}: in-place op on a view (shape {t.shape}) of a tensor that is part of the graph; "
                           "lamina records in-place ops on whole tensors only: apply it to the tensor the view "
                           "was taken from, or clone() the view first")
    if t._ctx is None and t._data.base is not None:
        raise RuntimeError(f"{op}: in-place op that brings gradients into a tensor (shape {t.shape}) that may be a "
                           "view of another tensor's memory; clone() it first, or write into the tensor it "
                           "was taken from")


def _indexed_view(t: Tensor):
    """(base, key) when t is base[key] by basic indexing (a view) of a tensor in the graph."""
    ctx = t._ctx
    if isinstance(ctx, GetItem):
        base = ctx.inputs[0]
        if isinstance(base, Tensor) and base._vc is t._vc and base._ctx is not None:
            return base, ctx.key
    return None


def _stand_in(t: Tensor) -> Tensor:
    """A Tensor that carries t's old node and memory (and version counter) once t moves on."""
    old = Tensor._make(t._data, t._ctx)
    old.requires_grad, old._vc = t.requires_grad, t._vc
    old._hooks, t._hooks = t._hooks, None  # hooks see the gradient of the value they were registered on
    return old


def _result(res: Tensor, t: Tensor, op: str) -> Tensor:
    if res.shape != t.shape:
        raise RuntimeError(f"{op}: the result has shape {res.shape}, which cannot be written in place into the "
                           f"tensor of shape {t.shape}")
    return res if res.dtype == t.dtype else elementwise.cast(res, t.dtype)  # in place keeps t's dtype, as torch


def record(t: Tensor, compute, op: str, reads: bool = True) -> Tensor:
    """t.op_(...) in the graph: `compute(stand_in)` out of place, written back into t's memory.

    `reads`: the op's backward needs the old value (mul_, relu_...), which is about to be
    overwritten, so it is computed from a copy of it; add_/sub_ and writes need no copy.
    """
    view = _indexed_view(t)
    if view is not None:
        return _record_view(t, *view, compute, op, reads)
    _check(t, op)
    old = _stand_in(t)
    res = _result(compute(elementwise.clone(old) if reads else old), t, op)
    t._inplace(op)  # the writeable check, and the version bump that backward looks at
    array_module(t._data).copyto(t._data, res._data)
    if res._ctx is not None:
        res._ctx.rebased = old
        res._ctx.out_version = t._vc[0]
        t._ctx, t.requires_grad = res._ctx, True
    return t


def _record_view(t: Tensor, base: Tensor, key, compute, op: str, reads: bool) -> Tensor:
    """t.op_(...) where t = base[key] is a view of a graph tensor (`y[:, 0] += 1`): the result
    is written into the base as base[key] = result (recorded on the base, so the base and
    every view of it see the change in the graph), and t becomes base[key] of the new base.
    torch does this with CopySlices; here it is two nodes we already have."""
    old = _stand_in(t)
    res = _result(compute(elementwise.clone(old) if reads else old), t, op)
    setitem(base, key, res)  # writes res into the base's memory, which is t's
    new = GetItem.apply(base, key)
    new._ctx.rebased = old  # consumers of t from before the change get their gradients routed to old
    new._ctx.out_version = t._vc[0]
    t._ctx, t.requires_grad = new._ctx, True
    return t


def recording(t: Tensor, other=None) -> bool:
    """Whether an in-place op on t must go into the graph: grad mode is on and t or the
    value written into it requires grad."""
    from ..autograd import _grad_enabled
    return _grad_enabled[0] and (t.requires_grad or (isinstance(other, Tensor) and other.requires_grad))


def setitem(t: Tensor, key, value) -> Tensor:
    return record(t, lambda old: SetItem.apply(old, value, key), "__setitem__", reads=False)
