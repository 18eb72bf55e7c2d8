"""What counts as one number in an argument check."""

from __future__ import annotations

from typing import Any, TypeGuard

import numpy as np

__all__ = ["is_real"]


def is_real(value: object) -> TypeGuard[int | float | np.integer[Any] | np.floating[Any]]:
    """Whether `value` is one real number: a Python or NumPy int or float, not a bool.

    NumPy scalars count (values read from a DataFrame are NumPy scalars);
    text, arrays and ``True``/``False`` do not. NaN and infinity do: check
    finiteness where it matters.

    Examples
    --------
    >>> is_real(1.5), is_real(np.int64(3)), is_real(True), is_real("1")
    (True, True, False, False)
    """
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)
