"""Type aliases shared by the physics kernels."""

from typing import Any, TypeAlias

F: TypeAlias = Any
"""A float or an ndarray of floats (physics functions accept and return both)."""
