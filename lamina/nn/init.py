"""Parameter initialisers (placeholder)."""
