"""(being written) Spatial layers: 3-D convolution and pooling, unpooling, pixel shuffle, fold/unfold, padding."""
from __future__ import annotations

__all__: list[str] = []
