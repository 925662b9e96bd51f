"""ImageFolder: a folder of class sub-folders of images (PNG, JPEG, PGM, ...), decoded by Pillow."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ..dataset import Dataset
from ._files import DataError, resolve_path

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def pil_loader(path: str, mode: str | None = "RGB"):
    """Open an image with Pillow and convert it to `mode` (None keeps the file's own mode)."""
    from PIL import Image  # Pillow only when an image is actually decoded
    with open(path, "rb") as f:
        img = Image.open(f)
        img.load()
    return img.convert(mode) if mode is not None and img.mode != mode else img


class ImageFolder(Dataset):
    """Images in `root/<class>/<file>`: classes are the sorted sub-folder names, items are
    (image, class index). Images are PIL images (converted to `mode`, RGB by default).

    >>> ds = ImageFolder("02-color-images/cifar10-test-subset", transform=transforms.ToTensor())
    """
    name = "image-folder"

    def __init__(self, root, transform: Callable | None = None, target_transform: Callable | None = None,
                 loader: Callable | None = None, is_valid_file: Callable | None = None,
                 extensions=IMG_EXTENSIONS, mode: str | None = "RGB", data_root=None):
        self.root = str(resolve_path(root, self.name, data_root, kind="folder"))
        self.transform, self.target_transform = transform, target_transform
        self.loader = loader or (lambda p: pil_loader(p, mode))
        valid = is_valid_file or (lambda p: p.lower().endswith(tuple(extensions)))
        self.classes = sorted(e.name for e in os.scandir(self.root) if e.is_dir() and not e.name.startswith("."))
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.samples = []
        for c in self.classes:
            for dirpath, _, files in sorted(os.walk(Path(self.root) / c, followlinks=True)):
                self.samples += [(os.path.join(dirpath, f), self.class_to_idx[c]) for f in sorted(files)
                                 if valid(os.path.join(dirpath, f))]
        if not self.samples:
            raise DataError(f"image-folder: no images found in class sub-folders of {self.root}; expected "
                            f"<root>/<class>/<image> with extensions {', '.join(extensions)}")
        self.targets = [t for _, t in self.samples]
        self.imgs = self.samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        try:
            img = self.loader(path)
        except OSError as e:
            raise DataError(f"image-folder: can't decode {path}: {e}") from None
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
