"""Make tests/helpers.py importable from every test folder, and run every test with memory
passes cut over three threads, however small the arrays (see lamina.backend.split), and
with every GEMM matrix from backend.empty_rows padded, however small."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def pass_threads(monkeypatch):
    # Pass threads are opt-in (LAMINA_THREADS), so by default each pass runs once over all
    # rows. Three uneven parts check that every split pass touches only its own rows.
    from lamina import backend
    monkeypatch.setattr(backend, "PASS_THREADS", 3)
    monkeypatch.setattr(backend, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(backend, "EMPTY_ROWS_MIN_BYTES", 0)
