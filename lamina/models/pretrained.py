"""Pretrained checkpoints in Hugging Face's folder layout: config.json beside model.safetensors.

    folder = resolve("path/to/all-MiniLM-L6-v2")    # or a hub name, through huggingface_hub
    config = read_config(folder)                     # config.json as a dict
    weights = read_weights(folder)                   # {key: ndarray}, the checkpoint's own keys
    load_weights(model, mapped, where=folder)        # every key and shape checked, then copied
    save_weights(model, folder, config)              # what transformers' from_pretrained reads

Each model file (bert.py, gpt2.py) maps the checkpoint's key names onto its own and calls
these; the checking, the errors and the file handling live here once. Weights are only ever
read from safetensors: a folder with nothing but a pickled pytorch_model.bin is refused.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..backend import CPU, to_device
from ..io import load, save_file

__all__ = ["CheckpointError", "resolve", "read_config", "read_weights", "load_weights", "save_weights"]

WEIGHTS = "model.safetensors"
INDEX = "model.safetensors.index.json"  # sharded checkpoints: {"weight_map": {key: file}}


class CheckpointError(ValueError):
    """A folder that is not a usable checkpoint, or one that does not fit its model."""


def resolve(name_or_path: str | os.PathLike, need: tuple[str, ...] = ("config.json",)) -> Path:
    """The checkpoint folder: a local folder holding the files in `need`, else a Hugging Face
    hub name ("sentence-transformers/all-MiniLM-L6-v2") fetched by huggingface_hub when it is
    installed and a network is there. Anything else is one CheckpointError saying why."""
    p = Path(name_or_path).expanduser()
    if p.is_dir():
        absent = [n for n in need if not (p / n).is_file()]
        if absent:
            have = ", ".join(sorted(x.name for x in p.iterdir())[:12]) or "nothing"
            raise CheckpointError(f"{p} is not a checkpoint folder: it has no {' or '.join(absent)} (it holds: {have})")
        return p
    if p.exists():
        raise CheckpointError(f"{p} is a file; expected a checkpoint folder holding {', '.join(need)}")
    name = str(name_or_path)
    if name.count("/") != 1 or name.startswith((".", "/", "~")):
        raise CheckpointError(f"{name}: no such folder (and not a hub name of the form owner/model)")
    try:
        import huggingface_hub  # optional: the only path that touches a network
    except ImportError:
        raise CheckpointError(f"{name}: no such folder here; to fetch it from the Hugging Face hub, "
                              f"`pip install huggingface_hub`, or pass a local folder") from None
    try:
        folder = huggingface_hub.snapshot_download(
            name, allow_patterns=["*.json", "*.txt", "*.safetensors", "merges.txt", "vocab.*", "*/*.json"])
    except Exception as e:  # offline, unknown repository, gated model: all one message
        raise CheckpointError(f"{name}: no such folder here, and the hub did not provide it "
                              f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    return resolve(folder, need)


def read_config(folder: str | os.PathLike, name: str = "config.json") -> dict:
    path = Path(folder) / name
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except FileNotFoundError:
        raise CheckpointError(f"{folder} has no {name}") from None
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path} is not valid JSON ({e})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path} holds a JSON {type(config).__name__}, expected an object")
    return config


def read_weights(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every tensor of the checkpoint by its own key, as NumPy arrays (bfloat16 read as float32)."""
    folder = Path(folder)
    if (folder / INDEX).is_file():
        files = sorted(set(read_config(folder, INDEX).get("weight_map", {}).values()))
    elif (folder / WEIGHTS).is_file():
        files = [WEIGHTS]
    elif (folder / "pytorch_model.bin").is_file():
        raise CheckpointError(f"{folder} has only pytorch_model.bin, a pickle, which lamina never reads; "
                              f"convert it to model.safetensors (e.g. with transformers' save_pretrained)")
    else:
        raise CheckpointError(f"{folder} has no {WEIGHTS}")
    weights: dict[str, np.ndarray] = {}
    for name in files:
        flat = load(folder / name)  # a plain safetensors file loads as {key: Tensor}
        weights.update({k: v._data for k, v in flat.items()})
    return weights


def load_weights(model, weights: dict, where: str | os.PathLike = "checkpoint") -> None:
    """Copy `weights` (already renamed to the model's keys) into `model`.

    Every key and shape is checked before anything is copied, so a bad checkpoint leaves the
    model as it was. A key the model holds twice (a tied weight) need be present once.
    Extra keys in `weights` are an error: the model file drops what it knowingly ignores.
    """
    own = model._state_tensors()
    for k in weights:
        if k not in own:
            raise CheckpointError(f"{where}: key {k!r} has no place in {type(model).__name__} "
                                  f"(its keys look like {next(iter(own), '')!r})")
    source: dict[int, str] = {}  # each tensor object -> the checkpoint key it is read from
    for k, t in own.items():
        if k in weights:
            source.setdefault(id(t), k)
    for k, t in own.items():
        if id(t) not in source:
            raise CheckpointError(f"{where}: key {k!r} is missing; expected a tensor of shape {tuple(t.shape)}")
        found = tuple(np.shape(weights[source[id(t)]]))
        if found != tuple(t.shape):
            raise CheckpointError(f"{where}: key {source[id(t)]!r}: expected shape {tuple(t.shape)} "
                                  f"(from its config), found {found}")
    full = {k: weights[source[id(t)]] for k, t in own.items()}
    model.load_state_dict(full)


def save_weights(model, folder: str | os.PathLike, config: dict, rename=None) -> Path:
    """Write config.json and model.safetensors; `rename(key, array)` gives the checkpoint's
    (key, array) for each of the model's, or None to leave one out. A tied weight is written
    once, under its first name, as transformers does (safetensors cannot alias two names)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seen, tensors = set(), {}
    for k, t in model._state_tensors().items():
        if id(t) in seen:
            continue
        seen.add(id(t))
        arr = to_device(t._data, CPU)
        item = (k, arr) if rename is None else rename(k, arr)
        if item is not None:
            tensors[item[0]] = np.ascontiguousarray(item[1])
    save_file(tensors, folder / WEIGHTS)
    tmp = folder / ".config.json.tmp"
    tmp.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, folder / "config.json")
    return folder
