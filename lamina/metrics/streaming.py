"""Streaming metrics: `update` once per batch, `compute` at the end of an epoch.

Each keeps sums (never the outputs themselves), so an epoch of any size costs O(1) memory,
and its state is plain numbers or lists (`state_dict`), so a checkpoint taken mid-epoch can
carry it.

>>> acc = Accuracy()
>>> for x, y in loader: acc.update(model(x), y)
>>> acc.compute()
0.97
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .functional import _from_confusion, _labels, _pair, confusion_matrix, to_numpy

__all__ = ["Metric", "Mean", "Accuracy", "TopKAccuracy", "ConfusionMatrix", "Precision", "Recall", "F1Score",
           "MAE", "RMSE"]


class Metric:
    """Base class: subclasses set their sums in `reset` and fold a batch into them in `update`."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, output, target) -> None:
        raise NotImplementedError

    def compute(self) -> float:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The sums, as JSON-friendly numbers and lists."""
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()
                if not k.startswith("_")}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            old = getattr(self, k, None)
            setattr(self, k, np.asarray(v, dtype=old.dtype) if isinstance(old, np.ndarray) else v)


class Mean(Metric):
    """The weighted mean of the values given to `update(value, weight)` (e.g. the loss)."""

    def reset(self):
        self.total, self.count = 0.0, 0.0

    def update(self, value, weight: float = 1.0) -> None:
        self.total += float(value) * weight
        self.count += weight

    def compute(self) -> float:
        return self.total / self.count if self.count else float("nan")


class Accuracy(Metric):
    """Fraction of correct argmax predictions."""

    def reset(self):
        self.correct, self.count = 0, 0

    def update(self, output, target) -> None:
        pred, tgt = _labels(output, target, "Accuracy")
        self.correct += int((pred == tgt).sum())
        self.count += int(tgt.size)

    def compute(self) -> float:
        return self.correct / self.count if self.count else 0.0


class TopKAccuracy(Metric):
    """Fraction of samples whose target is among the k best scores."""

    def __init__(self, k: int = 5):
        self.k = k
        super().__init__()

    def reset(self):
        self.correct, self.count = 0, 0

    def update(self, output, target) -> None:
        out, tgt = to_numpy(output), to_numpy(target).reshape(-1)
        k = min(self.k, out.shape[1])
        topk = np.argpartition(-out, k - 1, axis=1)[:, :k]
        self.correct += int((topk == tgt[:, None]).any(axis=1).sum())
        self.count += int(tgt.size)

    def compute(self) -> float:
        return self.correct / self.count if self.count else 0.0


class ConfusionMatrix(Metric):
    """(C, C) counts, row = true class, column = predicted; `compute` returns the matrix."""

    def __init__(self, num_classes: int):
        self.num_classes = num_classes
        super().__init__()

    def reset(self):
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, output, target) -> None:
        self.matrix += confusion_matrix(output, target, self.num_classes)

    def compute(self) -> np.ndarray:
        return self.matrix.copy()


class Precision(ConfusionMatrix):
    """Macro-averaged precision."""

    def compute(self) -> float:
        return _from_confusion(self.matrix)[0]


class Recall(ConfusionMatrix):
    """Macro-averaged recall."""

    def compute(self) -> float:
        return _from_confusion(self.matrix)[1]


class F1Score(ConfusionMatrix):
    """Macro-averaged F1."""

    def compute(self) -> float:
        return _from_confusion(self.matrix)[2]


class MAE(Metric):
    """Mean absolute error over all elements seen."""

    def reset(self):
        self.total, self.count = 0.0, 0

    def update(self, output, target) -> None:
        out, tgt = _pair(output, target, "MAE")
        self.total += float(np.abs(out - tgt).sum())
        self.count += int(tgt.size)

    def compute(self) -> float:
        return self.total / self.count if self.count else 0.0


class RMSE(MAE):
    """Root mean squared error over all elements seen."""

    def update(self, output, target) -> None:
        out, tgt = _pair(output, target, "RMSE")
        self.total += float(((out - tgt) ** 2).sum())
        self.count += int(tgt.size)

    def compute(self) -> float:
        return float(np.sqrt(self.total / self.count)) if self.count else 0.0
