"""lamina.data: datasets, samplers, the DataLoader and transforms (torch.utils.data names).

>>> import lamina.data as data
>>> ds = data.datasets.BundledMNIST(train=True, transform=data.transforms.ToTensor())
>>> loader = data.DataLoader(ds, batch_size=64, shuffle=True)
"""
from .dataset import (
    ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split,
)
from .sampler import (
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler,
)
from .dataloader import DataLoader, default_collate, default_convert, pad_sequence
from ._random import rng  # the NumPy generator a dataset's own random draws should use
from . import transforms, datasets  # noqa: E402

__all__ = [
    "Dataset", "IterableDataset", "ChainDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
    "BatchSampler", "DataLoader", "default_collate", "default_convert", "pad_sequence", "rng", "transforms", "datasets",
]
