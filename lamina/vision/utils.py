"""torchvision.utils' make_grid and save_image: a batch of images laid out in one picture.

PNG files are written here with zlib alone (no Pillow needed); other formats use Pillow.
"""
from __future__ import annotations

import math
import os
import struct
import zlib

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor


def _images(tensor, op: str) -> np.ndarray:
    """(B, C, H, W) float array from a 4-D/3-D/2-D tensor or a list of (C, H, W) tensors."""
    if isinstance(tensor, (list, tuple)):
        if not tensor or not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError(f"{op}: expected a Tensor or a non-empty list of Tensors")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) != 1:
            raise ValueError(f"{op}: every image in the list must have one shape, got {sorted(shapes)}")
        x = np.stack([t.detach().numpy() for t in tensor])
    elif isinstance(tensor, Tensor):
        x = tensor.detach().numpy()
    else:
        raise TypeError(f"{op}: expected a Tensor or a list of Tensors, got {type(tensor).__name__}")
    if x.ndim == 2:  # one (H, W) image
        x = x[None]
    if x.ndim == 3:  # one (C, H, W) image
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"{op}: expected images of shape (B, C, H, W), (C, H, W) or (H, W), got {x.shape}")
    if x.shape[1] == 1:  # greyscale shown as RGB, as torchvision
        x = np.repeat(x, 3, axis=1)
    return x.astype(np.float32) if x.dtype.kind != "f" else x


def _normalize(x: np.ndarray, value_range) -> np.ndarray:
    low, high = (float(x.min()), float(x.max())) if value_range is None else value_range
    return (np.clip(x, low, high) - low) / max(high - low, 1e-5)


@no_grad()
def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False, value_range=None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Lay a batch of images out in rows of `nrow`, `padding` pixels apart: a (C, H', W') Tensor."""
    if value_range is not None and (not isinstance(value_range, (tuple, list)) or len(value_range) != 2):
        raise ValueError(f"make_grid: value_range must be a (min, max) pair, got {value_range!r}")
    x = _images(tensor, "make_grid")
    if normalize:
        x = np.stack([_normalize(im, value_range) for im in x]) if scale_each else _normalize(x, value_range)
    b, c, h, w = x.shape
    if b == 1:
        return Tensor(np.ascontiguousarray(x[0]))
    cols = min(nrow, b)
    rows = math.ceil(b / cols)
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((c, cell_h * rows + padding, cell_w * cols + padding), pad_value, dtype=x.dtype)
    for k in range(b):
        y, xx = divmod(k, cols)
        grid[:, y * cell_h + padding:y * cell_h + padding + h, xx * cell_w + padding:xx * cell_w + padding + w] = x[k]
    return Tensor(grid)


def save_image(tensor, fp, format: str | None = None, **kwargs) -> None:
    """make_grid(tensor, **kwargs), scaled from [0, 1] to 8 bits and written as an image file
    (a path or a binary file object). PNG needs nothing else; other formats need Pillow."""
    grid = make_grid(tensor, **kwargs).numpy()
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)  # (H, W, C)
    name = fp if isinstance(fp, (str, os.PathLike)) else getattr(fp, "name", "")
    fmt = (format or os.path.splitext(os.fspath(name))[1].lstrip(".") or "png").lower()
    if fmt == "png":
        data = png_bytes(pixels)
        if hasattr(fp, "write"):
            fp.write(data)
        else:
            with open(fp, "wb") as f:
                f.write(data)
        return
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"save_image: writing {fmt!r} files needs Pillow (pip install 'lamina[images]'); "
                          "PNG works without it") from None
    Image.fromarray(pixels if pixels.shape[2] != 1 else pixels[..., 0]).save(fp, format=format)


def png_bytes(pixels: np.ndarray) -> bytes:
    """An 8-bit PNG of an (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8 array."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4):
        raise ValueError(f"png_bytes: expected uint8 pixels of shape (H, W, 1|3|4), got {pixels.dtype} {pixels.shape}")
    h, w, c = pixels.shape
    colour = {1: 0, 3: 2, 4: 6}[c]  # greyscale, RGB, RGBA

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    rows = np.concatenate([np.zeros((h, 1), np.uint8), pixels.reshape(h, w * c)], axis=1)  # filter 0 per row
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))
