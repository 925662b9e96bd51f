"""torchvision.datasets.MNIST over <root>/MNIST/raw/ (unzipped IDX files), never downloading."""
import os

import numpy as np
import torch
from PIL import Image


def _idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


class MNIST(torch.utils.data.Dataset):
    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        split = "train" if train else "t10k"
        raw = os.path.join(root, "MNIST", "raw")
        self.data = torch.from_numpy(_idx(os.path.join(raw, f"{split}-images-idx3-ubyte")).copy())
        self.targets = torch.from_numpy(_idx(os.path.join(raw, f"{split}-labels-idx1-ubyte")).astype(np.int64))
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        img, target = Image.fromarray(self.data[i].numpy(), mode="L"), int(self.targets[i])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
