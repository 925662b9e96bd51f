"""Datasets on real files (../shared/data when present), synthetic files in tmp_path, the
bundled MNIST subset and the registry. Never touches the network."""
import gzip
import io
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina.data import DataLoader
from lamina.data import transforms as T
from lamina.data.datasets import (
    CIFAR10, MNIST, BundledMNIST, ChecksumError, CSVDataset, DataError, DataNotFoundError, FashionMNIST,
    ImageFolder, TextFile, get_dataset, list_datasets, sha256_of,
)
from lamina.data.datasets import _files

from helpers import SHARED_DATA as SHARED  # noqa: E402
MNIST_DIR = SHARED / "01-digits" / "mnist"
CIFAR_SUBSET = SHARED / "02-color-images" / "cifar10-test-subset"
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="../shared/data MNIST not present")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Keep the checksum cache and the default data root inside tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("LAMINA_DATA", raising=False)
    monkeypatch.setattr(_files, "_verified", {})

    def no_network(*a, **k):
        raise AssertionError("tests must not touch the network")
    monkeypatch.setattr(urllib.request, "urlopen", no_network)


def plain_root(tmp_path, names=None):
    """A plain layout <tmp>/mnist/*.gz made of symlinks to the shared files."""
    d = tmp_path / "root" / "mnist"
    d.mkdir(parents=True)
    for f in MNIST_DIR.iterdir():
        if names is None or f.name in names:
            (d / f.name).symlink_to(f)
    return tmp_path / "root"


# ---- MNIST ---------------------------------------------------------------------------------

@needs_mnist
def test_mnist_shared_layout():
    train = MNIST(root=SHARED, train=True)
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert len(train) == 60000 and train.targets[:5].tolist() == [5, 0, 4, 1, 9]
    assert abs(train.data.float().mean().item() - 33.318) < 1e-3
    test = MNIST(root=SHARED, train=False, transform=T.ToTensor())
    x, y = test[0]
    assert len(test) == 10000 and x.shape == (1, 28, 28) and y == 7 and 0 <= x.numpy().min() <= x.numpy().max() <= 1
    assert np.bincount(test.targets).tolist()[:3] == [980, 1135, 1032]


@needs_mnist
def test_mnist_plain_layout_and_env(tmp_path, monkeypatch):
    root = plain_root(tmp_path)
    assert len(MNIST(root=root, train=False)) == 10000
    monkeypatch.setenv("LAMINA_DATA", str(root))
    ds = MNIST(train=False)
    assert len(ds) == 10000 and MNIST.find() == root / "mnist"
    monkeypatch.setenv("LAMINA_DATA", str(SHARED))
    assert MNIST.find() == MNIST_DIR


@needs_mnist
def test_mnist_in_a_loader():
    ds = MNIST(root=SHARED, train=False, transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]))
    x, y = next(iter(DataLoader(ds, batch_size=32, shuffle=True, generator=lamina.Generator().manual_seed(0))))
    assert x.shape == (32, 1, 28, 28) and x.dtype == lamina.float32 and y.shape == (32,) and y.dtype == lamina.int64


def test_missing_data_error(tmp_path):
    with pytest.raises(DataNotFoundError) as e:
        MNIST(root=tmp_path, train=False)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("mnist: t10k-images-idx3-ubyte.gz not found")
    assert str(tmp_path / "mnist") in msg and str(tmp_path / "01-digits" / "mnist") in msg and "download=True" in msg
    with pytest.raises(FileNotFoundError, match="fashion-mnist"):
        FashionMNIST(root=tmp_path)


@needs_mnist
def test_corrupt_file_error(tmp_path):
    root = plain_root(tmp_path, {"t10k-images-idx3-ubyte.gz"})
    (root / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"not mnist"))
    with pytest.raises(ChecksumError) as e:
        MNIST(root=root, train=False)
    msg = str(e.value)
    assert "\n" not in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6" in msg


@needs_mnist
def test_shared_reggzipped_train_images_verify():
    # The shared copy of train-images differs from LeCun's file; both digests are accepted.
    spec = next(s for s in MNIST.resources if s.name == "train-images-idx3-ubyte.gz")
    assert sha256_of(MNIST_DIR / spec.name) in spec.sha256
    assert "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609" in spec.sha256
    assert spec.urls[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz"


def test_checksum_cached_while_the_file_is_unchanged(tmp_path, monkeypatch):
    f = tmp_path / "x.bin"
    f.write_bytes(b"hello")
    digest = sha256_of(f)
    assert digest == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert (tmp_path / "cache" / "lamina" / "verified-sha256.json").is_file()
    monkeypatch.setattr(_files, "_verified", {})  # a new process: the cache is read from disk

    def boom(*a):
        raise AssertionError("hashed again")
    monkeypatch.setattr(_files.hashlib, "sha256", boom)
    assert sha256_of(f) == digest
    f.write_bytes(b"hellO")
    os.utime(f, ns=(1, 1))
    with pytest.raises(AssertionError, match="hashed again"):
        sha256_of(f)


@pytest.mark.parametrize("how", ["in place", "renamed over"])
def test_checksum_cache_sees_a_same_size_replacement_with_its_mtime_restored(tmp_path, how):
    """(size, mtime) alone is not enough: a copy tool or a user can restore the mtime of a
    replaced file. The cache is keyed on the inode and ctime too, which no one can set back."""
    f = tmp_path / "x.bin"
    f.write_bytes(b"hello")
    before = f.stat()
    assert sha256_of(f) == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    if how == "in place":
        time.sleep(0.05)  # file times tick by the kernel's clock tick (up to 10 ms), not by the ns
        f.write_bytes(b"hellO")  # same inode, same size
    else:
        (tmp_path / "new.bin").write_bytes(b"hellO")
        os.replace(tmp_path / "new.bin", f)  # a new inode
    os.utime(f, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = f.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert sha256_of(f) == "04a6f55face2f46be8c23f627d539827615851e10751b63ec59db6d2c706b770"  # of b"hellO"


@needs_mnist
def test_download_fetches_and_verifies(tmp_path, monkeypatch):
    """download=True with urlopen served from local files: no network, same code path."""
    def fake_urlopen(url, timeout=None):
        return io.BytesIO((MNIST_DIR / url.rsplit("/", 1)[1]).read_bytes())
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    ds = MNIST(root=tmp_path, train=False, download=True)
    assert len(ds) == 10000 and (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: io.BytesIO(b"junk"))
    with pytest.raises(ChecksumError, match="t10k-images.*expected 8d422c7b"):
        MNIST(root=tmp_path / "other", train=False, download=True)
    assert not list((tmp_path / "other" / "mnist").glob("*.part"))


# ---- CIFAR-10 binary -----------------------------------------------------------------------

def test_cifar10_binary(tmp_path):
    d = tmp_path / "cifar10"
    d.mkdir()
    rec = np.zeros((10000, 3073), np.uint8)
    rec[:, 0] = np.arange(10000) % 10
    rec[1, 1:1025] = 200           # record 1: red plane
    rec[2, 1 + 1024 * 2 + 33] = 77  # record 2: blue at row 1, col 1
    rec.tofile(d / "test_batch.bin")
    ds = CIFAR10(root=tmp_path, train=False)
    assert ds.data.shape == (10000, 32, 32, 3) and len(ds) == 10000 and ds.targets[:3].tolist() == [0, 1, 2]
    img, label = ds[1]
    assert label == 1 and (img[:, :, 0] == 200).all() and img[:, :, 1:].max() == 0
    assert ds[2][0][1, 1, 2] == 77 and ds.classes[1] == "automobile"
    x, _ = CIFAR10(root=tmp_path, train=False, transform=T.ToTensor())[1]
    assert x.shape == (3, 32, 32)
    rec[:10].tofile(d / "test_batch.bin")  # truncated: caught by the size check
    with pytest.raises(ChecksumError, match="test_batch.bin.*30730000"):
        CIFAR10(root=tmp_path, train=False)
    with pytest.raises(DataNotFoundError, match="cifar10: data_batch_1.bin not found"):
        CIFAR10(root=tmp_path, train=True)
    assert CIFAR10.archive.sha256 == ("c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",)


# ---- ImageFolder ---------------------------------------------------------------------------

@pytest.mark.skipif(not CIFAR_SUBSET.is_dir(), reason="../shared/data CIFAR subset not present")
def test_image_folder_cifar_subset():
    ds = ImageFolder(CIFAR_SUBSET)
    assert len(ds) == 1000 and ds.classes == sorted(ds.classes) and len(ds.classes) == 10
    assert ds.classes[0] == "airplane" and ds.samples[0][1] == 0 and ds.targets.count(9) == 100
    img, y = ds[150]
    assert img.size == (32, 32) and img.mode == "RGB" and y == 1
    ds = ImageFolder(CIFAR_SUBSET, transform=T.Compose([T.RandomCrop(32, padding=4), T.ToTensor()]))
    x, y = next(iter(DataLoader(ds, batch_size=8, shuffle=True, num_workers=2)))
    assert x.shape == (8, 3, 32, 32) and y.shape == (8,)
    rel = ImageFolder("02-color-images/cifar10-test-subset", data_root=SHARED)  # relative to the data root
    assert len(rel) == 1000


def test_image_folder_png_pgm(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    for cls, ext in (("b", "png"), ("a", "pgm"), ("c", "jpg")):
        (tmp_path / cls).mkdir()
        for i in range(2):
            Image.fromarray(np.full((5, 4), 10 * i, np.uint8)).save(tmp_path / cls / f"{i}.{ext}")
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    ds = ImageFolder(tmp_path, mode="L")
    assert ds.classes == ["a", "b", "c"] and len(ds) == 6 and [t for _, t in ds.samples] == [0, 0, 1, 1, 2, 2]
    img, y = ds[3]
    assert img.mode == "L" and img.size == (4, 5) and np.asarray(img).max() == 10 and y == 1
    assert ImageFolder(tmp_path)[0][0].mode == "RGB"
    with pytest.raises(DataNotFoundError, match="image-folder"):
        ImageFolder(tmp_path / "nope")
    (tmp_path / "empty" / "x").mkdir(parents=True)
    with pytest.raises(DataError, match="no images"):
        ImageFolder(tmp_path / "empty")


# ---- tables and text -----------------------------------------------------------------------

def test_csv_and_tsv(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("a,b,label\n1,2.5,cat\n3,4,dog\n5,6,cat\n")
    ds = CSVDataset(f, target="label")
    assert ds.classes == ["cat", "dog"] and ds.feature_names == ["a", "b"] and len(ds) == 3
    x, y = ds[1]
    assert x.dtype == np.float32 and x.tolist() == [3.0, 4.0] and y == 1
    tsv = tmp_path / "t.tsv"
    tsv.write_text("x\ty\n1\t0\n2\t1\n")
    ds = CSVDataset(tsv)
    assert ds.targets.dtype == np.int64 and ds[1][1] == 1
    ds = CSVDataset(tsv, target=None)
    assert ds[0].tolist() == [1.0, 0.0]
    reg = CSVDataset(f, target="b", features=["a"])
    assert reg.targets.dtype == np.float32 and reg[0][1] == 2.5
    with pytest.raises(DataError, match="'label'.*not numeric"):
        CSVDataset(f, target="a")
    with pytest.raises(DataError, match="no column 'zz'"):
        CSVDataset(f, target="zz")


def test_text_file(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("hello world\nsecond line\n")
    ds = TextFile(f, block_size=4)
    x, y = ds[0]
    assert ds.decode(x) == "hell" and ds.decode(y) == "ello" and len(ds) == len("hello world\nsecond line\n") - 4
    assert ds.decode(ds.encode("low")) == "low"
    assert TextFile(f)[0] == ds.stoi["h"]
    lines = TextFile(f, level="line")
    assert len(lines) == 2 and lines[1] == "second line"
    xb, yb = next(iter(DataLoader(ds, batch_size=3)))
    assert xb.shape == (3, 4) and xb.dtype == lamina.int64


# ---- bundled data, registry, imports -------------------------------------------------------

def test_bundled_mnist():
    train, test = BundledMNIST(train=True), BundledMNIST(train=False)
    assert train.data.shape == (10000, 28, 28) and test.data.shape == (2000, 28, 28)
    assert train.data.dtype == np.uint8 and set(np.unique(train.targets)) == set(range(10))
    assert np.bincount(train.targets).min() > 800 and np.bincount(test.targets).min() > 150
    assert 30 < train.data.float().mean().item() < 37
    x, y = BundledMNIST(train=False, transform=T.ToTensor())[0]
    assert x.shape == (1, 28, 28) and 0 <= y <= 9
    size = sum(p.stat().st_size for p in (Path(lamina.data.datasets.mnist.BUNDLED_DIR)).iterdir())
    assert size <= 3 * 1024 * 1024
    assert get_dataset("mnist-bundled") is BundledMNIST


@needs_mnist
def test_bundled_digits_are_real_mnist():
    full = MNIST(root=SHARED, train=False)
    b = BundledMNIST(train=False)
    rng = np.random.default_rng(0)
    rng.choice(60000, 10000, replace=False)  # the train draw comes first (see bundled/README.md)
    idx = np.sort(rng.choice(10000, 2000, replace=False))
    assert np.array_equal(full.data[idx], b.data) and np.array_equal(full.targets[idx], b.targets)


def test_registry(tmp_path):
    for name in ("mnist", "fashion-mnist", "cifar10", "image-folder", "csv", "text", "mnist-bundled"):
        assert get_dataset(name).name == name
    with pytest.raises(DataError, match="unknown dataset 'nope'"):
        get_dataset("nope")
    info = {i.name: i for i in list_datasets(tmp_path)}
    assert info["mnist"].present is False and info["mnist-bundled"].present is True
    assert info["image-folder"].present is None and info["cifar10"].description
    if MNIST_DIR.is_dir():
        shared = {i.name: i for i in list_datasets(SHARED)}
        assert shared["mnist"].present and shared["mnist"].location == str(MNIST_DIR)


def test_import_is_light():
    code = ("import sys, lamina, lamina.data, lamina.data.datasets, lamina.data.transforms; "
            "print('PIL' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_mnist_data_and_targets_are_tensors_as_torchvision():
    ds = BundledMNIST(train=False)
    assert isinstance(ds.data, lamina.Tensor) and ds.data.dtype == lamina.uint8 and ds.data.ndim == 3
    assert isinstance(ds.targets, lamina.Tensor) and ds.targets.dtype == lamina.int64
    first = ds[0][0]
    ds.data, ds.targets = ds.data[:10], ds.targets[:10]  # the usual way to keep a subset
    assert len(ds) == 10 and np.array_equal(ds[0][0], first)
    with pytest.raises(TypeError, match="data"):
        ds.data = "images"
