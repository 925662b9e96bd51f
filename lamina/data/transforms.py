"""Image transforms, composable like torchvision's: ToTensor, Normalize, Resize, crops, flips, rotation.

An image may be a PIL image, a NumPy array laid out (H, W) or (H, W, C) as decoded images
are, or a lamina Tensor laid out (..., C, H, W) as ToTensor returns. Each transform gives
back the same kind. Random transforms draw from `generator` if given, else from the
DataLoader's per-batch stream, else from lamina's global generator, so a seed fixes them.
Pillow is imported only when an image has to be resampled (resize, rotate) or decoded.

>>> t = Compose([RandomCrop(28, padding=2), ToTensor(), Normalize((0.1307,), (0.3081,))])
"""
from __future__ import annotations

import math
import numbers
import sys
from typing import Callable, Sequence

import numpy as np

from .. import backend
from ..creation import Generator
from ..tensor import Tensor
from ._random import rng


class InterpolationMode:
    """Resampling filters, named as in torchvision (plain strings work too)."""
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def _pil():
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - pillow is an extra
        raise ImportError("lamina.data.transforms: resizing, rotating and decoding images needs Pillow: "
                          "pip install pillow (or pip install 'lamina[images]')") from e
    return Image


def _is_pil(img) -> bool:
    mod = sys.modules.get("PIL.Image")  # never import PIL just to ask
    return mod is not None and isinstance(img, mod.Image)


def _filter(name):
    Image = _pil()
    name = str(getattr(name, "value", name)).lower()
    try:
        return getattr(Image.Resampling, name.upper())
    except AttributeError:
        raise ValueError(f"interpolation: unknown mode {name!r}; expected one of nearest, bilinear, bicubic, "
                         f"box, hamming, lanczos") from None


# ---- working on arrays with H, W first ----------------------------------------------------

def _as_hw(img, op: str):
    """A non-PIL image as an array with H, W as its first two axes, and how to turn it back."""
    if isinstance(img, Tensor):
        a = img.detach().numpy() if img.requires_grad else img.numpy()
        if a.ndim < 2:
            raise ValueError(f"{op}: expected a tensor image (..., C, H, W), got shape {img.shape}")
        return np.moveaxis(a, (-2, -1), (0, 1)), \
            lambda out: Tensor._make(np.ascontiguousarray(np.moveaxis(out, (0, 1), (-2, -1))), None)
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"{op}: expected an array image (H, W) or (H, W, C), got shape {img.shape}")
        return img, lambda out: out
    raise TypeError(f"{op}: expected a PIL image, an (H, W[, C]) ndarray or a (..., C, H, W) Tensor, "
                    f"got {type(img).__name__}")


def _cast_like(out: np.ndarray, dtype) -> np.ndarray:
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(dtype)
    if dtype.kind == "b":
        return out > 0.5
    return out.astype(dtype, copy=False)


def _per_plane(a: np.ndarray, fn: Callable, fill=0) -> np.ndarray:
    """Apply `fn(PIL 'F' image, fill)` to every 2-D plane of an (H, W, ...) array."""
    Image = _pil()
    h, w = a.shape[:2]
    planes = a.reshape(h, w, -1).astype(np.float32)
    fills = _fills(fill, planes.shape[2])
    outs = [np.asarray(fn(Image.fromarray(np.ascontiguousarray(planes[:, :, c])), fills[c]), dtype=np.float32)
            for c in range(planes.shape[2])]
    out = np.stack(outs, axis=2).reshape(outs[0].shape + a.shape[2:])
    return _cast_like(out, a.dtype)


def _fills(fill, n: int) -> list:
    if fill is None:
        fill = 0
    if isinstance(fill, numbers.Number):
        return [float(fill)] * n
    fill = [float(f) for f in fill]
    if len(fill) == 1:
        return fill * n
    if len(fill) != n:
        raise ValueError(f"fill: got {len(fill)} values for an image with {n} channels")
    return fill


# ---- functional forms ---------------------------------------------------------------------

def get_size(img) -> tuple[int, int]:
    """(height, width) of an image."""
    if _is_pil(img):
        return img.size[1], img.size[0]
    a, _ = _as_hw(img, "get_size")
    return a.shape[0], a.shape[1]


def to_tensor(pic) -> Tensor:
    """PIL image or (H, W[, C]) array -> (C, H, W) Tensor; uint8 is scaled to floats in [0, 1]."""
    if _is_pil(pic):
        a = np.array(pic)
        if pic.mode == "1":
            a = a.astype(np.uint8) * 255
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"ToTensor: expected an array of shape (H, W) or (H, W, C), got {pic.shape}")
        a = pic
    else:
        raise TypeError(f"ToTensor: expected a PIL image or an ndarray, got {type(pic).__name__}")
    if a.ndim == 2:
        a = a[:, :, None]
    a = np.ascontiguousarray(a.transpose(2, 0, 1))  # (C, H, W)
    if a.dtype == np.uint8:
        a = a.astype(backend.get_default_dtype()) / np.float32(255)
        a = a.astype(backend.get_default_dtype(), copy=False)
    return Tensor._make(a, None)


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """(x - mean[c]) / std[c] for each channel c of a (..., C, H, W) float tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Normalize: expected a Tensor (C, H, W), e.g. from ToTensor(), got {type(tensor).__name__}")
    if tensor.ndim < 3 or tensor.dtype.kind != "f":
        raise ValueError(f"Normalize: expected a float tensor (..., C, H, W), got shape {tensor.shape} dtype {tensor.dtype}")
    a = tensor.numpy() if not tensor.requires_grad else tensor.detach().numpy()
    m = np.asarray(mean, dtype=a.dtype).reshape(-1, 1, 1)
    s = np.asarray(std, dtype=a.dtype).reshape(-1, 1, 1)
    if (s == 0).any():
        raise ValueError(f"Normalize: std evaluated to zero after conversion to {a.dtype}, leading to division by zero")
    if m.shape[0] not in (1, a.shape[-3]) or s.shape[0] not in (1, a.shape[-3]):
        raise ValueError(f"Normalize: mean has {m.shape[0]} and std {s.shape[0]} values for {a.shape[-3]} channels")
    return Tensor._make((a - m) / s, None)


def hflip(img):
    """Mirror left to right."""
    if _is_pil(img):
        return img.transpose(_pil().Transpose.FLIP_LEFT_RIGHT)
    a, back = _as_hw(img, "hflip")
    return back(np.ascontiguousarray(a[:, ::-1]))


def vflip(img):
    """Mirror top to bottom."""
    if _is_pil(img):
        return img.transpose(_pil().Transpose.FLIP_TOP_BOTTOM)
    a, back = _as_hw(img, "vflip")
    return back(np.ascontiguousarray(a[::-1]))


def _ltrb(padding) -> tuple[int, int, int, int]:
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return p, p, p, p
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        return padding[0], padding[0], padding[0], padding[0]
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return tuple(padding)
    raise ValueError(f"pad: padding must be an int or 1, 2 or 4 ints (left, top, right, bottom), got {padding}")


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad the borders: an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"pad: padding_mode must be constant, edge, reflect or symmetric, got {padding_mode!r}")
    left, top, right, bottom = _ltrb(padding)
    if _is_pil(img):
        Image = _pil()
        out = pad(np.asarray(img), (left, top, right, bottom), fill, padding_mode)
        return Image.fromarray(out)
    a, back = _as_hw(img, "pad")
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (a.ndim - 2)
    if padding_mode != "constant":
        return back(np.pad(a, widths, mode=padding_mode))
    if isinstance(fill, numbers.Number) or a.ndim == 2:
        f = fill if isinstance(fill, numbers.Number) else _fills(fill, 1)[0]
        return back(np.pad(a, widths, constant_values=f))
    planes = a.reshape(a.shape[0], a.shape[1], -1)
    fills = _fills(fill, planes.shape[2])
    out = np.stack([np.pad(planes[:, :, c], widths[:2], constant_values=fills[c]) for c in range(planes.shape[2])], 2)
    return back(out.reshape(out.shape[:2] + a.shape[2:]).astype(a.dtype, copy=False))


def crop(img, top: int, left: int, height: int, width: int):
    """The region with its top-left corner at (top, left); zeros outside the image."""
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    a, back = _as_hw(img, "crop")
    h, w = a.shape[:2]
    if top < 0 or left < 0 or top + height > h or left + width > w:
        pads = (max(-left, 0), max(-top, 0), max(left + width - w, 0), max(top + height - h, 0))
        a, _ = _as_hw(pad(a, pads), "crop")
        top, left = top + pads[1], left + pads[0]
    return back(np.ascontiguousarray(a[top:top + height, left:left + width]))


def _size2(size, op: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"{op}: size must be an int or (height, width), got {size}")
    return size


def center_crop(img, output_size):
    """The central (h, w) region; an image smaller than that is padded with zeros first."""
    ch, cw = _size2(output_size, "CenterCrop")
    h, w = get_size(img)
    if ch > h or cw > w:
        img = pad(img, [(cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
                        (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0])
        h, w = get_size(img)
    return crop(img, int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0)), ch, cw)


def _resized_hw(h: int, w: int, size, max_size: int | None) -> tuple[int, int]:
    if isinstance(size, numbers.Number) or len(size) == 1:
        s = int(size if isinstance(size, numbers.Number) else size[0])
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = s, int(s * long / short)
        if max_size is not None:
            if max_size <= s:
                raise ValueError(f"Resize: max_size {max_size} must be larger than size {s}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if max_size is not None:
        raise ValueError("Resize: max_size is only allowed when size is a single int")
    return _size2(size, "Resize")


def resize(img, size, interpolation: str = "bilinear", max_size: int | None = None, antialias: bool = True):
    """Resize to (h, w), or an int: the shorter side becomes `size`, keeping the aspect ratio."""
    h, w = get_size(img)
    oh, ow = _resized_hw(h, w, size, max_size)
    if (oh, ow) == (h, w):
        return img
    flt = _filter(interpolation)
    if _is_pil(img):
        return img.resize((ow, oh), flt)
    a, back = _as_hw(img, "resize")
    return back(_per_plane(a, lambda p, _: p.resize((ow, oh), flt)))


def resized_crop(img, top: int, left: int, height: int, width: int, size, interpolation: str = "bilinear"):
    """crop, then resize to `size`."""
    return resize(crop(img, top, left, height, width), _size2(size, "resized_crop"), interpolation)


def rotate(img, angle: float, interpolation: str = "nearest", expand: bool = False, center=None, fill=0):
    """Rotate counter-clockwise by `angle` degrees about the centre (or `center`, as (x, y))."""
    flt = _filter(interpolation)
    if _is_pil(img):
        bands = len(img.getbands())
        f = _fills(fill, bands)
        fillcolor = (f[0] if bands == 1 else tuple(f))
        if img.mode not in ("F", "I"):
            fillcolor = (int(fillcolor) if bands == 1 else tuple(int(v) for v in fillcolor))
        return img.rotate(angle, flt, expand=expand, center=center, fillcolor=fillcolor)
    a, back = _as_hw(img, "rotate")
    return back(_per_plane(a, lambda p, f: p.rotate(angle, flt, expand=expand, center=center, fillcolor=f), fill))


# ---- transform objects --------------------------------------------------------------------

class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        body = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class Lambda:
    """A user function as a transform."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def __call__(self, img):
        return self.fn(img)


class ToTensor:
    """PIL image or (H, W[, C]) array -> (C, H, W) Tensor; uint8 becomes float32 in [0, 1]."""

    def __call__(self, pic):
        return to_tensor(pic)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """Per-channel (x - mean) / std on a (..., C, H, W) tensor."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        self.mean, self.std = tuple(mean), tuple(std)

    def __call__(self, tensor):
        return normalize(tensor, self.mean, self.std)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Resize:
    """Resize to (h, w), or make the shorter side `size` (an int) keeping the aspect ratio."""

    def __init__(self, size, interpolation: str = "bilinear", max_size: int | None = None, antialias: bool = True):
        self.size, self.interpolation, self.max_size = size, interpolation, max_size

    def __call__(self, img):
        return resize(img, self.size, self.interpolation, self.max_size)

    def __repr__(self):
        return f"Resize(size={self.size}, interpolation={self.interpolation})"


class CenterCrop:
    """The central (h, w) region (an int gives a square)."""

    def __init__(self, size):
        self.size = _size2(size, "CenterCrop")

    def __call__(self, img):
        return center_crop(img, self.size)

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


class RandomCrop:
    """A random (h, w) region, after optional padding of the borders.

    >>> RandomCrop(32, padding=4)   # the usual CIFAR augmentation
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0, padding_mode: str = "constant",
                 generator: Generator | None = None):
        self.size = _size2(size, "RandomCrop")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode
        self.generator = generator

    def get_params(self, img, output_size) -> tuple[int, int, int, int]:
        h, w = get_size(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if (h, w) == (th, tw):
            return 0, 0, h, w
        r = rng(self.generator)
        return int(r.integers(0, h - th + 1)), int(r.integers(0, w - tw + 1)), th, tw

    def __call__(self, img):
        if self.padding is not None:
            img = pad(img, self.padding, self.fill, self.padding_mode)
        h, w = get_size(img)
        th, tw = self.size
        if self.pad_if_needed and w < tw:
            img = pad(img, [tw - w, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and h < th:
            img = pad(img, [0, th - h], self.fill, self.padding_mode)
        return crop(img, *self.get_params(img, self.size))

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left to right with probability p."""

    def __init__(self, p: float = 0.5, generator: Generator | None = None):
        self.p, self.generator = p, generator

    def __call__(self, img):
        return hflip(img) if rng(self.generator).random() < self.p else img

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class RandomResizedCrop:
    """A crop of random area (a `scale` fraction) and aspect `ratio`, resized to `size` (Inception-style)."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation: str = "bilinear",
                 antialias: bool = True, generator: Generator | None = None):
        self.size = _size2(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomResizedCrop: scale and ratio should be (min, max), got {scale} and {ratio}")
        self.scale, self.ratio, self.interpolation, self.generator = scale, ratio, interpolation, generator

    def get_params(self, img) -> tuple[int, int, int, int]:
        h, w = get_size(img)
        area, r = h * w, rng(self.generator)
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target_area = area * r.uniform(self.scale[0], self.scale[1])
            aspect = math.exp(r.uniform(*log_ratio))
            cw = int(round(math.sqrt(target_area * aspect)))
            ch = int(round(math.sqrt(target_area / aspect)))
            if 0 < cw <= w and 0 < ch <= h:
                return int(r.integers(0, h - ch + 1)), int(r.integers(0, w - cw + 1)), ch, cw
        # Fallback: the largest central crop within the ratio range.
        in_ratio = w / h
        if in_ratio < min(self.ratio):
            cw, ch = w, int(round(w / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            ch, cw = h, int(round(h * max(self.ratio)))
        else:
            cw, ch = w, h
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def __call__(self, img):
        return resized_crop(img, *self.get_params(img), self.size, self.interpolation)

    def __repr__(self):
        return f"RandomResizedCrop(size={self.size}, scale={self.scale}, ratio={self.ratio})"


class RandomRotation:
    """Rotate by an angle drawn uniformly from (-degrees, degrees) or (min, max)."""

    def __init__(self, degrees, interpolation: str = "nearest", expand: bool = False, center=None, fill=0,
                 generator: Generator | None = None):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(f"RandomRotation: a single degrees value must be positive, got {degrees}")
            degrees = (-degrees, degrees)
        if len(degrees) != 2:
            raise ValueError(f"RandomRotation: degrees must be a number or (min, max), got {degrees}")
        self.degrees = (float(degrees[0]), float(degrees[1]))
        self.interpolation, self.expand, self.center, self.fill, self.generator = interpolation, expand, center, fill, generator

    def __call__(self, img):
        angle = float(rng(self.generator).uniform(*self.degrees))
        return rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def __repr__(self):
        return f"RandomRotation(degrees={self.degrees})"


__all__ = [
    "Compose", "Lambda", "ToTensor", "Normalize", "Resize", "CenterCrop", "RandomCrop", "RandomHorizontalFlip",
    "RandomResizedCrop", "RandomRotation", "InterpolationMode",
    "to_tensor", "normalize", "hflip", "vflip", "pad", "crop", "center_crop", "resize", "resized_crop", "rotate",
    "get_size",
]
