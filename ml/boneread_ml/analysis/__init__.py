"""Analyses of generated data (not part of the product path)."""
