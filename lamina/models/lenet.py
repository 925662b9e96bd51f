"""Small convolutional image classifiers: the classic LeNet-5 and a LeNet-style CNN with BatchNorm.

>>> model = SmallCNN(in_channels=1, num_classes=10, image_size=28)
>>> logits = model(images)             # images (B, 1, 28, 28) -> (B, 10)
"""
from __future__ import annotations

from .. import nn
from ..tensor import Tensor


class LeNet5(nn.Module):
    """LeCun et al. (1998): two 5x5 conv + pool stages and three dense layers, for 28x28 inputs."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # (B, 6, 14, 14)
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),                     # (B, 16, 5, 5)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


class SmallCNN(nn.Module):
    """conv-BN-ReLU-pool stages, then a dropout-regularised dense head.

    Each stage keeps the spatial size through its convolution (padding k // 2) and halves it
    by 2x2 max pooling, so an image_size x image_size input reaches the head as
    channels[-1] x (image_size >> len(channels))^2 features. The conv layers have no bias:
    BatchNorm's shift would cancel it.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, channels: tuple[int, ...] = (16, 32),
                 kernel_size: int = 5, hidden: int = 128, dropout: float = 0.3, image_size: int = 28):
        super().__init__()
        stages: list[nn.Module] = []
        c = in_channels
        for out in channels:
            stages += [nn.Conv2d(c, out, kernel_size, padding=kernel_size // 2, bias=False), nn.BatchNorm2d(out),
                       nn.ReLU(), nn.MaxPool2d(2)]  # (B, out, H/2, W/2)
            c = out
        side = image_size
        for _ in channels:
            side //= 2
        self.features = nn.Sequential(*stages)
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (B, c * side * side)
            nn.Linear(c * side * side, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )
        self.image_size, self.in_channels = image_size, in_channels

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
