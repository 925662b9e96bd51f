"""Make tests/helpers.py importable from every test folder, and run every test on three of
lamina's threads (lamina.backend.parallel): memory passes and convolutions cut into three
parts however small they are, and every GEMM matrix from backend.empty_rows padded,
however small."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def pass_threads(monkeypatch):
    # Three uneven parts check that every split pass and every part of a convolution touches
    # only its own rows, whatever the machine's core count.
    from lamina import backend
    from lamina.ops import conv
    monkeypatch.setattr(backend, "THREADS", 3)
    monkeypatch.setattr(backend, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(conv, "PART_MIN_FLOPS", 0)
    monkeypatch.setattr(backend, "EMPTY_ROWS_MIN_BYTES", 0)
