"""Datasets: anything with `__getitem__` and `__len__` (map-style) or `__iter__` (iterable).

Names and behaviour follow `torch.utils.data`.
"""
from __future__ import annotations

import bisect
import math
from typing import Iterable, Sequence

import numpy as np

from ..creation import Generator, _rng


class Dataset:
    """A map-style dataset: subclasses define `__getitem__(index)` and `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define `__iter__()`. The DataLoader batches it in order."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets one after another."""

    def __init__(self, datasets: Iterable[IterableDataset]):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


def _first_len(tensors) -> int:
    return tensors[0].shape[0] if hasattr(tensors[0], "shape") else len(tensors[0])


class TensorDataset(Dataset):
    """Samples are rows of the given tensors (or arrays), all with the same first dimension.

    >>> ds = TensorDataset(lamina.randn(100, 3), lamina.arange(100)); x, y = ds[0]
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        n = _first_len(tensors)
        sizes = [t.shape[0] if hasattr(t, "shape") else len(t) for t in tensors]
        if any(s != n for s in sizes):
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return _first_len(self.tensors)

    def _gather(self, indices: list[int]):
        """A whole batch by one fancy index per tensor; equals default_collate of the samples.
        None when a tensor is neither a Tensor nor an ndarray (then samples are collated)."""
        from ..backend import array_module
        from ..tensor import Tensor
        if not all(isinstance(t, (Tensor, np.ndarray)) and not getattr(t, "requires_grad", False)
                   for t in self.tensors):
            return None
        out = []
        for t in self.tensors:
            a = t._data if isinstance(t, Tensor) else t
            out.append(Tensor._make(a[array_module(a).asarray(indices, dtype=np.int64)], None))
        return out


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index):
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several map-style datasets seen as one, in order."""

    def __init__(self, datasets: Iterable[Dataset]):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset: does not support IterableDataset; use ChainDataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
            index += len(self)
        d = bisect.bisect_right(self.cumulative_sizes, index)
        if d == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
        start = self.cumulative_sizes[d - 1] if d > 0 else 0
        return self.datasets[d][index - start]


def random_split(dataset: Dataset, lengths: Sequence[int | float], generator: Generator | None = None) -> list[Subset]:
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1),
    drawn from `generator` (default: lamina's global generator).

    >>> train, val = random_split(ds, [0.9, 0.1], generator=lamina.Generator().manual_seed(0))
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and all(0 <= f <= 1 for f in lengths):
        # Fractions: floor each, then hand the remainder out round-robin, as torch does.
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths {sum(lengths)} does not equal the length of the dataset {n}")
    perm = _rng(generator).permutation(n).tolist()
    out, start = [], 0
    for k in lengths:
        out.append(Subset(dataset, perm[start:start + int(k)]))
        start += int(k)
    return out
