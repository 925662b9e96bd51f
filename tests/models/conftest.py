"""Make tests/helpers.py and benchmarks/ (the PyTorch reference models) importable from tests/models."""
import os
import sys

_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _p in (os.path.join(_root, "tests"), os.path.join(_root, "benchmarks")):
    if _p not in sys.path:
        sys.path.insert(0, _p)
