"""Differentiable torch mirror of every model in ``equations/``."""
