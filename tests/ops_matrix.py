"""Rows of the op checker (tests/test_ops.py) for lamina/ops/matrix.py: one per exported name."""
OPS = {}
