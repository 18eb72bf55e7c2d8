"""The profile database: the driving metrics of every stored trip, kept in the telemetry store.

:func:`build_trip_profiles` computes :func:`~twinloop.apps.profiles.trip_metrics`
for each stored trip of a vehicle (:meth:`~twinloop.store.TelemetryStore.trips`)
from its speed samples, and its altitude samples when the store has them,
and keeps them in one table of the store, declared as the schema extension
``profile`` (:data:`PROFILE_SCHEMA`):

``profile_trips``
    One row per trip, key (vin, trip_no): the trip's start and end, the
    speed samples used, whether altitude was used, the scalar metrics under
    their :data:`~twinloop.apps.profiles.METRIC_NAMES`, and the two time-share
    distributions as one JSON column.

:func:`trip_profiles` reads them back as a table. The store's public API
only: no SQL, no driver.

Signals read (VSS paths, SI in the store; :mod:`twinloop.signals.vss`):

====================================  =========================  ========
``Vehicle.Speed``                     vehicle speed [m s-1]       required
``Vehicle.CurrentLocation.Altitude``  altitude [m]                if stored
====================================  =========================  ========
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from twinloop.apps.profiles import ACCELERATION_BINS, METRIC_NAMES, SPEED_BINS, trip_metrics
from twinloop.errors import DataError, ValidationError
from twinloop.signals.vss import ALTITUDE, SPEED
from twinloop.store.schema import Column, SchemaExtension, Table
from twinloop.twin.samples import US, Skip, signal_samples, stored_trips

if TYPE_CHECKING:
    import pandas as pd

    from twinloop.store.base import TelemetryStore

__all__ = ["PROFILE_COLUMNS", "PROFILE_SCHEMA", "PROFILE_TABLE", "ProfileBuild", "build_trip_profiles", "trip_profiles"]

#: The table of per-trip profiles.
PROFILE_TABLE = "profile_trips"

_DISTRIBUTIONS = ("speed_distribution", "acceleration_distribution")
#: The metrics kept as one double column each (the distributions share the JSON column ``distributions``).
_SCALARS = tuple(n for n in METRIC_NAMES if n not in _DISTRIBUTIONS)

#: The profile layer's table in the store.
PROFILE_SCHEMA = SchemaExtension(
    "profile",
    tables=(
        Table(
            PROFILE_TABLE,
            (
                Column("vin", "text", nullable=False),
                Column("trip_no", "integer", nullable=False),
                Column("start_time", "timestamp", nullable=False),
                Column("end_time", "timestamp", nullable=False),
                Column("samples", "integer", nullable=False),
                Column("with_altitude", "boolean", nullable=False),
                *(Column(n, "double") for n in _SCALARS),
                Column("distributions", "json", nullable=False),
                Column("created_at", "timestamp", nullable=False),
            ),
            primary_key=("vin", "trip_no"),
        ),
    ),
)

PROFILE_COLUMNS = (
    "vin", "trip_no", "start_time", "end_time", "samples", "with_altitude", *_SCALARS,
    *(f"speed_distribution.{b}" for b in SPEED_BINS),
    *(f"acceleration_distribution.{b}" for b in ACCELERATION_BINS),
    "created_at",
)
"""The columns of :func:`trip_profiles`, in order; the distributions spread as in
:func:`~twinloop.apps.profiles.metrics_frame`."""


@dataclass(frozen=True)
class ProfileBuild:
    """What :func:`build_trip_profiles` did for one vehicle.

    Attributes
    ----------
    vin : str
        The vehicle.
    profiled : tuple of int
        Trip numbers whose profile this build wrote.
    unchanged : tuple of int
        Trip numbers already profiled for the same start and end, left as stored.
    skipped : dict of int to str
        Trip number -> why it has no profile (fewer than 2 speed samples,
        unusable samples).
    removed : tuple of int
        Trip numbers of stored profiles whose trip the store no longer has
        (trips detected anew); their rows were deleted.
    """

    vin: str
    profiled: tuple[int, ...] = ()
    unchanged: tuple[int, ...] = ()
    skipped: dict[int, str] = field(default_factory=dict)
    removed: tuple[int, ...] = ()


def _row(vin: str, trip: dict[str, Any], store: TelemetryStore, now: datetime) -> dict[str, Any]:
    """The profile row of one stored trip; :class:`Skip` says why there is none."""
    start, end = trip["start_time"], trip["end_time"]
    frame = store.read_frame(vin, [SPEED, ALTITUDE], start, end + US)
    t, v = signal_samples(frame, SPEED, start)
    if t.size < 2:
        raise Skip("few", f"{t.size} {SPEED} sample{'' if t.size == 1 else 's'} (a profile needs at least 2)")
    elevation = None
    if frame[ALTITUDE].notna().any():
        th, h = signal_samples(frame, ALTITUDE, start)
        elevation = np.interp(t, th, h)
    try:
        metrics = trip_metrics(t, v, elevation).to_dict()
    except ValidationError as exc:
        raise Skip("invalid", f"unusable samples: {exc}") from None
    return {
        "vin": vin, "trip_no": int(trip["trip_no"]), "start_time": start, "end_time": end,
        "samples": int(t.size), "with_altitude": elevation is not None,
        **{n: metrics[n] for n in _SCALARS},
        "distributions": {n: metrics[n] for n in _DISTRIBUTIONS},
        "created_at": now,
    }


def build_trip_profiles(store: TelemetryStore, vin: str, *, replace: bool = False) -> ProfileBuild:
    """Compute and store the driving metrics of every stored trip of `vin`.

    Each trip's speed samples (and altitude samples, interpolated onto the
    speed times, when the store has them) go through
    :func:`~twinloop.apps.profiles.trip_metrics`; the rows are written to
    ``profile_trips`` in one transaction, so a failure leaves the previous
    profiles intact.

    A trip already profiled with the same start and end is left as it is:
    a second build writes nothing new. A trip whose end moved (more
    telemetry ingested) is profiled again, and profiles of trips the store
    no longer has are deleted. `replace` profiles every trip again.

    Parameters
    ----------
    store : TelemetryStore
        An open store; the ``profile`` extension's table is created if missing.
    vin : str
        The vehicle.
    replace : bool
        Recompute and rewrite every trip's profile.

    Returns
    -------
    ProfileBuild
        Which trips were profiled, left unchanged, skipped (with the reason:
        fewer than 2 speed samples, or samples :func:`trip_metrics` refuses)
        or removed.

    Raises
    ------
    UnknownNameError
        If the store has no vehicle `vin` (the message suggests close matches).
    DataError
        If `vin` has no trips in the store.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from twinloop.signals.vss import SPEED
    >>> from twinloop.store import SampleBatch, open_store
    >>> store = open_store("duckdb://:memory:")
    >>> ingest = store.begin_ingest("VIN1", "example", "0" * 64)
    >>> sid = store.signal_ids([SPEED])[SPEED]
    >>> samples = pa.table({"signal_id": pa.array([sid] * 3, pa.int32()),
    ...                     "time": pa.array([0, 10_000_000, 20_000_000], pa.timestamp("us")),
    ...                     "value": [0.0, 10.0, 10.0]})
    >>> _ = store.write_batch(ingest, 0, "VIN1", SampleBatch(samples))
    >>> _ = store.detect_trips("VIN1")
    >>> build_trip_profiles(store, "VIN1").profiled
    (1,)
    >>> build_trip_profiles(store, "VIN1").unchanged
    (1,)
    >>> trip_profiles(store, "VIN1")[["trip_no", "distance_m", "kinetic_intensity_per_km"]]
       trip_no  distance_m  kinetic_intensity_per_km
    0        1       150.0                       4.0
    """
    store.extend(PROFILE_SCHEMA)
    trips = stored_trips(store, vin)
    if not trips:
        raise DataError(
            f"{vin} has no trips in the store, so there is nothing to profile; ingest telemetry with {SPEED}"
            " (and Vehicle.LowVoltageSystemState for key-on/key-off) first (`twinloop ingest`)"
        )
    stored = {
        int(r["trip_no"]): (r["start_time"], r["end_time"])
        for r in store.select(PROFILE_TABLE, ["trip_no", "start_time", "end_time"], {"vin": vin})
    }
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    unchanged: list[int] = []
    skipped: dict[int, str] = {}
    for trip in trips:
        no = int(trip["trip_no"])
        if not replace and stored.get(no) == (trip["start_time"], trip["end_time"]):
            unchanged.append(no)
            continue
        try:
            rows.append(_row(vin, trip, store, now))
        except Skip as skip:
            skipped[no] = skip.reason
    current = {int(t["trip_no"]) for t in trips}
    stale = sorted(set(stored) - set(unchanged))
    with store.transaction():
        for no in stale:  # rewritten, now skipped, or no longer a trip
            store.delete(PROFILE_TABLE, {"vin": vin, "trip_no": no})
        if rows:
            store.insert(PROFILE_TABLE, rows)
    return ProfileBuild(
        vin,
        profiled=tuple(r["trip_no"] for r in rows),
        unchanged=tuple(unchanged),
        skipped=skipped,
        removed=tuple(no for no in stale if no not in current),
    )


def trip_profiles(store: TelemetryStore, vin: str | None = None) -> pd.DataFrame:
    """The stored trip profiles (of one vehicle, or of all): one row per trip.

    Parameters
    ----------
    store : TelemetryStore
    vin : str, optional
        Only this vehicle's trips; an unknown VIN suggests close matches.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`PROFILE_COLUMNS`, rows by vin and trip_no;
        times are aware UTC, metrics floats (NaN where undefined, as in
        :meth:`~twinloop.apps.profiles.TripMetrics.to_dict`). Empty (with
        those columns) when nothing has been profiled.
    """
    import pandas as pd

    store.extend(PROFILE_SCHEMA)
    if vin is not None:
        store.vehicle_id(vin)
    rows = store.select(PROFILE_TABLE, where=None if vin is None else {"vin": vin}, order_by=["vin", "trip_no"])
    records = []
    for r in rows:
        shares = r.pop("distributions")
        records.append({**r, **{f"{name}.{b}": share for name in _DISTRIBUTIONS for b, share in shares[name].items()}})
    frame = pd.DataFrame(records, columns=list(PROFILE_COLUMNS))
    floats = [c for c in PROFILE_COLUMNS if c in _SCALARS or "." in c]
    frame[floats] = frame[floats].astype(float)
    frame = frame.astype({"vin": str, "trip_no": "int64", "samples": "int64", "with_altitude": bool})
    for c in ("start_time", "end_time", "created_at"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    return frame
