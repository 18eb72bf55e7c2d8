r"""Driver profiles: a driver's trips pooled into one profile.

A driver is the VIN of the vehicle (one driver per vehicle) unless trips
were assigned to someone (:func:`~twinloop.apps.profile_store.assign_driver`).
:func:`pool_trips` pools the profiles of a driver's trips so that each
metric is the one their trips give taken together: the per-metre metrics
are the distance-weighted means of the trips' values, the per-second ones
the duration-weighted means, the percentiles come from the summed
histograms. :func:`build_driver_profiles` keeps one row per driver in
``profile_drivers``; :func:`driver_profiles` reads them.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from twinloop.apps.profile_histograms import PERCENTILES, add_histograms, percentiles
from twinloop.apps.profile_schema import DISTRIBUTIONS, DRIVER_TABLE, PROFILE_SCHEMA, SCALARS
from twinloop.apps.profiles import ACCELERATION_BINS, SPEED_BINS

if TYPE_CHECKING:
    import pandas as pd

    from twinloop.store.base import TelemetryStore

__all__ = ["DRIVER_COLUMNS", "UNCLASSIFIED", "build_driver_profiles", "driver_profiles", "pool_trips"]

UNCLASSIFIED = "unclassified"
"""Key of :func:`pool_trips`' style shares for the time in trips without a style."""

DRIVER_COLUMNS = (
    "driver", "vins", "trips", "days", *SCALARS, *PERCENTILES, "day_distance_median_m",
    *(f"speed_distribution.{b}" for b in SPEED_BINS),
    *(f"acceleration_distribution.{b}" for b in ACCELERATION_BINS),
    "style_shares", "updated_at",
)
"""The columns of :func:`driver_profiles`, in order."""


def _weighted(rows: Sequence[Mapping[str, Any]], name: str, weight: Sequence[float]) -> float:
    pairs = [(r[name], w) for r, w in zip(rows, weight, strict=True)
             if r.get(name) is not None and math.isfinite(r[name]) and w > 0]
    total = sum(w for _, w in pairs)
    return sum(x * w for x, w in pairs) / total if total > 0 else math.nan


def pool_trips(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    r"""One profile of several trips' profiles (rows as ``profile_trips`` keeps them).

    Parameters
    ----------
    rows : sequence of mapping
        Trip rows with the scalar metrics, ``distributions``, ``histograms``
        (None allowed), ``style`` and ``start_time``.

    Returns
    -------
    dict
        ``trips``, ``days``, the scalar metrics, the :data:`PERCENTILES`,
        ``day_distance_median_m``, ``distributions`` and ``style_shares``.

    Notes
    -----
    With trip :math:`j`'s distance :math:`D_j`, duration :math:`T_j`, time
    moving :math:`M_j = T_j (1 - \text{idle}_j)` and :math:`D = \sum D_j`,
    :math:`T = \sum T_j`:

    - distance and duration are the sums; average speed :math:`D/T`,
      average driving speed :math:`D / \sum M_j`;
    - characteristic acceleration and deceleration and stops per km are
      :math:`\sum x_j D_j / D`, the work (or stops) of all trips over
      their distance;
    - the aerodynamic speed is :math:`\sqrt{\sum \tilde v_j^2 D_j / D}`
      (its square is a cubed speed integral per metre), and the kinetic
      intensity the pooled :math:`\tilde a / \tilde v^2` (per km);
    - idle fraction and the time shares are :math:`\sum x_j T_j / T`;
    - percentiles are read off the trips' summed histograms (trips without
      histograms are left out of them);
    - a day is a UTC date on which a trip starts; ``day_distance_median_m``
      is the median over those days of the distance driven on each;
    - ``style_shares`` is each style's share of :math:`T`
      (:data:`UNCLASSIFIED` for the trips without one).

    Examples
    --------
    >>> from datetime import datetime
    >>> a = {"distance_m": 1000.0, "duration_s": 100.0, "characteristic_acceleration_mps2": 0.2,
    ...      "idle_fraction": 0.0, "start_time": datetime(2024, 5, 1, 8), "style": "calm"}
    >>> b = {"distance_m": 3000.0, "duration_s": 300.0, "characteristic_acceleration_mps2": 0.1,
    ...      "idle_fraction": 0.5, "start_time": datetime(2024, 5, 1, 17), "style": None}
    >>> p = pool_trips([a, b])
    >>> p["distance_m"], round(p["characteristic_acceleration_mps2"], 3), p["idle_fraction"]
    (4000.0, 0.125, 0.375)
    >>> p["days"], p["day_distance_median_m"], p["style_shares"]
    (1, 4000.0, {'calm': 0.25, 'unclassified': 0.75})
    """
    distance = [float(r.get("distance_m") or 0.0) for r in rows]
    duration = [float(r.get("duration_s") or 0.0) for r in rows]
    idle = [r.get("idle_fraction") for r in rows]
    moving = [t * (1.0 - (i if i is not None and math.isfinite(i) else 0.0)) for t, i in zip(duration, idle, strict=True)]
    d, t = sum(distance), sum(duration)
    out: dict[str, Any] = {"trips": len(rows), "distance_m": d, "duration_s": t}
    out["average_speed_mps"] = d / t if t > 0 else math.nan
    out["average_driving_speed_mps"] = d / sum(moving) if sum(moving) > 0 else math.nan
    for name in ("characteristic_acceleration_mps2", "characteristic_deceleration_mps2", "stops_per_km"):
        out[name] = _weighted(rows, name, distance)
    v2 = _weighted([{"v2": None if r.get("aerodynamic_speed_mps") is None else r["aerodynamic_speed_mps"] ** 2}
                    for r in rows], "v2", distance)
    out["aerodynamic_speed_mps"] = math.sqrt(v2) if math.isfinite(v2) else math.nan
    accel = out["characteristic_acceleration_mps2"]
    out["kinetic_intensity_per_km"] = 1000.0 * accel / v2 if math.isfinite(accel) and v2 > 0 else math.nan
    out["idle_fraction"] = _weighted(rows, "idle_fraction", duration)
    shares: dict[str, dict[str, float]] = {}
    for kind, bins in zip(DISTRIBUTIONS, (SPEED_BINS, ACCELERATION_BINS), strict=True):
        spread = [{b: (r.get("distributions") or {}).get(kind, {}).get(b) for b in bins} for r in rows]
        shares[kind] = {b: _weighted(spread, b, duration) for b in bins}
    out["distributions"] = shares
    hist = {kind: add_histograms((r.get("histograms") or {}).get(kind, {}) for r in rows)
            for kind in ("speed", "acceleration")}
    out.update(percentiles(hist))
    per_day: dict[Any, float] = {}
    for r, x in zip(rows, distance, strict=True):
        day = _utc_date(r["start_time"])
        per_day[day] = per_day.get(day, 0.0) + x
    out["days"] = len(per_day)
    out["day_distance_median_m"] = float(statistics.median(per_day.values())) if per_day else math.nan
    styles: dict[str, float] = {}
    for r, x in zip(rows, duration, strict=True):
        key = r.get("style") or UNCLASSIFIED
        styles[key] = styles.get(key, 0.0) + x
    out["style_shares"] = {k: v / t for k, v in sorted(styles.items())} if t > 0 else {}
    return out


def _utc_date(when: datetime) -> Any:
    return (when.astimezone(UTC) if when.tzinfo is not None else when).date()


def build_driver_profiles(store: TelemetryStore) -> int:
    """Pool the stored trip profiles per driver into ``profile_drivers`` (all rows anew); return the drivers.

    Cheap: it reads the trip rows, not their samples, so the whole table is
    rewritten in one transaction at each build.
    """
    from twinloop.apps.profile_store import stored_profiles

    rows = stored_profiles(store)
    by_driver: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_driver.setdefault(r["driver"], []).append(r)
    now = datetime.now(UTC)
    records = []
    for driver, trips in sorted(by_driver.items()):
        pooled = pool_trips(trips)
        records.append({
            "driver": driver, "vins": sorted({r["vin"] for r in trips}), "trips": pooled["trips"],
            "days": pooled["days"],
            **{n: _none_for_nan(pooled[n]) for n in (*SCALARS, *PERCENTILES, "day_distance_median_m")},
            "style_shares": pooled["style_shares"],
            "distributions": {k: {b: _none_for_nan(x) for b, x in v.items()} for k, v in pooled["distributions"].items()},
            "updated_at": now,
        })
    with store.transaction():
        for old in store.select(DRIVER_TABLE, ["driver"]):
            store.delete(DRIVER_TABLE, {"driver": old["driver"]})
        if records:
            store.insert(DRIVER_TABLE, records)
    return len(records)


def _none_for_nan(x: Any) -> Any:
    return None if isinstance(x, float) and math.isnan(x) else x


def driver_profiles(store: TelemetryStore, vin: str | None = None) -> pd.DataFrame:
    """The stored driver profiles: every driver, or those who drove `vin`.

    Parameters
    ----------
    store : TelemetryStore
    vin : str, optional
        Only the drivers of this vehicle; an unknown VIN suggests close
        matches (of the store's vehicles).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`DRIVER_COLUMNS`, one row per driver by name;
        ``vins`` a list, ``style_shares`` a dict (style -> share of the
        time). Empty (with those columns) before a build.
    """
    import pandas as pd

    store.extend(PROFILE_SCHEMA)
    if vin is not None:
        store.vehicle_id(vin)
    records = []
    for r in store.select(DRIVER_TABLE, order_by=["driver"]):
        if vin is not None and vin not in r["vins"]:
            continue
        shares = r.pop("distributions")
        records.append({**r, **{f"{k}.{b}": x for k in DISTRIBUTIONS for b, x in shares[k].items()}})
    frame = pd.DataFrame(records, columns=list(DRIVER_COLUMNS))
    floats = [c for c in DRIVER_COLUMNS if c in SCALARS or c in PERCENTILES or "." in c or c == "day_distance_median_m"]
    frame[floats] = frame[floats].astype(float)
    frame = frame.astype({"trips": "int64", "days": "int64"})
    frame["updated_at"] = pd.to_datetime(frame["updated_at"], utc=True)
    return frame
