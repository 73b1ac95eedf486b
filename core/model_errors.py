"""The errors of model look-up, weight handling and loading (``str(err)`` is a user-facing sentence).

Kept apart so that both :mod:`core.weights` and :mod:`core.models` raise them without importing
each other in a cycle; :mod:`core.models` re-exports them.
"""
from __future__ import annotations


class ModelError(RuntimeError):
    """Base error for model lookups and loading; ``str(err)`` is a user-facing sentence."""


class UnknownModel(ModelError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ModelUnavailable(ModelError):
    """Weights are not on this machine and cannot (or may not) be downloaded."""
