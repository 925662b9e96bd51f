"""Shared timing for the benchmarks: lamina and PyTorch alternate in one process, and we
report medians and the ratio lamina / torch (ratios, not absolute times, are what carry
over on a shared, noisy machine)."""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time

# Benchmarks import this module before anything else, because BLAS reads its thread count
# when NumPy loads (--threads N), and lamina's thread count follows it (lamina/backend.py).
if "--threads" in sys.argv:
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, sys.argv[sys.argv.index("--threads") + 1])
import lamina  # noqa: E402,F401


def set_threads(n: int | None = None) -> int:
    """Give torch the same number of threads NumPy's BLAS gets (all cores by default)."""
    import torch

    n = n or os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


# After a GEMM, an OpenBLAS worker thread spins for about 100 ms before it sleeps (measured:
# 0.1 s of CPU during a 0.3 s sleep; lamina runs its own parts there, see lamina/backend.py),
# and torch's OpenMP threads spin for about 10 ms. On
# 2 cores, whichever library runs next loses a core to the other's spinning thread, so
# every timed block starts after this long a pause, then one untimed call (waking threads
# from sleep makes a first call slow: a 0.3 ms Linear took 13 ms straight after the pause).
SETTLE_S = 0.15


def settle() -> None:
    time.sleep(SETTLE_S)


def compare(lamina_fn, torch_fn, rounds: int = 15, inner: int = 0, warmup: int = 2) -> dict:
    """Median seconds per call of each function, timed alternately (each block after a
    `settle` and one untimed call), and their ratio."""
    for _ in range(warmup):
        lamina_fn()
        torch_fn()
    if inner <= 0:  # pick enough calls per round for ~20 ms, so tiny ops are measurable
        t0 = time.perf_counter()
        lamina_fn()
        inner = max(1, min(1000, int(0.02 / max(time.perf_counter() - t0, 1e-7))))
    lt, tt = [], []
    for _ in range(rounds):
        for fn, out in ((lamina_fn, lt), (torch_fn, tt)):
            settle()
            fn()
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            out.append((time.perf_counter() - t0) / inner)
    lm, tm = statistics.median(lt), statistics.median(tt)
    return {"lamina_ms": lm * 1e3, "torch_ms": tm * 1e3, "ratio": lm / tm}


def table(rows: list[tuple[str, dict]], title: str) -> str:
    lines = [title, f"{'workload':<34}{'lamina ms':>12}{'torch ms':>12}{'ratio':>8}"]
    for name, r in rows:
        lines.append(f"{name:<34}{r['lamina_ms']:>12.4f}{r['torch_ms']:>12.4f}{r['ratio']:>8.2f}")
    return "\n".join(lines)


def cache_bandwidth() -> float:
    """GB/s of a 16 MB copy (L3-sized), median of 20: a gauge of how much of the shared cache
    and memory bandwidth other tenants leave us. On the 2-core VM these benchmarks were tuned
    on it reads about 45-50 GB/s normally and falls to about 30 when the host is busy. lamina's
    conv and norm steps make several NumPy passes over arrays that fill the L3, where PyTorch's
    fused kernels make one, so its ratios rise in such a phase: read them alongside this."""
    import numpy as np

    a = np.ones(4 << 20, dtype=np.float32)
    b = np.empty_like(a)
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        np.copyto(b, a)
        times.append(time.perf_counter() - t0)
    return 2 * a.nbytes / statistics.median(times) / 1e9


def gauge_line(before: float, after: float) -> str:
    """The line benchmarks print with their results: the gauge before and after the run."""
    return (f"machine: 16 MB copy {before:.0f} GB/s before, {after:.0f} after "
            "(about 45-50 when the host is quiet; see benchmarks/common.py)")


def machine() -> dict:
    import numpy
    import torch

    return {"python": platform.python_version(), "numpy": numpy.__version__, "torch": torch.__version__,
            "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "cache_copy_GBps": round(cache_bandwidth(), 1)}
