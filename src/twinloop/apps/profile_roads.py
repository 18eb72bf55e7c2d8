"""Road profiles: the stored stretch tallies of every trip, summed per road stretch.

``profile_stretches`` keeps what each trip did on each stretch it drove
(:mod:`twinloop.apps.profile_stretches`); :func:`road_profiles` sums them
over trips (and vehicles) and derives the figures of each stretch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from twinloop.apps.profile_histograms import SPEED_STEP, add_histograms, histogram_percentile
from twinloop.apps.profile_schema import PROFILE_SCHEMA, STRETCH_TABLE

if TYPE_CHECKING:
    import pandas as pd

    from twinloop.store.base import TelemetryStore

__all__ = ["ROAD_COLUMNS", "road_profiles"]

ROAD_COLUMNS = (
    "stretch", "latitude", "longitude", "heading", "vehicles", "trips", "passes", "distance_m", "time_s",
    "mean_speed_mps", "speed_p50_mps", "speed_p85_mps", "mean_acceleration_mps2",
    "mean_positive_acceleration_mps2", "energy_per_distance",
)
"""The columns of :func:`road_profiles`, in order."""

_SUMS = ("passes", "time_s", "distance_m", "moving_s", "speed_change_mps", "accelerating_s", "speed_gain_mps")


def road_profiles(store: TelemetryStore, vin: str | None = None, top: int | None = None) -> pd.DataFrame:
    r"""The road stretches driven (by one vehicle, or by all), most passes first.

    Parameters
    ----------
    store : TelemetryStore
    vin : str, optional
        Only this vehicle's trips; an unknown VIN suggests close matches.
    top : int, optional
        Only the first `top` stretches.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`ROAD_COLUMNS`, one row per stretch, by passes
        then distance (descending), then stretch. With the sums over the
        trips' tallies:

        - ``mean_speed_mps``: distance over time on the stretch (stops included);
        - ``speed_p50_mps``, ``speed_p85_mps``: percentiles of the speed
          while moving (the 85th is the *operating speed*);
        - ``mean_acceleration_mps2``: the speed changes over the time moving,
          negative where drivers slow down (before a junction);
        - ``mean_positive_acceleration_mps2``: the speed gained over the time
          accelerating (above 0.1 m/s²), NaN where no one did;
        - ``energy_per_distance`` [J m-1]: battery energy over the distance
          of the steps with a known battery power, NaN without (divide by
          3.6 for Wh/km).

        Empty (with those columns) when no trip has positions.
    """
    import pandas as pd

    store.extend(PROFILE_SCHEMA)
    if vin is not None:
        store.vehicle_id(vin)
    if top is not None and top < 1:
        from twinloop.errors import ValidationError

        raise ValidationError("top", "a whole number >= 1", top)
    groups: dict[str, dict[str, Any]] = {}
    for r in store.select(STRETCH_TABLE, where=None if vin is None else {"vin": vin}):
        g = groups.get(r["stretch"])
        if g is None:
            g = groups[r["stretch"]] = {
                "stretch": r["stretch"], "latitude": r["latitude"], "longitude": r["longitude"],
                "heading": r["heading"], "vins": set(), "trip_keys": set(), "histograms": [],
                "energy_j": 0.0, "energy_distance_m": 0.0, **dict.fromkeys(_SUMS, 0.0),
            }
        g["vins"].add(r["vin"])
        g["trip_keys"].add((r["vin"], r["trip_no"]))
        g["histograms"].append(r["speed_histogram"])
        for k in _SUMS:
            g[k] += r[k]
        if r["energy_j"] is not None and r["energy_distance_m"] is not None:
            g["energy_j"] += r["energy_j"]
            g["energy_distance_m"] += r["energy_distance_m"]
    records = []
    for g in groups.values():
        hist = add_histograms(g["histograms"])
        records.append({
            "stretch": g["stretch"], "latitude": g["latitude"], "longitude": g["longitude"], "heading": g["heading"],
            "vehicles": len(g["vins"]), "trips": len(g["trip_keys"]), "passes": int(g["passes"]),
            "distance_m": g["distance_m"], "time_s": g["time_s"],
            "mean_speed_mps": _ratio(g["distance_m"], g["time_s"]),
            "speed_p50_mps": histogram_percentile(hist, SPEED_STEP, 50.0),
            "speed_p85_mps": histogram_percentile(hist, SPEED_STEP, 85.0),
            "mean_acceleration_mps2": _ratio(g["speed_change_mps"], g["moving_s"]),
            "mean_positive_acceleration_mps2": _ratio(g["speed_gain_mps"], g["accelerating_s"]),
            "energy_per_distance": _ratio(g["energy_j"], g["energy_distance_m"]),
        })
    frame = pd.DataFrame(records, columns=list(ROAD_COLUMNS))
    frame = frame.sort_values(["passes", "distance_m", "stretch"], ascending=[False, False, True], kind="stable")
    frame = frame.reset_index(drop=True).astype({"vehicles": "int64", "trips": "int64", "passes": "int64"})
    floats = [c for c in ROAD_COLUMNS if c not in ("stretch", "heading", "vehicles", "trips", "passes")]
    frame[floats] = frame[floats].astype(float)
    return frame if top is None else frame.head(top)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan
