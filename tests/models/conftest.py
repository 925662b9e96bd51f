"""Make benchmarks/ (the PyTorch reference models) importable from tests/models (tests/conftest.py does helpers)."""
import os
import sys

_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(_root, "benchmarks"))
