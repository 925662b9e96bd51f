"""Tables (CSV/TSV) and text files as datasets."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..dataset import Dataset
from ._files import DataError, FileBacked, RemoteFile, resolve_path


def _column(names: list[str], col, path) -> int:
    if isinstance(col, (int, np.integer)):
        if not -len(names) <= col < len(names):
            raise DataError(f"csv: column {col} out of range for {path}, which has {len(names)} columns")
        return int(col) % len(names)
    if col not in names:
        raise DataError(f"csv: no column {col!r} in {path}; its columns are {', '.join(names)}")
    return names.index(col)


class CSVDataset(Dataset):
    """Rows of a CSV or TSV file: items are (features float32 array, target).

    `target` names the target column (a name or index, default the last; None for no target);
    `features` the feature columns (default: all others), which must be numeric. Targets that
    are not numbers become class indices into the sorted `classes`; integer targets become int64,
    others float32 (override with target_dtype). The delimiter is a tab for .tsv/.tab files,
    else a comma.

    >>> ds = CSVDataset("11-timeseries/jbrownlee/airline-passengers.csv", features=[], target="Passengers")
    """
    name = "csv"

    def __init__(self, path, target=-1, features: Sequence | None = None, delimiter: str | None = None,
                 header: bool = True, target_dtype=None, transform: Callable | None = None,
                 target_transform: Callable | None = None, root=None):
        self.path = resolve_path(path, self.name, root)
        if delimiter is None:
            delimiter = "\t" if self.path.suffix.lower() in (".tsv", ".tab") else ","
        with open(self.path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f, delimiter=delimiter) if r]
        if not rows:
            raise DataError(f"csv: {self.path} is empty")
        names = rows[0] if header else [str(i) for i in range(len(rows[0]))]
        rows = rows[1:] if header else rows
        for i, r in enumerate(rows):
            if len(r) != len(names):
                raise DataError(f"csv: {self.path} line {i + 1 + header} has {len(r)} fields, expected {len(names)}")
        t = None if target is None else _column(names, target, self.path)
        if features is None:
            f_cols = [i for i in range(len(names)) if i != t]
        else:
            f_cols = [_column(names, c, self.path) for c in features]
        self.feature_names = [names[i] for i in f_cols]
        self.target_name = None if t is None else names[t]
        self.data = np.zeros((len(rows), len(f_cols)), np.float32)
        for j, c in enumerate(f_cols):
            try:
                self.data[:, j] = [float(r[c]) if r[c].strip() else np.nan for r in rows]
            except ValueError:
                bad = next(r[c] for r in rows if not _is_number(r[c]))
                raise DataError(f"csv: column {names[c]!r} of {self.path} is not numeric (e.g. {bad!r}); "
                                f"choose numeric columns with features=[...]") from None
        self.classes = None
        self.targets = None
        if t is not None:
            values = [r[t] for r in rows]
            if all(_is_number(v) for v in values):
                arr = np.array([float(v) for v in values])
                dtype = target_dtype or (np.int64 if np.all(arr == np.round(arr)) else np.float32)
                self.targets = arr.astype(dtype)
            else:
                self.classes = sorted(set(values))
                idx = {c: i for i, c in enumerate(self.classes)}
                self.targets = np.array([idx[v] for v in values], dtype=target_dtype or np.int64)
        self.transform, self.target_transform = transform, target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        x = self.data[index]
        if self.transform is not None:
            x = self.transform(x)
        if self.targets is None:
            return x
        y = self.targets[index]
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


class TextFile(Dataset):
    """A text file as characters or lines.

    level="char": the text is encoded over its sorted character vocabulary (`vocab`, `encode`,
    `decode`); items are single character ids, or with `block_size` the language-model pairs
    (x, y) = (ids[i : i+block_size], ids[i+1 : i+block_size+1]) as int64 arrays.
    level="line": items are the file's lines (without line endings).

    >>> ds = TextFile("03-text-lm/tinyshakespeare/input.txt", block_size=128); x, y = ds[0]
    """
    name = "text"

    def __init__(self, path, level: str = "char", block_size: int | None = None, encoding: str = "utf-8",
                 vocab: Sequence[str] | None = None, root=None):
        if level not in ("char", "line"):
            raise ValueError(f"TextFile: level must be 'char' or 'line', got {level!r}")
        self.path = resolve_path(path, self.name, root)
        self._setup(Path(self.path).read_text(encoding=encoding), level, block_size, vocab)

    def _setup(self, text: str, level: str, block_size, vocab):
        self.text, self.level, self.block_size = text, level, block_size
        if level == "line":
            self.lines = text.splitlines()
            return
        self.vocab = list(vocab) if vocab is not None else sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.vocab)}
        self.ids = self.encode(text)
        if block_size is not None and len(self.ids) <= block_size:
            raise DataError(f"text: {self.path} has {len(self.ids)} characters, too few for block_size {block_size}")

    def encode(self, s: str) -> np.ndarray:
        """Characters -> int64 ids."""
        try:
            return np.array([self.stoi[c] for c in s], dtype=np.int64)
        except KeyError as e:
            raise ValueError(f"TextFile.encode: character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        """Ids -> string."""
        return "".join(self.vocab[int(i)] for i in np.asarray(ids).reshape(-1))

    def __len__(self) -> int:
        if self.level == "line":
            return len(self.lines)
        return len(self.ids) if self.block_size is None else len(self.ids) - self.block_size

    def __getitem__(self, index: int):
        if self.level == "line":
            return self.lines[index]
        if self.block_size is None:
            return int(self.ids[index])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"TextFile: index {index} out of range for length {len(self)}")
        chunk = self.ids[index:index + self.block_size + 1]
        return chunk[:-1], chunk[1:]


def random_windows(ids: np.ndarray, batch_size: int, block_size: int, rng: np.random.Generator):
    """A language-model batch of random windows: inputs (B, T) and the next ids (B, T) as targets.

    >>> x, y = random_windows(ds.ids[:n], 32, 64, np.random.default_rng(0))
    """
    from ...creation import tensor

    starts = rng.integers(0, len(ids) - block_size - 1, batch_size)
    chunk = ids[starts[:, None] + np.arange(block_size + 1)]  # (B, T + 1)
    return tensor(chunk[:, :-1]), tensor(chunk[:, 1:])


class TinyShakespeare(TextFile, FileBacked):
    """Karpathy's tiny Shakespeare (1,115,394 characters) for character-level language models."""
    name = "tinyshakespeare"
    folder = "tinyshakespeare"
    other_folders = ("03-text-lm/tinyshakespeare",)
    resources = (RemoteFile(
        "input.txt", ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
        ("86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",)),)

    def __init__(self, root=None, level: str = "char", block_size: int | None = None, download: bool = False):
        self.path = self.locate(root, None, download)["input.txt"]
        self._setup(self.path.read_text(encoding="utf-8"), level, block_size, None)
