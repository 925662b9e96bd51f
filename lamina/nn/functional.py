"""Composed neural-network functions, used as `import lamina.nn.functional as F`.

Activations, softmax and pad are primitives in lamina.ops and re-exported here so that
`F.relu`, `F.gelu`, `F.pad` read as they do in PyTorch.
"""
from __future__ import annotations

from ..ops import elu, gelu, leaky_relu, log_softmax, one_hot, pad, relu, silu, softmax, softplus  # noqa: F401
from ..ops import sigmoid, tanh  # noqa: F401
