"""Matrix products and linear-algebra functions under torch's top-level and Tensor names:
trace, kron, tensordot, inner, mv, addmm, baddbmm, addmv, cdist, det, inverse, ... (the
decompositions themselves live in lamina/linalg.py; these are the names torch also exposes
as lamina.<name> and x.<name>()).

Public functions are listed in __all__; METHODS are also Tensor methods.
"""
from __future__ import annotations

__all__: list[str] = []
METHODS: list[str] = []
