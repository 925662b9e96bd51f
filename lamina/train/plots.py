"""PNG plots of a run, drawn with matplotlib when it is installed: the loss and metric curves
(loss.png, metrics.png) and confusion matrices.

The curves are per optimiser step, so a run is worth plotting after one epoch: the train loss
from metrics.jsonl's step rows, shown raw (faint) and smoothed; validation values sit at the
step where each epoch ended. The figures are drawn on matplotlib's Agg canvas directly, without
pyplot, so no global backend is chosen and nothing needs a display.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np


def _series(rows: list[dict[str, Any]], key: str, x: str = "step") -> tuple[list, list]:
    xs, ys = [], []
    for h in rows:
        v = h.get(key)
        if isinstance(v, (int, float)) and math.isfinite(v) and x in h:
            xs.append(h[x])
            ys.append(v)
    return xs, ys


def smooth(values: list[float], weight: float | None = None) -> np.ndarray:
    """Exponential moving average with TensorBoard's debiasing (the start is not pulled to 0).

    `weight` defaults to one that grows with the number of points, averaging over about a
    twentieth of them: twenty or fewer are left as they are, a few dozen (one epoch of a small
    run) keep their shape and lag little, thousands are smoothed over about a hundred.
    """
    v = np.asarray(values, np.float64)
    if weight is None:
        weight = float(np.clip(1 - 20 / max(len(v), 1), 0.0, 0.99))
    out, avg = np.empty_like(v), 0.0
    for i, x in enumerate(v):
        avg = weight * avg + (1 - weight) * x
        out[i] = avg / (1 - weight ** (i + 1))
    return out


def _figure(n: int):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(5 * n, 3.6))
    FigureCanvasAgg(fig)
    return fig


def _epoch_lines(ax, history):
    for h in history:  # faint verticals where epochs end, so steps read as epochs too
        if "step" in h:
            ax.axvline(h["step"], color="grey", alpha=0.5, linewidth=0.8, linestyle=":")


def plot_history(history: list[dict[str, Any]], out_dir: str | Path,
                 steps: list[dict[str, Any]] | None = None) -> list[Path]:
    """Write loss.png and metrics.png from the epoch rows `history` and the step rows `steps`
    (see RunDir); [] without matplotlib or rows."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return []
    steps = steps or []
    if not history and not steps:
        return []
    out_dir = Path(out_dir)
    written = []

    fig = _figure(1)
    ax = fig.add_subplot(1, 1, 1)
    xs, ys = _series(steps, "train_loss")
    if xs:
        ax.plot(xs, ys, color="C0", alpha=0.25, linewidth=0.8)
        ax.plot(xs, smooth(ys), color="C0", label="train (smoothed)")
    else:  # no step rows (an old run): the epoch means
        xs, ys = _series(history, "train_loss")
        ax.plot(xs, ys, "-o", color="C0", markersize=3, label="train")
    xs, ys = _series(history, "val_loss")
    if xs:
        ax.plot(xs, ys, "-s", color="C1", markersize=4, label="val")
    _epoch_lines(ax, history)
    ax.set(xlabel="step", ylabel="loss", title="loss (vertical lines: epoch ends)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "loss.png", dpi=100)
    written.append(out_dir / "loss.png")

    names = sorted({k.split("_", 1)[1] for h in history for k in h
                    if k.startswith(("train_", "val_")) and k.split("_", 1)[1] != "loss"})
    panels = names + (["lr"] if _series(steps, "lr")[0] else [])
    if panels:
        fig = _figure(len(panels))
        for i, name in enumerate(panels):
            ax = fig.add_subplot(1, len(panels), i + 1)
            if name == "lr":
                ax.plot(*_series(steps, "lr"), color="C2")
                ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
            else:
                for split, style, color in (("train", "-o", "C0"), ("val", "-s", "C1")):
                    xs, ys = _series(history, f"{split}_{name}")
                    if xs:
                        ax.plot(xs, ys, style, color=color, label=f"{split} (epoch)", markersize=4)
                ax.legend()
            _epoch_lines(ax, history)
            ax.set(xlabel="step", ylabel=name, title="learning rate" if name == "lr" else name)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out_dir / "metrics.png", dpi=100)
        written.append(out_dir / "metrics.png")
    return written


def plot_confusion(cm: np.ndarray, names: list[str], path: str | Path, title: str = "confusion matrix") -> Path | None:
    """Write a confusion matrix (row = true class, column = predicted) as a PNG, counts in the
    cells and colour by the share of each true class; None without matplotlib."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    cm = np.asarray(cm)
    n = len(cm)
    size = min(max(4.0, 0.45 * n + 2), 16)
    fig = _figure(1)
    fig.set_size_inches(size + 1, size)
    ax = fig.add_subplot(1, 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.nan_to_num(cm / cm.sum(axis=1, keepdims=True))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    if n <= 30:  # beyond that the numbers would not fit
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), [str(c) for c in names], rotation=45 if max(map(len, map(str, names))) > 2 else 0)
    ax.set_yticks(range(n), [str(c) for c in names])
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    return path
