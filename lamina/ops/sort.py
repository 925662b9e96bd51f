"""(being written) sort ops. Public functions are listed in __all__; METHODS are also Tensor methods."""
from __future__ import annotations

__all__: list[str] = []
METHODS: list[str] = []
