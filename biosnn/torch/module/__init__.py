"""The one torch layer template (:class:`Layer`): every registered model's mirror runs through it."""

from .layer import Layer

__all__ = ["Layer"]
