"""Data sets, and a registry of them by name (used by `lamina list` and the tasks).

>>> from lamina.data.datasets import MNIST, list_datasets
>>> list_datasets("../shared/data")   # name, class, description, whether its data is present
"""
from __future__ import annotations

from dataclasses import dataclass

from ._files import (
    ChecksumError, DataError, DataNotFoundError, FileBacked, RemoteFile, check_root, data_root, sha256_of, verify,
)
from .cifar import CIFAR10
from .folder import IMG_EXTENSIONS, ImageFolder, pil_loader
from .mnist import MNIST, BundledMNIST, FashionMNIST, read_idx
from .tabular import CSVDataset, TextFile, TinyShakespeare, random_windows

DATASETS: dict[str, type] = {}


def register_dataset(name: str, cls: type) -> type:
    """Add a dataset class to the registry under `name`."""
    DATASETS[name] = cls
    return cls


for _cls in (MNIST, FashionMNIST, BundledMNIST, CIFAR10, TinyShakespeare, ImageFolder, CSVDataset, TextFile):
    register_dataset(_cls.name, _cls)


def get_dataset(name: str) -> type:
    """The dataset class registered as `name`."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None


@dataclass
class DatasetInfo:
    name: str
    cls: type
    description: str
    present: bool | None  # None: the user names the files (image-folder, csv, text)
    location: str | None


def list_datasets(root=None) -> list[DatasetInfo]:
    """Every registered dataset, and whether its files are present under the data root."""
    out = []
    for name, cls in DATASETS.items():
        para = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())
        doc = para.split(". ")[0].rstrip(".") + "."  # the first sentence
        finder = getattr(cls, "find", None)
        where = finder(root) if finder else None
        out.append(DatasetInfo(name, cls, doc, None if finder is None else where is not None,
                               None if where is None else str(where)))
    return out


__all__ = [
    "DATASETS", "register_dataset", "get_dataset", "list_datasets", "DatasetInfo", "data_root", "check_root",
    "DataError", "DataNotFoundError", "ChecksumError", "RemoteFile", "FileBacked", "sha256_of", "verify",
    "MNIST", "FashionMNIST", "BundledMNIST", "CIFAR10", "ImageFolder", "CSVDataset", "TextFile", "TinyShakespeare", "random_windows",
    "read_idx", "pil_loader", "IMG_EXTENSIONS",
]
