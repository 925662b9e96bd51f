"""Progress display: a tqdm bar when tqdm is installed, else a plain line every `log_every` steps."""
from __future__ import annotations

import sys
import time
from typing import Any

try:
    from tqdm.auto import tqdm as _tqdm
except ImportError:  # tqdm is an extra ("progress")
    _tqdm = None


def format_metrics(values: dict[str, Any], digits: int = 4) -> str:
    """'loss 0.3123 accuracy 0.912': one space-separated line."""
    parts = []
    for k, v in values.items():
        if isinstance(v, float):
            parts.append(f"{k} {v:.{digits}g}")
        elif isinstance(v, (int, str)):
            parts.append(f"{k} {v}")
    return " ".join(parts)


class Progress:
    """One epoch's progress: `update(n, postfix)` after each step, `close()` at the end."""

    def __init__(self, total: int, initial: int = 0, desc: str = "", enabled: bool = True, log_every: int = 50,
                 file=None):
        self.total, self.n, self.desc, self.log_every = total, initial, desc, log_every
        self.enabled = enabled
        self.file = file or sys.stderr
        self.bar = None
        self.start = time.perf_counter()
        if enabled and _tqdm is not None:
            self.bar = _tqdm(total=total, initial=initial, desc=desc, file=self.file, leave=False,
                             dynamic_ncols=True, mininterval=0.5)

    def update(self, postfix: dict[str, Any] | None = None) -> None:
        self.n += 1
        if self.bar is not None:
            self.bar.update(1)
            if postfix and (self.n % 10 == 0 or self.n == self.total):  # formatting every step costs
                self.bar.set_postfix_str(format_metrics(postfix), refresh=False)
        elif self.enabled and self.log_every and (self.n % self.log_every == 0 or self.n == self.total):
            rate = (time.perf_counter() - self.start) or 1e-9
            print(f"{self.desc} step {self.n}/{self.total} {format_metrics(postfix or {})} "
                  f"({rate:.1f} s)", file=self.file, flush=True)

    def write(self, line: str) -> None:
        """Print a line without breaking the bar."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
        else:
            print(line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
