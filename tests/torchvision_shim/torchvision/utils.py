"""torchvision.utils.save_image: the images side by side in one PNG (a grid, nrow per row)."""
import math

import numpy as np
from PIL import Image


def save_image(tensor, fp, nrow=8, padding=2, normalize=False):
    x = tensor.detach().cpu().float()
    if normalize:
        x = (x - x.min()) / (x.max() - x.min() + 1e-5)
    x = x.clamp(0, 1).numpy()
    n, c, h, w = x.shape
    cols, rows = min(nrow, n), math.ceil(n / nrow)
    grid = np.zeros((c, rows * (h + padding) + padding, cols * (w + padding) + padding), np.float32)
    for i in range(n):
        r, k = divmod(i, cols)
        grid[:, padding + r * (h + padding):padding + r * (h + padding) + h,
             padding + k * (w + padding):padding + k * (w + padding) + w] = x[i]
    Image.fromarray((grid[0] * 255 + 0.5).astype(np.uint8)).save(fp)
