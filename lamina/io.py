"""Checkpoints: `save` and `load` nested dicts/lists of tensors in the safetensors format.

File layout (https://github.com/huggingface/safetensors, written here directly with NumPy):

    8 bytes     N, the header length, unsigned little-endian
    N bytes     JSON header, padded with spaces to a multiple of 8:
                {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
                 "__metadata__": {"lamina": "<JSON of the structure>"}}
    the rest    the tensors' raw little-endian bytes; offsets count from the start of this part

The structure around the tensors (dicts, lists, numbers, strings, None) is kept as JSON in
the metadata, with each tensor replaced by a reference to its name, so a file holds an
optimizer's state_dict as well as a model's. Names are the dotted path of keys
("state.0.exp_avg"), so other safetensors readers see meaningful names too. Files without
lamina's metadata (e.g. Hugging Face weights) load as a flat {name: Tensor} dict.

Anything else (a whole Module, as `torch.save(model, f)` writes) is pickled into one uint8
entry, with its tensors still stored as entries of their own. Nothing is unpickled unless the
caller passes `load(..., weights_only=False)`, as torch requires too: otherwise the header is
JSON, the rest raw numbers, and nothing from the file is ever executed.
"""
from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import struct
import tempfile
import time
from typing import Any

try:
    import fcntl  # locks tell a killed save's temporary file from a live one (POSIX)
except ImportError:  # pragma: no cover - Windows: stale temporary files are left alone
    fcntl = None

import numpy as np

from .backend import CPU, Device, to_device
from .tensor import Tensor

__all__ = ["save", "load", "save_file"]

# safetensors dtype names; BF16 files (common for pretrained weights) load as float32
_DTYPE_NAMES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8, "U8": np.uint8,
                "I16": np.int16, "U16": np.uint16, "I32": np.int32, "U32": np.uint32, "I64": np.int64,
                "U64": np.uint64, "BOOL": np.bool_}
_NAME_OF = {np.dtype(v): k for k, v in _DTYPE_NAMES.items()}
_MAX_HEADER = 100_000_000  # the limit the safetensors library enforces
_STALE_AFTER = 60.0  # seconds without a write before an unlocked temporary file counts as a killed save's

_Path = str | os.PathLike


# ---- save -----------------------------------------------------------------------------------
def save(obj: Any, f) -> None:
    """Write tensors in nested dicts/lists/tuples (with numbers, strings, bools, None) to `f`
    as a safetensors file. `f` is a path, written atomically (a crash leaves either the old
    file or the new one), or an open binary file object (`io.BytesIO`, `open(p, "wb")`),
    written from its current position.

    >>> lamina.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, "ckpt.safetensors")
    """
    stream = hasattr(f, "write")
    path = _name(f)
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, "", arrays, path)
    header, data = _layout(arrays, {"format": "lamina",
                                    "lamina": json.dumps(structure, separators=(",", ":"), allow_nan=False)})
    if stream:
        _write(f, header, data)
    else:
        _atomic_write(path, header, data)


def save_file(tensors: dict, path: _Path, metadata: dict[str, str] | None = None) -> None:
    """A plain safetensors file of {name: tensor}, as the safetensors library's save_file
    writes: no lamina structure, `metadata` (default {"format": "pt"}, which transformers
    asks for) in the header. Written atomically. `load` reads it back as a flat dict."""
    arrays: dict[str, np.ndarray] = {}
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"lamina.save_file: {path}: names must be strings, got {k!r}")
        if not isinstance(v, (Tensor, np.ndarray)):
            raise TypeError(f"lamina.save_file: {path}: {k!r} is a {type(v).__name__}, expected a Tensor or array")
        if _store(v._data if isinstance(v, Tensor) else v, k, arrays, str(path)) != k:
            raise ValueError(f"lamina.save_file: {path}: the name {k!r} is reserved")
    meta = {"format": "pt"} if metadata is None else dict(metadata)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise TypeError(f"lamina.save_file: {path}: metadata must map strings to strings")
    header, data = _layout(arrays, meta)
    _atomic_write(_name(path), header, data)


def _name(f) -> str:
    """A path as a string; a file object by its name, for messages."""
    if hasattr(f, "write") or hasattr(f, "read"):
        return str(getattr(f, "name", None) or f"<{type(f).__name__}>")
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"lamina.save/load: expected a path or a binary file object, got {type(f).__name__}")
    return os.fspath(f)


def _write(f, header: bytes, data: list[np.ndarray]) -> None:
    f.write(header)
    for a in data:
        if a.size:
            f.write(memoryview(a.reshape(-1)).cast("B"))


def _encode(obj, name: str, arrays: dict, path: str):
    """JSON for `obj`; tensors are stored in `arrays` under a unique name and referenced by it.

    Only JSON lists, strings, numbers, booleans and null stand for themselves; every other
    kind is an object with one tag key, so a user's dict can never be mistaken for a tag.
    """
    if isinstance(obj, (Tensor, np.ndarray)) or hasattr(obj, "__cuda_array_interface__"):
        key = _store(obj._data if isinstance(obj, Tensor) else obj, name or "tensor", arrays, path)
        return {"ndarray" if isinstance(obj, np.ndarray) else "tensor": key}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else {"float": repr(float(obj))}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, np.integer)) or isinstance(k, bool):
                raise TypeError(f"lamina.save: {path}: dict keys must be strings or ints, got {k!r} at {name or 'top level'}")
            k = k if isinstance(k, str) else int(k)
            items.append([k, _encode(v, f"{name}.{k}" if name else str(k), arrays, path)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        encoded = [_encode(v, f"{name}.{i}" if name else str(i), arrays, path) for i, v in enumerate(obj)]
        return encoded if isinstance(obj, list) else {"tuple": encoded}
    # Anything else (a whole Module, an argparse.Namespace, ...) is pickled, as torch.save does;
    # the tensors inside it still go to the safetensors part, and only load(weights_only=False)
    # will unpickle it.
    buf = io.BytesIO()
    try:
        _Pickler(buf, arrays, name or "object", path).dump(obj)
    except (pickle.PicklingError, TypeError, AttributeError) as e:
        raise TypeError(f"lamina.save: {path}: can't save the {type(obj).__name__} at {name or 'top level'}: "
                        f"it is not a tensor, container, number or string, and it can't be pickled ({e})") from None
    key = _store(np.frombuffer(buf.getvalue(), np.uint8), f"{name or 'object'}.__pickle__", arrays, path)
    return {"pickle": [key, f"{type(obj).__module__}.{type(obj).__qualname__}"]}


def _store(arr, key: str, arrays: dict, path: str) -> str:
    """Put one array into `arrays` under a name not yet taken (based on `key`); return the name."""
    if key in arrays or key == "__metadata__":  # e.g. keys "a.b" and ("a", "b") flatten alike
        key = next(f"{key}#{i}" for i in range(1, len(arrays) + 2) if f"{key}#{i}" not in arrays)
    arr = to_device(arr, CPU)
    arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)
    if np.dtype(arrays[key].dtype.type) not in _NAME_OF:
        raise TypeError(f"lamina.save: {path}: tensor {key!r} has dtype {arrays[key].dtype}, "
                        f"which safetensors cannot hold")
    return key


class _Pickler(pickle.Pickler):
    """Pickles an object's structure; each tensor in it is stored as a safetensors entry and
    pickled only as a reference to that entry (pickle's persistent ids), as torch.save does."""

    def __init__(self, file, arrays: dict, name: str, path: str):
        super().__init__(file, protocol=4)
        self.arrays, self.name, self.path = arrays, name, path
        self.seen: dict[int, tuple[str, Tensor]] = {}  # one entry per tensor, so tied weights stay tied

    def persistent_id(self, obj):
        if not isinstance(obj, Tensor):
            return None
        if id(obj) not in self.seen:  # (the tensor is kept in `seen`, so its id is not reused meanwhile)
            self.seen[id(obj)] = (_store(obj._data, f"{self.name}.{len(self.seen)}", self.arrays, self.path), obj)
        return ("tensor", self.seen[id(obj)][0], type(obj), obj.requires_grad)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, arrays: dict):
        super().__init__(file)
        self.arrays, self.built = arrays, {}

    def persistent_load(self, pid):
        _, key, cls, requires_grad = pid
        if key not in self.built:
            t = cls.__new__(cls)  # Parameter stays Parameter
            Tensor.__init__(t, self.arrays[key], requires_grad=requires_grad)
            self.built[key] = t
        return self.built[key]


def _layout(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> tuple[bytes, list[np.ndarray]]:
    """The header bytes and the arrays in file order (widest dtypes first, so that every
    tensor starts at an offset its dtype can be read from directly)."""
    order = sorted(arrays, key=lambda k: -arrays[k].dtype.itemsize)  # stable: keeps save order otherwise
    entries, data, offset = {}, [], 0
    for k in order:
        a = arrays[k]
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        entries[k] = {"dtype": _NAME_OF[np.dtype(a.dtype.type)], "shape": list(a.shape),
                      "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        data.append(a)
    entries["__metadata__"] = metadata
    header = json.dumps(entries, separators=(",", ":")).encode("utf-8")
    header += b" " * (-len(header) % 8)  # padded so the data starts 8-byte aligned
    return struct.pack("<Q", len(header)) + header, data


def _atomic_write(path: str, header: bytes, data: list[np.ndarray]) -> None:
    """Write to a temporary file beside `path`, fsync it, then rename it over `path`.

    The temporary file stays locked until it has been renamed, so that the next save can
    remove those that a killed save left behind without touching one still being written.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as e:  # name the file asked for, not the temporary one (e.g. a missing folder)
        why = "the folder does not exist" if not os.path.isdir(directory) else e.strerror
        raise type(e)(e.errno, f"lamina.save: can't write into {directory} ({why})", path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            _write(f, header, data)
            f.flush()
            os.fsync(f.fileno())
            os.chmod(tmp, _file_mode(path))
            os.replace(tmp, path)  # while still locked (closing the file would unlock it)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _remove_stale_temporaries(path)
    try:  # make the rename itself durable; not every platform can open a directory
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _remove_stale_temporaries(path: str) -> None:
    """Delete temporary files of earlier saves to `path` that were killed mid-write.

    A file counts as stale when no process holds its lock (a live save does until its
    rename) and nothing has written to it for a while: the grace period covers the instant
    between a save creating its file and locking it.
    """
    if fcntl is None:
        return
    directory, base = os.path.split(os.path.abspath(path))
    pattern = re.compile(rf"\.{re.escape(base)}\.[a-z0-9_]{{8}}\.tmp")  # what mkstemp names them
    try:
        names = [n for n in os.listdir(directory) if pattern.fullmatch(n)]
    except OSError:
        return
    for name in names:
        tmp = os.path.join(directory, name)
        try:
            fd = os.open(tmp, os.O_RDWR)
        except OSError:  # renamed or removed meanwhile
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if time.time() - os.fstat(fd).st_mtime > _STALE_AFTER and os.path.samestat(os.fstat(fd), os.stat(tmp)):
                os.unlink(tmp)
        except OSError:  # locked: a save in progress; or gone
            pass
        finally:
            os.close(fd)


def _file_mode(path: str) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0o666 minus the umask
    (mkstemp's own 0o600 would surprise whoever shares the checkpoint)."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# ---- load -----------------------------------------------------------------------------------
def load(f, map_location: str | Device | None = None, weights_only: bool = True) -> Any:
    """Read what `save` wrote (or any safetensors file: then a flat {name: Tensor} dict) from
    a path or an open binary file object (read from its current position).

    Tensors come back with the same dtype, shape and bits, on the CPU or on `map_location`.
    A truncated or corrupt file raises ValueError naming the file. As in torch, an object
    that `save` had to pickle (a whole Module, say) is unpickled only with weights_only=False,
    since unpickling can run any code; by default such a file raises pickle.UnpicklingError.
    """
    path = _name(f)
    device = Device(map_location) if map_location is not None else None
    if hasattr(f, "read"):
        start = f.tell()
        size = f.seek(0, os.SEEK_END) - start
        f.seek(start)
        entries, metadata, begin = _read_header(f, path, size)
        arrays = {k: _read_tensor(f, path, start + begin, k, e) for k, e in entries.items()}
        f.seek(start + size)  # past what was read, as after reading a file to its end
    else:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            entries, metadata, begin = _read_header(fh, path, size)
            arrays = {k: _read_tensor(fh, path, begin, k, e) for k, e in entries.items()}
    if device is not None and device != CPU:
        arrays = {k: to_device(a, device) for k, a in arrays.items()}
    if "lamina" not in metadata:
        return {k: Tensor._make(a, None) for k, a in arrays.items()}
    try:
        return _decode(json.loads(metadata["lamina"]), arrays, path, weights_only)
    except json.JSONDecodeError as e:
        raise _corrupt(path, f"its lamina metadata is not valid JSON ({e})") from None
    except RecursionError:
        raise _corrupt(path, "its lamina metadata is nested too deeply to read") from None


def _corrupt(path: str, why: str) -> ValueError:
    return ValueError(f"lamina.load: {path} is truncated or corrupt: {why}")


def _read_header(f, path: str, size: int) -> tuple[dict, dict, int]:
    """Parse and check the header: (tensor entries, metadata, where the data starts)."""
    if size < 8:
        raise _corrupt(path, f"the file has {size} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > _MAX_HEADER:
        raise _corrupt(path, f"the header length field says {n} bytes, more than the {_MAX_HEADER} allowed")
    if 8 + n > size:
        raise _corrupt(path, f"header says it is {n} bytes, file has {size - 8} after the length field")
    raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _corrupt(path, f"the header is not valid JSON ({e})") from None
    except RecursionError:
        raise _corrupt(path, "the header is nested too deeply to parse") from None
    if not isinstance(header, dict):
        raise _corrupt(path, f"the header is a JSON {type(header).__name__}, expected an object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _corrupt(path, "__metadata__ must map strings to strings")
    spans = []
    for k, e in header.items():
        try:
            dtype, shape, (begin, stop) = e["dtype"], e["shape"], e["data_offsets"]
            ok = isinstance(shape, list) and all(type(d) is int and d >= 0 for d in (*shape, begin, stop))
        except (TypeError, KeyError, ValueError):
            ok = False
        if not ok:
            raise _corrupt(path, f"tensor {k!r} has a malformed header entry {str(e)[:200]} (expected "
                                 "dtype, a shape of non-negative ints and data_offsets [begin, end])")
        if not isinstance(dtype, str) or (dtype not in _DTYPE_NAMES and dtype != "BF16"):
            raise _corrupt(path, f"tensor {k!r} has unknown dtype {str(dtype)[:50]!r}; known: "
                                 f"{', '.join([*_DTYPE_NAMES, 'BF16'])}")
        itemsize = 2 if dtype == "BF16" else np.dtype(_DTYPE_NAMES[dtype]).itemsize
        if stop - begin != math.prod(shape) * itemsize:
            raise _corrupt(path, f"tensor {k!r} of dtype {dtype} and shape {shape} needs "
                                 f"{math.prod(shape) * itemsize} bytes, its offsets span {stop - begin}")
        spans.append((begin, stop, k))
    end, have = max((stop for _, stop, _ in spans), default=0), size - 8 - n
    if end > have:
        raise _corrupt(path, f"header says {end} bytes of tensor data, file has {have}")
    # as the safetensors library requires: the tensors tile the data exactly, in some order
    covered = 0
    for begin, stop, k in sorted(spans):
        if begin != covered:
            raise _corrupt(path, f"tensor {k!r} has data_offsets [{begin}, {stop}], but the tensors before it end "
                                 f"at byte {covered}: tensor data must not overlap or leave gaps")
        covered = stop
    if covered != have:
        raise _corrupt(path, f"the tensors cover {covered} bytes of data, but the file has {have}")
    return header, metadata, 8 + n


def _read_tensor(f, path: str, start: int, name: str, e: dict) -> np.ndarray:
    begin, stop = e["data_offsets"]
    bf16 = e["dtype"] == "BF16"
    arr = np.empty(tuple(e["shape"]), dtype=np.uint16 if bf16 else _DTYPE_NAMES[e["dtype"]])
    if arr.nbytes:
        f.seek(start + begin)
        if f.readinto(memoryview(arr.reshape(-1)).cast("B")) != stop - begin:
            raise _corrupt(path, f"tensor {name!r} is cut short")
    if bf16:  # bfloat16 is the top half of a float32
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    return arr


def _decode(obj, arrays: dict[str, np.ndarray], path: str, weights_only: bool = True):
    """Rebuild the structure that `_encode` wrote."""
    if isinstance(obj, list):
        return [_decode(v, arrays, path, weights_only) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) != 1:
        raise _corrupt(path, f"unexpected object in the lamina metadata: {str(obj)[:80]}")
    (tag, value), = obj.items()
    if tag in ("tensor", "ndarray"):
        if value not in arrays:
            raise _corrupt(path, f"the metadata refers to tensor {value!r}, which the file does not hold")
        return Tensor._make(arrays[value], None) if tag == "tensor" else arrays[value]
    if tag == "dict":
        return {k: _decode(v, arrays, path, weights_only) for k, v in value}
    if tag == "tuple":
        return tuple(_decode(v, arrays, path, weights_only) for v in value)
    if tag == "float":
        return float(value)
    if tag == "pickle":
        key, type_name = value
        if weights_only:
            raise pickle.UnpicklingError(
                f"lamina.load: {path} holds a pickled {type_name}, and unpickling can run any code, so load "
                f"refuses it by default; if you trust this file, pass weights_only=False (a file saved from "
                f"state_dict() instead needs no unpickling)")
        if key not in arrays:
            raise _corrupt(path, f"the metadata refers to pickle {key!r}, which the file does not hold")
        return _Unpickler(io.BytesIO(arrays[key].tobytes()), arrays).load()
    raise _corrupt(path, f"unknown tag {tag!r} in the lamina metadata")
