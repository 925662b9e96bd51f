"""Finding, checking and fetching data files under a data root.

A data root is `root=` if given, else $LAMINA_DATA, else ~/.cache/lamina. A dataset's files
may sit in a plain folder (<root>/mnist/) or in the layout of ../shared/data
(<root>/01-digits/mnist/); every known place is searched. Tests never download: fetching
happens only with download=True.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path


class DataError(Exception):
    """A data set can't be used as it is; the message is one line that says how to fix it."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A data set's files are not under any searched folder."""


class ChecksumError(DataError, ValueError):
    """A file's sha256 (or size) is not the one published for it."""


@dataclass(frozen=True)
class RemoteFile:
    """A file a data set needs: where it is published and what its sha256 must be.

    `sha256` lists every accepted digest (e.g. the canonical file and a known re-packaging);
    it is empty when no checksum is published, and then `size` is checked instead.
    """
    name: str
    urls: tuple[str, ...]
    sha256: tuple[str, ...] = ()
    size: int | None = None
    note: str = ""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: `root`, else $LAMINA_DATA, else ~/.cache/lamina."""
    return Path(root or os.environ.get("LAMINA_DATA") or "~/.cache/lamina").expanduser()


def check_root(root: str | os.PathLike, where: str = "--data-root or data.root") -> Path:
    """A data root the user named, if it is an existing folder; a one-line DataError otherwise."""
    p = Path(root).expanduser()
    if p.is_file():
        raise DataError(f"data root {root} is a file, not a folder (from {where}); pass the folder that holds "
                        f"the data sets, e.g. ../shared/data")
    if not p.is_dir():
        raise DataError(f"data root {root} does not exist (from {where}); pass the folder that holds the data "
                        f"sets, e.g. ../shared/data")
    return p


def _cache_file() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "lamina" / "verified-sha256.json"


_verified: dict[str, list] = {}


def sha256_of(path: Path) -> str:
    """The file's sha256, remembered by (inode, ctime, size, mtime) so an unchanged file is hashed once.

    Size and mtime alone are not enough: a replacement of the same size can have its mtime set
    back (os.utime, cp -p, rsync -t). The inode and ctime cannot be set back: rewriting a file
    or setting its mtime moves its ctime, and a file renamed over it has a new inode.
    """
    path = Path(path)
    st = path.stat()
    key, stamp = str(path.resolve()), [st.st_ino, st.st_ctime_ns, st.st_size, st.st_mtime_ns]
    if not _verified:
        try:
            _verified.update(json.loads(_cache_file().read_text()))
        except (OSError, ValueError):
            pass
    hit = _verified.get(key)
    if hit and hit[:-1] == stamp:  # (an entry written before the inode and ctime were kept never matches)
        return hit[-1]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    _verified[key] = stamp + [digest]
    try:  # the cache is a convenience: a read-only home must not stop anyone
        cache = _cache_file()
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(_verified))
        os.replace(tmp, cache)
    except OSError:
        pass
    return digest


def verify(path: Path, spec: RemoteFile, dataset: str) -> None:
    """Raise ChecksumError naming the file and the expected hash unless it matches `spec`."""
    if spec.sha256:
        digest = sha256_of(path)
        if digest not in spec.sha256:
            raise ChecksumError(f"{dataset}: {path} is corrupt or not the published file: sha256 {digest}, "
                                f"expected {' or '.join(spec.sha256)}; delete it and fetch it again "
                                f"(download=True, or from {spec.urls[0]})")
    elif spec.size is not None and path.stat().st_size != spec.size:
        raise ChecksumError(f"{dataset}: {path} is corrupt: {path.stat().st_size} bytes, expected {spec.size} "
                            f"(no sha256 is published for it); delete it and fetch it again (download=True)")


def fetch(spec: RemoteFile, dest: Path, dataset: str) -> Path:
    """Download `spec` to `dest` through a temporary file, checking its sha256 before keeping it."""
    import urllib.error
    import urllib.request  # only when downloading: it pulls in ssl and http

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    errors = []
    for url in spec.urls:
        try:
            h = hashlib.sha256()
            with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    h.update(chunk)
                    f.write(chunk)
        except (urllib.error.URLError, OSError) as e:
            errors.append(f"{url}: {e}")
            continue
        if spec.sha256 and h.hexdigest() not in spec.sha256:
            tmp.unlink(missing_ok=True)
            raise ChecksumError(f"{dataset}: downloaded {url} has sha256 {h.hexdigest()}, expected "
                                f"{' or '.join(spec.sha256)}")
        os.replace(tmp, dest)
        return dest
    tmp.unlink(missing_ok=True)
    raise DataError(f"{dataset}: could not download {spec.name}: {'; '.join(errors)}")


class FileBacked:
    """Mixin for a data set made of known files found under a data root.

    Subclasses set `name` (the registry name), `folder` (the plain folder, where downloads go),
    `other_folders` (other layouts, e.g. ../shared/data's) and `resources` (RemoteFile list).
    """
    name: str = ""
    folder: str = ""
    other_folders: tuple[str, ...] = ()
    resources: tuple[RemoteFile, ...] = ()

    @classmethod
    def search_dirs(cls, root=None) -> list[Path]:
        r = data_root(root)
        return [r / f for f in (cls.folder, *cls.other_folders)] + [r]

    @classmethod
    def find(cls, root=None, names=None) -> Path | None:
        """The first searched folder holding all the files (by name; nothing is hashed)."""
        names = names or [s.name for s in cls.resources]
        for d in cls.search_dirs(root):
            if all((d / n).is_file() for n in names):
                return d
        return None

    @classmethod
    def locate(cls, root=None, names=None, download: bool = False) -> dict[str, Path]:
        """Paths of the named files (default: all), verified; downloads first if asked and missing."""
        specs = [s for s in cls.resources if names is None or s.name in names]
        names = [s.name for s in specs]
        d = cls.find(root, names)
        if d is None and download:
            cls.download(root, names)
            d = cls.find(root, names)
        if d is None:
            dirs = cls.search_dirs(root)
            missing = next(n for n in names if not (dirs[0] / n).is_file())
            raise DataNotFoundError(
                f"{cls.name}: {missing} not found; searched {', '.join(str(p) for p in dirs)}. Put the files in "
                f"one of these folders, point root= or LAMINA_DATA at a folder holding them, or pass download=True "
                f"to fetch them from {specs[0].urls[0].rsplit('/', 1)[0]}/")
        paths = {s.name: d / s.name for s in specs}
        for s in specs:
            verify(paths[s.name], s, cls.name)
        return paths

    @classmethod
    def download(cls, root=None, names=None) -> Path:
        """Fetch the missing files (default: all) into <root>/<folder>/ and return that folder."""
        target = data_root(root) / cls.folder
        for s in cls.resources:
            if (names is None or s.name in names) and not (target / s.name).is_file():
                fetch(s, target / s.name, cls.name)
        return target


def resolve_path(path, dataset: str, root=None, kind: str = "file") -> Path:
    """A user-given path: as given, else relative to the data root. One-line error if neither exists."""
    p = Path(path).expanduser()
    tries = [p] if p.is_absolute() else [p, data_root(root) / p]
    for t in tries:
        if (t.is_dir() if kind == "folder" else t.is_file()):
            return t
    raise DataNotFoundError(f"{dataset}: {kind} {path} not found; searched {', '.join(str(t) for t in tries)}. "
                            f"Pass an existing path (absolute, or relative to the data root set by root= or LAMINA_DATA)")
