"""Where the data pipeline's random draws come from.

Random transforms and samplers draw from an explicit `generator=` when given, else from the
stream the DataLoader opened for the batch being loaded, else from lamina's global generator.
The DataLoader opens one stream per batch, seeded by (epoch seed, batch index): a batch's
augmentation then does not depend on which thread loads it or on which batches were skipped
when resuming, so `num_workers > 0` gives exactly the batches of `num_workers=0`.
"""
from __future__ import annotations

import threading

import numpy as np

from ..creation import Generator, default_generator

_local = threading.local()


def rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator to draw from now (see the module docstring for the order)."""
    if generator is not None:
        return generator.rng
    r = getattr(_local, "rng", None)
    return r if r is not None else default_generator.rng


class batch_stream:
    """Within this block (on this thread), unseeded draws come from a stream for one batch."""

    def __init__(self, seed: int, index: int):
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, index])))

    def __enter__(self):
        self.prev = getattr(_local, "rng", None)
        _local.rng = self.rng

    def __exit__(self, *exc):
        _local.rng = self.prev
