"""Losses as functions (also in nn.functional) and as modules."""
__all__ = []
