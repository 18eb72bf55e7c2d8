"""Where the FEATURES columns sit in an input table, and the learned models' basis."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from twinloop.errors import ValidationError
from twinloop.learn.features import FEATURES

__all__ = ["BASIS", "COLUMN_MODES", "COMFORT_TEMPERATURE", "design_matrix", "feature_columns", "feature_index"]

FloatArray = npt.NDArray[np.float64]

COLUMN_MODES = ("auto", "names", "positional")

COMFORT_TEMPERATURE = 294.15
"""Ambient temperature [K] at which a cabin needs neither heating nor cooling."""

#: Terms the learned models regress on when the input carries the FEATURES
#: columns; each is linear in an energy per metre of the road-load form.
BASIS: tuple[str, ...] = (
    "mean_speed",  # B term
    "mean_cubed_speed",  # C term
    "positive_kinetic",
    "negative_kinetic",
    "climb",
    "descent",
    "traction_energy",  # kinetic plus potential energy by phase
    "braking_energy",
    "decel_share",  # road load paid by falling energy: A, B and C terms
    "decel_speed",
    "decel_squared_speed",
    "time_per_distance",  # constant loads: P t / d
    "heating_time_per_distance",  # (T_comfort - T)+ t / d: heat-pump or resistive heating
    "cooling_time_per_distance",  # (T - T_comfort)+ t / d
    "heating_per_distance",  # (T_comfort - T)+ / d: warming a soaked cabin and battery, once a trip
    "cooling_per_distance",  # (T - T_comfort)+ / d
    "stop_fraction",
    "ambient_temperature",  # battery resistance
)


def feature_index(names: Any, n_features: int, columns: str) -> list[int] | None:
    """Positions of the FEATURES columns in the input, or None where it has none.

    Parameters
    ----------
    names : ndarray of str or None
        The input's column names (``feature_names_in_``).
    n_features : int
        Its number of columns.
    columns : {"auto", "names", "positional"}
        ``names``: by name, every FEATURES column required; ``positional``:
        the first ``len(FEATURES)`` columns, in FEATURES order; ``auto``:
        by name when the input names every FEATURES column, None when it
        names none of them (plain arrays, other tables).

    Raises
    ------
    ValidationError
        Naming the missing columns.
    """
    wanted = list(FEATURES)
    if columns == "positional":
        if n_features < len(wanted):
            raise ValidationError(
                "X", f"at least {len(wanted)} columns, the first in the order {', '.join(wanted)}",
                f"{n_features} columns",
            )
        return list(range(len(wanted)))
    known = [] if names is None else [str(n) for n in names]
    missing = [f for f in wanted if f not in known]
    if columns == "auto" and len(missing) == len(wanted):
        _warn_prefixed(known)
        return None
    if missing:
        raise ValidationError(
            "X", f"a table with the columns {', '.join(wanted)}", f"missing column(s) {', '.join(missing)}",
            hint="Build it with twinloop.learn.feature_frame, or pass an array with columns='positional'.",
        )
    return [known.index(f) for f in wanted]


def _warn_prefixed(names: list[str]) -> None:
    """Warn when every FEATURES column is there under a ``prefix__`` (a ColumnTransformer's names)."""
    suffixes = {n.rpartition("__")[2] for n in names if "__" in n}
    if suffixes.issuperset(FEATURES):
        warnings.warn(
            "X names every FEATURES column only behind a 'prefix__' (e.g. 'remainder__distance'), so it is used"
            " as a table without FEATURES: no physics term, no basis terms. Pass"
            " verbose_feature_names_out=False to the ColumnTransformer to keep the plain names.",
            UserWarning,
            stacklevel=4,
        )


def feature_columns(X: FloatArray, index: list[int]) -> dict[str, FloatArray]:
    """The FEATURES columns of `X` by name; distances [m] and durations [s] must be positive."""
    cols = {name: X[:, i] for name, i in zip(FEATURES, index, strict=True)}
    for name, unit in (("distance", "m"), ("duration", "s")):
        bad = np.flatnonzero(~(cols[name] > 0))
        if bad.size:
            raise ValidationError(
                name, f"> 0 {unit} in every row", f"{float(cols[name][bad[0]]):g} in row {int(bad[0])}",
                hint="Drop trips that did not move; and do not scale the FEATURES columns upstream (they are"
                " physical quantities in SI units: the learners standardise their terms themselves).",
            )
    return cols


def design_matrix(X: FloatArray, index: list[int] | None) -> FloatArray:
    """Columns a learner fits: the BASIS terms and any other input columns, or `X` as it is."""
    if index is None:
        return X
    f = feature_columns(X, index)
    time_per_distance = f["duration"] / f["distance"]
    deficit = COMFORT_TEMPERATURE - f["ambient_temperature"]
    basis = {
        "mean_speed": f["mean_speed"],
        "mean_cubed_speed": f["mean_cubed_speed"],
        "positive_kinetic": f["positive_kinetic"],
        "negative_kinetic": f["negative_kinetic"],
        "climb": f["climb"],
        "descent": f["descent"],
        "traction_energy": f["traction_energy"],
        "braking_energy": f["braking_energy"],
        "decel_share": f["decel_share"],
        "decel_speed": f["decel_speed"],
        "decel_squared_speed": f["decel_squared_speed"],
        "time_per_distance": time_per_distance,
        "heating_time_per_distance": np.maximum(deficit, 0.0) * time_per_distance,
        "cooling_time_per_distance": np.maximum(-deficit, 0.0) * time_per_distance,
        "heating_per_distance": np.maximum(deficit, 0.0) / f["distance"],
        "cooling_per_distance": np.maximum(-deficit, 0.0) / f["distance"],
        "stop_fraction": f["stop_fraction"],
        "ambient_temperature": f["ambient_temperature"],
    }
    extra = np.delete(X, index, axis=1)
    return np.column_stack([basis[name] for name in BASIS] + [extra])
