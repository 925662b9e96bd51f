"""Convolution primitives (placeholder)."""
__all__ = []
