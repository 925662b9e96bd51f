"""A multi-layer perceptron for flat (or flattened) inputs: [Linear -> ReLU -> Dropout] * n -> Linear.

>>> model = MLP(784, 10, hidden=(256, 128))
>>> logits = model(images)             # images (B, 1, 28, 28) or (B, 784) -> (B, 10)
"""
from __future__ import annotations

from .. import nn
from ..tensor import Tensor


class MLP(nn.Module):
    """Fully connected classifier; the input is flattened after the batch dim."""

    def __init__(self, in_features: int = 784, num_classes: int = 10, hidden: tuple[int, ...] = (256, 128),
                 dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)
        self.in_features = in_features

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (B, *) -> (B, num_classes)
