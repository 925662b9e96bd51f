"""PNG plots of a run's loss and metric curves, drawn with matplotlib when it is installed.

The figures are drawn on matplotlib's Agg canvas directly, without pyplot, so no global
backend is chosen and nothing needs a display.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def _series(history: list[dict[str, Any]], key: str) -> tuple[list, list]:
    xs, ys = [], []
    for h in history:
        v = h.get(key)
        if isinstance(v, (int, float)) and math.isfinite(v):
            xs.append(h["epoch"])
            ys.append(v)
    return xs, ys


def plot_history(history: list[dict[str, Any]], out_dir: str | Path) -> list[Path]:
    """Write loss.png and metrics.png (train and val curves per epoch); [] without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return []
    if not history:
        return []
    out_dir = Path(out_dir)
    names = sorted({k[len("val_"):] for h in history for k in h if k.startswith("val_")} |
                   {k[len("train_"):] for h in history for k in h if k.startswith("train_")})
    written = []
    groups = [("loss.png", ["loss"]), ("metrics.png", [n for n in names if n != "loss"])]
    for filename, metric_names in groups:
        if not metric_names:
            continue
        fig = Figure(figsize=(5 * len(metric_names), 3.6))
        FigureCanvasAgg(fig)
        for i, name in enumerate(metric_names):
            ax = fig.add_subplot(1, len(metric_names), i + 1)
            for split, style in (("train", "-o"), ("val", "-s")):
                xs, ys = _series(history, f"{split}_{name}")
                if xs:
                    ax.plot(xs, ys, style, label=split, markersize=3)
            ax.set_xlabel("epoch")
            ax.set_title(name)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        fig.savefig(out_dir / filename, dpi=100)
        written.append(out_dir / filename)
    return written
