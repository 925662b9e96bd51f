"""MNIST and Fashion-MNIST (IDX files, gzip), and the MNIST subset bundled with lamina."""
from __future__ import annotations

import functools
import gzip
import lzma
import struct
from pathlib import Path

import numpy as np

from ..dataset import Dataset
from ._files import DataError, FileBacked, RemoteFile

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (raw, .gz or .xz) into a read-only array of its stored shape."""
    path = Path(path)
    st = path.stat()
    return _read_idx(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read_idx(path: str, size: int, mtime: int) -> np.ndarray:  # size and mtime key the cache
    opener = gzip.open if path.endswith(".gz") else lzma.open if path.endswith(".xz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, lzma.LZMAError) as e:
        raise DataError(f"read_idx: {path} can't be decompressed ({e}); the file is corrupt, delete it and fetch it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"read_idx: {path} is not an IDX file (bad magic number {raw[:4].hex()})")
    ndim, dtype = raw[3], np.dtype(_IDX_DTYPES[raw[2]])
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(dims)) * dtype.itemsize:
        raise DataError(f"read_idx: {path} holds {len(raw) - offset} bytes of data, its header says {dims} x {dtype}")
    arr = np.frombuffer(raw, dtype, offset=offset).reshape(dims)
    return arr if dtype.byteorder in "=|" else arr.astype(dtype.newbyteorder("="))


def _array(value, name: str) -> np.ndarray:
    from ...tensor import Tensor
    if isinstance(value, Tensor):
        return value.numpy()
    if isinstance(value, (np.ndarray, list, tuple)):
        return np.asarray(value)
    raise TypeError(f"{name}: expected a Tensor or an array, got {type(value).__name__}")


class _IDXImages(Dataset):
    """Images (N, H, W) uint8 and labels from IDX files. Items are (image, label): the image an
    (H, W) uint8 array, which every lamina transform accepts like a PIL image.

    `.data` (uint8, N x H x W) and `.targets` (int64) are Tensors over the arrays, as in
    torchvision, and may be set (`ds.data = ds.data[:1000]`) to keep a subset."""
    classes: list[str] = []

    def _set(self, images: np.ndarray, labels: np.ndarray, transform, target_transform):
        if len(images) != len(labels):
            raise DataError(f"{type(self).__name__}: {len(images)} images but {len(labels)} labels")
        self._images, self._labels = images, labels.astype(np.int64)
        self.transform, self.target_transform = transform, target_transform

    @property
    def data(self):
        from ...tensor import Tensor
        return Tensor(self._images)

    @data.setter
    def data(self, value) -> None:
        self._images = _array(value, f"{type(self).__name__}.data")

    @property
    def targets(self):
        from ...tensor import Tensor
        return Tensor(self._labels)

    @targets.setter
    def targets(self, value) -> None:
        self._labels = _array(value, f"{type(self).__name__}.targets").astype(np.int64)

    def __len__(self) -> int:
        return len(self._images)  # as torchvision: `ds.data = ds.data[:1000]` alone keeps 1000 items

    def __getitem__(self, index: int):
        img, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}


def _idx_files(base_urls, names_sha):
    return tuple(RemoteFile(n, tuple(u + n for u in base_urls), tuple(s)) for n, s in names_sha)


class MNIST(_IDXImages, FileBacked):
    """Handwritten digits: 60,000 train and 10,000 test images, 28x28 greyscale, labels 0-9.

    >>> ds = MNIST(root="../shared/data", train=True, transform=transforms.ToTensor())
    """
    name = "mnist"
    folder = "mnist"
    other_folders = ("01-digits/mnist", "MNIST/raw")
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    resources = _idx_files(
        ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        [  # sha256 of LeCun's original files; the shared data root re-gzipped train-images (same
           # decompressed bytes, sha256 ba891046...6db), so that copy's digest is accepted too.
            ("train-images-idx3-ubyte.gz", ["440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                                            "db8f937d487057fb14a9f0fbe97f0bc8d311ab41b750d41e1ff37c43b9e55e19"]),
            ("train-labels-idx1-ubyte.gz", ["3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"]),
            ("t10k-images-idx3-ubyte.gz", ["8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"]),
            ("t10k-labels-idx1-ubyte.gz", ["f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"]),
        ])

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None, download: bool = False):
        self.root, self.train = root, train
        split = "train" if train else "t10k"
        images, labels = f"{split}-images-idx3-ubyte.gz", f"{split}-labels-idx1-ubyte.gz"
        paths = self.locate(root, [images, labels], download)
        self._set(read_idx(paths[images]), read_idx(paths[labels]), transform, target_transform)


class FashionMNIST(MNIST):
    """Zalando's clothing images: 60,000 train and 10,000 test, 28x28 greyscale, 10 classes."""
    name = "fashion-mnist"
    folder = "fashion-mnist"
    other_folders = ("01-digits/fashion-mnist", "FashionMNIST/raw")
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    resources = _idx_files(
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
         "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
        [
            ("train-images-idx3-ubyte.gz", ["3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"]),
            ("train-labels-idx1-ubyte.gz", ["a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"]),
            ("t10k-images-idx3-ubyte.gz", ["346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"]),
            ("t10k-labels-idx1-ubyte.gz", ["67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"]),
        ])


BUNDLED_DIR = Path(__file__).resolve().parent.parent / "bundled"


class BundledMNIST(_IDXImages):
    """12,000 real MNIST digits shipped inside lamina (10,000 train, 2,000 test); see bundled/README.md.

    >>> ds = BundledMNIST(train=True, transform=transforms.ToTensor())   # no download, no data root
    """
    name = "mnist-bundled"
    classes = MNIST.classes

    def __init__(self, train: bool = True, transform=None, target_transform=None, root=None, download: bool = False):
        self.train = train
        split = "train" if train else "test"
        try:
            images = read_idx(BUNDLED_DIR / f"{split}-images-idx3-ubyte.xz")
            labels = read_idx(BUNDLED_DIR / f"{split}-labels-idx1-ubyte.xz")
        except FileNotFoundError:
            raise DataError(f"mnist-bundled: the bundled files are missing from {BUNDLED_DIR}; "
                            f"reinstall lamina (they ship as package data)") from None
        self._set(images, labels, transform, target_transform)

    @classmethod
    def find(cls, root=None, names=None):
        return BUNDLED_DIR if (BUNDLED_DIR / "train-images-idx3-ubyte.xz").is_file() else None
