"""Utilities: gradient clipping and friends (placeholder)."""
