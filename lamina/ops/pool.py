"""Pooling and resampling primitives (placeholder)."""
__all__ = []
