"""Metrics as plain functions of NumPy arrays (or Tensors): one call, one number.

Classification functions take `output` as scores of shape (N, C) (logits or probabilities:
only their order matters) or as predicted class indices of shape (N,), and `target` as class
indices of shape (N,). Regression functions take two arrays of the same shape.

>>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
0.5
"""
from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "top_k_accuracy", "confusion_matrix", "precision_recall_f1", "per_class", "classification_report",
           "precision", "recall", "f1_score", "mae", "rmse", "to_numpy"]


def to_numpy(x) -> np.ndarray:
    """A NumPy array from a Tensor (any device), a CuPy array, a list or an array."""
    x = getattr(x, "data", x)  # Tensor -> its array
    if hasattr(x, "get") and not isinstance(x, np.ndarray):  # CuPy -> host
        x = x.get()
    return np.asarray(x)


def _labels(output, target, op: str) -> tuple[np.ndarray, np.ndarray]:
    """Predicted and true class indices, both (N,)."""
    out, tgt = to_numpy(output), to_numpy(target).reshape(-1)
    pred = out.argmax(axis=-1).reshape(-1) if out.ndim >= 2 else out.reshape(-1)
    if pred.shape != tgt.shape:
        raise ValueError(f"{op}: {pred.shape[0]} predictions (output shape {out.shape}) but "
                         f"{tgt.shape[0]} targets (shape {to_numpy(target).shape})")
    return pred.astype(np.int64), tgt.astype(np.int64)


def accuracy(output, target) -> float:
    """Fraction of samples whose predicted class (argmax of `output`) equals `target`."""
    pred, tgt = _labels(output, target, "accuracy")
    return float((pred == tgt).mean()) if tgt.size else 0.0


def top_k_accuracy(output, target, k: int = 5) -> float:
    """Fraction of samples whose target is among the k highest scores of `output` (N, C)."""
    out, tgt = to_numpy(output), to_numpy(target).reshape(-1)
    if out.ndim != 2:
        raise ValueError(f"top_k_accuracy: output must be scores of shape (N, C), got shape {out.shape}")
    k = min(k, out.shape[1])
    topk = np.argpartition(-out, k - 1, axis=1)[:, :k]  # (N, k), unordered: order does not matter here
    return float((topk == tgt[:, None]).any(axis=1).mean()) if tgt.size else 0.0


def confusion_matrix(output, target, num_classes: int | None = None) -> np.ndarray:
    """(C, C) int64 counts: row = true class, column = predicted class (sklearn's layout)."""
    pred, tgt = _labels(output, target, "confusion_matrix")
    if num_classes is None:
        out = to_numpy(output)
        num_classes = out.shape[-1] if out.ndim >= 2 else int(max(pred.max(initial=-1), tgt.max(initial=-1)) + 1)
    return np.bincount(tgt * num_classes + pred, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class (precision, recall, F1, support) from a confusion matrix (row = true class).

    A class never predicted has precision 0, one never present recall 0 (sklearn's zero_division=0).
    """
    cm = np.asarray(cm)
    tp = np.diag(cm).astype(np.float64)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(predicted > 0, tp / predicted, 0.0)
        r = np.where(actual > 0, tp / actual, 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    return p, r, f, actual.astype(np.int64)


def _from_confusion(cm: np.ndarray) -> tuple[float, float, float]:
    """Macro precision, recall and F1 over the classes that occur (as true or predicted)."""
    p, r, f, actual = per_class(cm)
    present = (cm.sum(axis=0) + actual) > 0  # a class absent from both would add a meaningless 0
    if not present.any():
        return 0.0, 0.0, 0.0
    return float(p[present].mean()), float(r[present].mean()), float(f[present].mean())


def classification_report(cm: np.ndarray, names: list[str] | None = None) -> str:
    """A table of per-class precision, recall, F1 and support, with the macro average, as text.

    >>> print(classification_report(confusion_matrix(logits, labels), ["cat", "dog"]))
    """
    p, r, f, support = per_class(cm)
    names = [str(n) for n in (names if names is not None else range(len(p)))]
    w = max([len(n) for n in names] + [len("macro avg")])
    lines = [f"{'class':<{w}}  precision     recall         f1    support"]
    for n, a, b, c, s in zip(names, p, r, f, support):
        lines.append(f"{n:<{w}}  {a:9.4f}  {b:9.4f}  {c:9.4f}  {s:9d}")
    P, R, F1 = _from_confusion(np.asarray(cm))
    lines.append(f"{'macro avg':<{w}}  {P:9.4f}  {R:9.4f}  {F1:9.4f}  {int(support.sum()):9d}")
    return "\n".join(lines)


def precision_recall_f1(output, target, num_classes: int | None = None) -> tuple[float, float, float]:
    """Macro-averaged (precision, recall, F1): each computed per class, then averaged."""
    return _from_confusion(confusion_matrix(output, target, num_classes))


def precision(output, target, num_classes: int | None = None) -> float:
    """Macro-averaged precision: per class TP / (TP + FP), averaged over classes."""
    return precision_recall_f1(output, target, num_classes)[0]


def recall(output, target, num_classes: int | None = None) -> float:
    """Macro-averaged recall: per class TP / (TP + FN), averaged over classes."""
    return precision_recall_f1(output, target, num_classes)[1]


def f1_score(output, target, num_classes: int | None = None) -> float:
    """Macro-averaged F1: per class 2PR / (P + R), averaged over classes."""
    return precision_recall_f1(output, target, num_classes)[2]


def _pair(output, target, op: str) -> tuple[np.ndarray, np.ndarray]:
    out, tgt = to_numpy(output).astype(np.float64), to_numpy(target).astype(np.float64)
    if out.shape != tgt.shape:
        if out.size == tgt.size:  # (N, 1) against (N,): the usual single-output regression
            out = out.reshape(tgt.shape)
        else:
            raise ValueError(f"{op}: output shape {out.shape} and target shape {tgt.shape} differ")
    return out, tgt


def mae(output, target) -> float:
    """Mean absolute error, mean(|output - target|)."""
    out, tgt = _pair(output, target, "mae")
    return float(np.abs(out - tgt).mean()) if tgt.size else 0.0


def rmse(output, target) -> float:
    """Root mean squared error, sqrt(mean((output - target)^2))."""
    out, tgt = _pair(output, target, "rmse")
    return float(np.sqrt(((out - tgt) ** 2).mean())) if tgt.size else 0.0
