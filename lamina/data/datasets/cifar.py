"""CIFAR-10 from its binary version (fixed-size records; never the Python pickles)."""
from __future__ import annotations

import numpy as np

from ._files import DataError, FileBacked, RemoteFile, data_root, fetch, verify
from .mnist import _IDXImages

_RECORD = 1 + 3 * 32 * 32  # label byte, then the R, G and B planes of a 32x32 image
_BATCH_BYTES = 10000 * _RECORD
_NO_SHA = ("Krizhevsky publishes checksums only for the archive; the sha256 of each extracted .bin "
           "file is not published, so its size is checked here and the archive's sha256 at download")

_ARCHIVE = RemoteFile("cifar-10-binary.tar.gz", ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
                      ("c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",), 170052171)
_TRAIN = [f"data_batch_{i}.bin" for i in range(1, 6)]
_TEST = ["test_batch.bin"]


class CIFAR10(_IDXImages, FileBacked):
    """60,000 32x32 colour images in 10 classes (50,000 train, 10,000 test). Items are
    (image, label) with the image an (32, 32, 3) uint8 array.

    >>> ds = CIFAR10(root="~/data", train=False, transform=transforms.ToTensor())
    """
    name = "cifar10"
    folder = "cifar10"
    other_folders = ("cifar10/cifar-10-batches-bin", "cifar-10-batches-bin", "02-color-images/cifar10",
                     "02-color-images/cifar10/cifar-10-batches-bin")
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    archive = _ARCHIVE
    train_files = _TRAIN
    test_files = _TEST
    resources = tuple(RemoteFile(n, _ARCHIVE.urls, (), _BATCH_BYTES, _NO_SHA) for n in _TRAIN + _TEST)

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None, download: bool = False):
        self.root, self.train = root, train
        names = self.train_files if train else self.test_files
        paths = self.locate(root, names, download)
        records = np.concatenate([read_cifar_bin(paths[n]) for n in names])
        images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, H, W, C) like decoded images
        self._set(np.ascontiguousarray(images), records[:, 0], transform, target_transform)

    @classmethod
    def download(cls, root=None, names=None):
        """Fetch the archive, check its sha256, and unpack the .bin files into <root>/cifar10/."""
        target = data_root(root) / cls.folder
        tgz = target / cls.archive.name
        if not tgz.is_file():
            fetch(cls.archive, tgz, cls.name)
        verify(tgz, cls.archive, cls.name)
        import tarfile
        with tarfile.open(tgz, "r:gz") as tar:
            for m in tar.getmembers():  # copy by base name only: no paths from the archive are trusted
                base = m.name.rsplit("/", 1)[-1]
                if m.isfile() and (base.endswith(".bin") or base == "batches.meta.txt"):
                    (target / base).write_bytes(tar.extractfile(m).read())
        return target


def read_cifar_bin(path) -> np.ndarray:
    """The (N, 3073) uint8 records of one CIFAR-10 binary batch file."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % _RECORD:
        raise DataError(f"cifar10: {path} has {raw.size} bytes, not a whole number of {_RECORD}-byte records; "
                        f"the file is corrupt, delete it and fetch it again")
    return raw.reshape(-1, _RECORD)
