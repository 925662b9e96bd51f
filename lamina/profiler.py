"""`lamina.profile()`: where the time and memory of a step go, per op type.

    with lamina.profile() as prof:
        loss = model(x).sum(); loss.backward()
    print(prof)            # a table: calls, forward ms, backward ms, MB produced, per op

While active it wraps `Function.apply` (forward) and the autograd walk times each
`backward`; when inactive nothing is wrapped, so it costs nothing. "Bytes" are the sizes of
the arrays each op produced: its outputs in forward and its input gradients in backward.
"""
from __future__ import annotations

import time
from collections import defaultdict

from . import autograd
from .autograd import Function


class OpStats:
    __slots__ = ("calls", "forward_s", "backward_s", "forward_bytes", "backward_bytes", "dtypes")

    def __init__(self):
        self.dtypes: set[str] = set()
        self.calls = 0
        self.forward_s = self.backward_s = 0.0
        self.forward_bytes = self.backward_bytes = 0

    @property
    def total_s(self) -> float:
        return self.forward_s + self.backward_s


class profile:
    """Context manager collecting per-op time and bytes; `dtypes` lists every dtype produced
    (and each op's `OpStats.dtypes` which ones it produced)."""

    def __init__(self):
        self.stats: dict[str, OpStats] = defaultdict(OpStats)
        self.dtypes: set[str] = set()
        self._saved_apply = None

    def __enter__(self) -> "profile":
        original = Function.__dict__["apply"].__func__
        stats, dtypes = self.stats, self.dtypes

        def apply(cls, *args, **kwargs):
            t0 = time.perf_counter()
            out = original(cls, *args, **kwargs)
            s = stats[cls.__name__]
            s.calls += 1
            s.forward_s += time.perf_counter() - t0
            s.forward_bytes += out._data.nbytes
            s.dtypes.add(str(out.dtype))
            dtypes.add(str(out.dtype))
            return out

        self._saved_apply = Function.__dict__["apply"]
        Function.apply = classmethod(apply)
        autograd._profiler[0] = self
        return self

    def __exit__(self, *exc):
        Function.apply = self._saved_apply
        autograd._profiler[0] = None

    def record_backward(self, name: str, seconds: float, grads) -> None:
        """Called by the autograd walk for each node while profiling."""
        s = self.stats[name]
        s.backward_s += seconds
        for g in grads:
            if g is not None and hasattr(g, "nbytes"):
                s.backward_bytes += g.nbytes
                s.dtypes.add(str(g.dtype))
                self.dtypes.add(str(g.dtype))

    def ops_producing(self, dtype: str) -> list[str]:
        """The op types that produced an array of `dtype` (e.g. to hunt float64 in a float32 step)."""
        return sorted(name for name, s in self.stats.items() if dtype in s.dtypes)

    def table(self, sort_by: str = "total", limit: int = 30) -> str:
        rows = sorted(self.stats.items(), key=lambda kv: -getattr(kv[1], f"{sort_by}_s"))[:limit]
        total = sum(s.total_s for s in self.stats.values()) or 1.0
        lines = [f"{'op':<22}{'calls':>7}{'fwd ms':>10}{'bwd ms':>10}{'total %':>9}{'fwd MB':>9}{'bwd MB':>9}"]
        for name, s in rows:
            lines.append(f"{name:<22}{s.calls:>7}{s.forward_s * 1e3:>10.2f}{s.backward_s * 1e3:>10.2f}"
                         f"{100 * s.total_s / total:>9.1f}{s.forward_bytes / 2**20:>9.2f}{s.backward_bytes / 2**20:>9.2f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()
