"""(being written) lamina.linalg: torch.linalg's names, each with a gradient."""
from __future__ import annotations
