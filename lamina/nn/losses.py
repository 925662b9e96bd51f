"""Losses as functions (re-exported by nn.functional) and as modules, with PyTorch's names,
signatures and semantics.

Cross-entropy with class indices, binary cross-entropy (plain and with logits) and CTC are
fused primitives in lamina/ops/loss.py; every other loss is composed from primitive ops.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import ops
from ..backend import array_module
from ..ops.loss import BinaryCrossEntropy, BinaryCrossEntropyWithLogits, CrossEntropy, CTCLoss as _CTC
from ..tensor import Tensor
from .module import Module

FUNCTIONS = [
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss",
    "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "cosine_similarity", "pairwise_distance",
    "cosine_embedding_loss", "triplet_margin_loss", "ctc_loss",
]
__all__ = [
    "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "SmoothL1Loss",
    "HuberLoss", "KLDivLoss", "CosineSimilarity", "PairwiseDistance", "CosineEmbeddingLoss", "TripletMarginLoss",
    "CTCLoss",
]


# ---- shared pieces ---------------------------------------------------------------------
def _reduction(size_average, reduce, reduction: str, op: str, allowed=("none", "mean", "sum")) -> str:
    """The reduction to use; the legacy size_average / reduce arguments win when given, as in torch."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "none" if not reduce else "mean" if size_average else "sum"
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {', '.join(repr(a) for a in allowed)}, got {reduction!r}")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _check_float(op: str, name: str, x: Tensor):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: {name} must be a floating point tensor, got {x.dtype} (shape {x.shape})")


def _check_same_shape(op: str, input: Tensor, target: Tensor, name: str = "target"):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: input of shape {input.shape} and {name} of shape {target.shape} do not match: "
                         f"expected {name} {input.shape}")


def _pointwise_target(op: str, input: Tensor, target) -> Tensor:
    """The target of a pointwise loss as a tensor, checked to broadcast against a float input."""
    _check_float(op, "input", input)
    target = _as_tensor(target, input)
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ValueError(f"{op}: input of shape {input.shape} and target of shape {target.shape} do not match: "
                         f"expected target {input.shape}") from None
    return target


def _as_tensor(x, like: Tensor | None = None) -> Tensor | None:
    """Targets and weights may arrive as arrays or lists; losses work on Tensors."""
    if x is None or isinstance(x, Tensor):
        return x
    return Tensor(array_module(like._data).asarray(x) if like is not None else x)


def _class_weight(op: str, weight, input: Tensor) -> Tensor | None:
    weight = _as_tensor(weight, input)
    if weight is None:
        return None
    C = input.shape[1]
    if tuple(weight.shape) != (C,):
        raise ValueError(f"{op}: weight of shape {weight.shape} does not match input of shape {input.shape}: "
                         f"expected one weight per class, shape ({C},)")
    return weight.to(input.dtype)


def _check_class_target(op: str, input: Tensor, target: Tensor, ignore_index: int, soft: bool = False):
    """Class-index targets: integer, shaped (N, d...) for an (N, C, d...) input, values in [0, C).

    soft: the loss also takes class probabilities (cross_entropy), which the error then mentions.
    """
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if target.dtype.kind not in "iu":
        hint = f"; class probabilities (soft targets) must be float with the input's shape {input.shape}" if soft else ""
        raise RuntimeError(f"{op}: class indices must be integers (int64), got a {target.dtype} target of shape "
                           f"{target.shape} for input of shape {input.shape}: expected int64 of shape {expected}{hint}")
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: input of shape {input.shape} and target of shape {target.shape} do not match: "
                         f"expected target {expected}")
    t, C = target._data, input.shape[1]
    if t.size and (int(t.min()) < 0 or int(t.max()) >= C):  # the common case costs two reductions
        bad = t[(t != ignore_index) & ((t < 0) | (t >= C))]
        if bad.size:
            raise IndexError(f"{op}: target class {int(bad[0])} is out of range for input of shape {input.shape}: "
                             f"expected classes in [0, {C}) or ignore_index={ignore_index}")


def _unbatched(fn, input, target, reduction, *args, **kw):
    """Run a class loss on an unbatched (C,) input by adding and removing a batch dim."""
    out = fn(input.unsqueeze(0), target.unsqueeze(0), *args, reduction=reduction, **kw)
    return out.squeeze(0) if reduction == "none" else out


# ---- classification ----------------------------------------------------------------------
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between softmax(input) over dim 1 and class indices or class probabilities.

    input (N, C, d...) or (C,); target (N, d...) integer class indices, or float class
    probabilities of input's shape. 'mean' over class indices divides by the summed weights of
    the non-ignored targets, as torch does.

    >>> loss = cross_entropy(logits, labels)   # logits (32, 10), labels (32,) int64
    """
    op = "cross_entropy"
    reduction = _reduction(size_average, reduce, reduction, op)
    _check_float(op, "input", input)
    target = _as_tensor(target, input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    if input.ndim == 1:
        return _unbatched(cross_entropy, input, target, reduction, weight,
                          ignore_index=ignore_index, label_smoothing=label_smoothing)
    weight = _class_weight(op, weight, input)
    if target.dtype.kind == "f" and tuple(target.shape) == tuple(input.shape):
        # class probabilities: composed, so the target gets a gradient too
        C = input.shape[1]
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + label_smoothing / C
        logp = ops.log_softmax(input, 1)
        if weight is not None:
            logp = logp * weight.reshape((1, C) + (1,) * (input.ndim - 2))
        return _reduce(-(logp * target).sum(1), reduction)  # 'mean' averages over N * d...
    _check_class_target(op, input, target, ignore_index, soft=True)
    return CrossEntropy.apply(input, target, weight, ignore_index=ignore_index,
                              label_smoothing=float(label_smoothing), reduction=reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -input[n, target[n]] (times weight[target[n]]), for log-probabilities.

    input (N, C, d...) or (C,); target (N, d...) class indices. 'mean' divides by the summed
    weights of the non-ignored targets.
    """
    op = "nll_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    _check_float(op, "input", input)
    target = _as_tensor(target, input)
    if input.ndim == 1:
        return _unbatched(nll_loss, input, target, reduction, weight, ignore_index=ignore_index)
    weight = _class_weight(op, weight, input)
    _check_class_target(op, input, target, ignore_index)
    valid = target != ignore_index
    safe = ops.where(valid, target, 0)  # ignored positions read class 0 and get weight 0
    picked = input.gather(1, safe.unsqueeze(1)).squeeze(1)  # (N, d...)
    w = valid.to(input.dtype) if weight is None else weight[safe] * valid
    loss = -picked * w
    if reduction == "mean":
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-(target log(input) + (1 - target) log(1 - input)), for probabilities in [0, 1]."""
    op = "binary_cross_entropy"
    reduction = _reduction(size_average, reduce, reduction, op)
    _check_float(op, "input", input)
    target = _as_tensor(target, input)
    _check_same_shape(op, input, target)
    loss = BinaryCrossEntropy.apply(input, target.to(input.dtype))
    if weight is not None:
        loss = loss * _as_tensor(weight, input).to(input.dtype)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits.

    pos_weight (broadcast against input, usually one per class) scales the positive term.
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(size_average, reduce, reduction, op)
    _check_float(op, "input", input)
    target = _as_tensor(target, input)
    _check_same_shape(op, input, target)
    if pos_weight is not None:
        pos_weight = _as_tensor(pos_weight, input).to(input.dtype)
        try:
            np.broadcast_shapes(pos_weight.shape, input.shape)
        except ValueError:
            raise ValueError(f"{op}: pos_weight of shape {pos_weight.shape} does not broadcast to input of shape "
                             f"{input.shape}: expected e.g. one weight per class, shape ({input.shape[-1]},)") from None
    loss = BinaryCrossEntropyWithLogits.apply(input, target.to(input.dtype), pos_weight)
    if weight is not None:
        loss = loss * _as_tensor(weight, input).to(input.dtype)
    return _reduce(loss, reduction)


# ---- regression ----------------------------------------------------------------------------
def _elementwise(op: str, input: Tensor, target: Tensor, weight, reduction: str, loss_fn, weighted_mean="sum"):
    """Shared body of mse / l1 / huber: broadcast, loss per element, optional weight, reduce.

    torch normalises a weighted 'mean' by sum(weight) for mse and l1 but by the element count
    for huber; `weighted_mean` says which.
    """
    number = isinstance(target, (int, float))  # a constant target, which torch does not take: broadcast is meant
    target = _pointwise_target(op, input, target)
    if tuple(target.shape) != tuple(input.shape) and not number:  # torch warns too: (N, 1) and (N,) give (N, N)
        shape = np.broadcast_shapes(input.shape, target.shape)
        warnings.warn(f"{op}: target of shape {target.shape} differs from input of shape {input.shape}; they "
                      f"broadcast to {shape}, which is likely not what you meant: make them the same shape",
                      UserWarning, stacklevel=3)
    loss = loss_fn(input - target)
    if weight is None:
        return _reduce(loss, reduction)
    weight = _as_tensor(weight, input)
    _check_same_shape(op, input, weight, "weight")
    loss = loss * weight
    if reduction == "mean" and weighted_mean == "sum":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """(input - target)^2, reduced."""
    reduction = _reduction(size_average, reduce, reduction, "mse_loss")
    return _elementwise("mse_loss", input, target, weight, reduction, lambda d: d * d)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """|input - target|, reduced."""
    reduction = _reduction(size_average, reduce, reduction, "l1_loss")
    return _elementwise("l1_loss", input, target, weight, reduction, lambda d: d.abs())


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""
    reduction = _reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:  # the quadratic zone vanishes: plain L1 (and no division by zero)
        return _elementwise("smooth_l1_loss", input, target, None, reduction, lambda d: d.abs())

    def f(d):
        a = d.abs()
        return ops.where(a < beta, d * d * (0.5 / beta), a - 0.5 * beta)

    return _elementwise("smooth_l1_loss", input, target, None, reduction, f)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): smooth_l1_loss times delta."""
    reduction = _reduction(None, None, reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")

    def f(d):
        a = d.abs()
        return ops.where(a < delta, d * d * 0.5, (a - 0.5 * delta) * delta)

    return _elementwise("huber_loss", input, target, weight, reduction, f, weighted_mean="count")


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise: target (log target - input); input holds log-probabilities.

    reduction='batchmean' divides the sum by the batch size, which is the true KL divergence.
    """
    op = "kl_div"
    if reduction == "mean" and size_average is None and reduce is None:  # as torch warns
        warnings.warn("kl_div: reduction='mean' divides the summed loss by the number of elements (batch size "
                      "times support size); the KL divergence is reduction='batchmean', which divides by the "
                      "batch size only", UserWarning, stacklevel=2)
    reduction = _reduction(size_average, reduce, reduction, op, ("none", "mean", "sum", "batchmean"))
    target = _pointwise_target(op, input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:  # target log target is 0 where target is 0 (torch's xlogy), without a log(0) in the graph
        loss = target * ops.where(target > 0, target, 1.0).log() - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)


# ---- similarity and metric learning ----------------------------------------------------------
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1 . x2 / (max(|x1|, eps) max(|x2|, eps)) along `dim`; x1 and x2 broadcast."""
    op = "cosine_similarity"
    _check_float(op, "x1", x1)
    _check_float(op, "x2", x2)
    try:
        x1, x2 = ops.broadcast_tensors(x1, x2)
    except (ValueError, RuntimeError):
        raise ValueError(f"{op}: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not broadcast") from None
    # each side is normalised first, as torch does, so the result stays within [-1, 1]
    n1 = ops.clamp((x1 * x1).sum(dim, keepdim=True).sqrt(), min=eps)
    n2 = ops.clamp((x2 * x2).sum(dim, keepdim=True).sqrt(), min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The p-norm of x1 - x2 + eps over the last dim."""
    dim = max(x1.ndim, x2.ndim) - 1
    d = x1 - x2 + eps
    if p == 2:
        return (d * d).sum(dim, keepdim=keepdim).sqrt()
    if p == 1:
        return d.abs().sum(dim, keepdim=keepdim)
    if p == float("inf"):
        return d.abs().amax(dim, keepdim=keepdim)
    if p <= 0:
        raise ValueError(f"pairwise_distance: p must be > 0, got {p}")
    return (d.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def _check_pair_target(op: str, x1: Tensor, target: Tensor):
    expected = (x1.shape[0],) if x1.ndim == 2 else ()
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: inputs of shape {x1.shape} and target of shape {target.shape} do not match: "
                         f"expected target {expected} of 1 and -1")


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where target is -1."""
    op = "cosine_embedding_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    _check_float(op, "input1", input1)
    _check_same_shape(op, input1, input2, "input2")
    if input1.ndim not in (1, 2):
        raise ValueError(f"{op}: inputs must be (N, D) or (D,), got shape {input1.shape}")
    target = _as_tensor(target, input1)
    _check_pair_target(op, input1, target)
    d = input1.ndim - 1
    dot = (input1 * input2).sum(d)
    sq1 = (input1 * input1).sum(d) + 1e-12  # torch's EPSILON keeps zero vectors finite
    sq2 = (input2 * input2).sum(d) + 1e-12
    cos = dot / (sq1 * sq2).sqrt()
    loss = ops.where(target == 1, 1.0 - cos, 0.0) + ops.where(target == -1, ops.clamp(cos - margin, min=0.0), 0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm distance.

    swap=True uses min(d(a, n), d(p, n)) as the negative distance (Balntas et al., 2016).
    """
    op = "triplet_margin_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    for name, x in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _check_float(op, name, x)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"{op}: anchor {anchor.shape}, positive {positive.shape} and negative {negative.shape} "
                         f"must have the same number of dims")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ops.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(ops.clamp(d_pos - d_neg + margin, min=0.0), reduction)


# ---- sequences -------------------------------------------------------------------------------
def _lengths(op: str, name: str, lengths, B: int, xp):
    """Lengths given as a tensor, array, list or int, as an int64 array of shape (B,)."""
    a = xp.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)  # CPU lengths are fine for GPU input
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: {name} must be integers, got {a.dtype}")
    a = a.reshape(-1).astype(np.int64)
    if a.shape != (B,):
        raise ValueError(f"{op}: {name} has {a.shape[0]} entries for a batch of {B}: expected shape ({B},)")
    return a


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification loss (Graves et al., 2006).

    log_probs (T, B, C) from log_softmax (or (T, C) unbatched); targets padded (B, S) or all
    concatenated (sum(target_lengths),); input_lengths and target_lengths (B,). 'mean' divides
    each loss by its target length, then averages over the batch.

    >>> loss = ctc_loss(logits.log_softmax(2), targets, input_lengths, target_lengths)
    """
    op = "ctc_loss"
    reduction = _reduction(None, None, reduction, op)
    _check_float(op, "log_probs", log_probs)
    xp = array_module(log_probs._data)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)  # (T, 1, C)
    if log_probs.ndim != 3:
        raise ValueError(f"{op}: log_probs must be (T, B, C) or (T, C), got shape {log_probs.shape}")
    T, B, C = log_probs.shape
    if not 0 <= blank < C:
        raise ValueError(f"{op}: blank {blank} is out of range for {C} classes (log_probs shape {log_probs.shape})")
    t = xp.asarray(targets._data if isinstance(targets, Tensor) else targets)
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: targets must be an integer tensor, got {t.dtype} (shape {t.shape})")
    t = t.astype(np.int64)
    il = _lengths(op, "input_lengths", input_lengths, B, xp)
    tl = _lengths(op, "target_lengths", target_lengths, B, xp)
    if unbatched:
        t = t.reshape(1, -1)
    if B and (int(il.max()) > T or int(il.min()) < 1):
        raise ValueError(f"{op}: input_lengths must be in [1, {T}] for log_probs of shape {log_probs.shape}, "
                         f"got {il.tolist()}")
    if B and int(tl.min()) < 0:
        raise ValueError(f"{op}: target_lengths must be >= 0, got {tl.tolist()}")
    S = int(tl.max()) if B else 0
    if t.ndim == 2:  # padded (B, S_max)
        if t.shape[0] != B or S > t.shape[1]:
            raise ValueError(f"{op}: padded targets of shape {t.shape} do not fit batch {B} with target_lengths "
                             f"{tl.tolist()}: expected shape ({B}, >= {S})")
        t = t[:, :S]
    elif t.ndim == 1:  # concatenated: cut into rows, padded with blank
        total = int(tl.sum())
        if t.shape[0] != total:
            raise ValueError(f"{op}: concatenated targets of shape {t.shape} do not match target_lengths "
                             f"{tl.tolist()}: expected shape ({total},)")
        start = xp.cumsum(tl) - tl
        pos = start[:, None] + xp.arange(S)  # (B, S)
        t = t[xp.minimum(pos, max(total - 1, 0))] if total else xp.zeros((B, S), dtype=np.int64)
    else:
        raise ValueError(f"{op}: targets must be (B, S) padded or 1-D concatenated, got shape {t.shape}")
    inside = xp.arange(S) < tl[:, None]
    t = xp.where(inside, t, blank)
    if t.size and (int(t.min()) < 0 or int(t.max()) >= C):
        raise IndexError(f"{op}: target values must be class indices in [0, {C}) for log_probs of shape "
                         f"{log_probs.shape}, got range [{int(t.min())}, {int(t.max())}]")
    out = _CTC.apply(log_probs, targets=t, input_lengths=il, target_lengths=tl, blank=blank,
                     reduction=reduction, zero_infinity=zero_infinity)
    return out.squeeze(0) if unbatched and reduction == "none" else out


# ---- modules ---------------------------------------------------------------------------------
class _Loss(Module):
    """A loss module keeps its reduction; the legacy size_average / reduce arguments map onto it."""

    _reductions = ("none", "mean", "sum")

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = _reduction(size_average, reduce, reduction, type(self).__name__, self._reductions)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class _WeightedLoss(_Loss):
    """A loss with a per-class `weight`, kept as a buffer so that it moves with .to() and state_dict."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor(weight))


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy against class indices or probabilities; see `cross_entropy`."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices under log-probabilities; see `nll_loss`."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities; see `binary_cross_entropy`."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, with optional pos_weight; see `binary_cross_entropy_with_logits`."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor(weight))
        self.register_buffer("pos_weight", _as_tensor(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                pos_weight=self.pos_weight)


class MSELoss(_Loss):
    """Mean squared error; see `mse_loss`."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error; see `l1_loss`."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below beta, linear above; see `smooth_l1_loss`."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below delta, linear (slope delta) above; see `huber_loss`."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """KL divergence with log-probability input; see `kl_div`."""

    _reductions = ("none", "mean", "sum", "batchmean")

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CosineSimilarity(Module):
    """Cosine similarity along `dim`; see `cosine_similarity`."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm distance over the last dim; see `pairwise_distance`."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim  # torch names the order `norm`

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineEmbeddingLoss(_Loss):
    """Pull pairs together (target 1) or push them below a cosine margin (target -1)."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """Anchor closer to positive than to negative by a margin; see `triplet_margin_loss`."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
                                   reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification; see `ctc_loss`."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths, target_lengths) -> Tensor:
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                        self.zero_infinity)
