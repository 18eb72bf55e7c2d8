"""The profile database's tables in the store: the schema extension ``profile``.

Version 1 had ``profile_trips`` alone. Version 7 adds, each step one
migration that the store applies in place to an older profile store:

2-4. ``profile_trips.driver``, ``.style`` and ``.histograms`` (NULL in old
     rows; a build profiles such rows again, since it needs their samples);
5.   ``profile_drivers``, one row per driver;
6.   ``profile_stretches``, one row per trip and road stretch;
7.   ``profile_styles``, one row per driving-style cluster.
"""

from __future__ import annotations

from twinloop.apps.profile_histograms import PERCENTILES
from twinloop.apps.profiles import METRIC_NAMES
from twinloop.store.schema import AddColumn, AddTable, Column, SchemaExtension, Table

__all__ = [
    "DISTRIBUTIONS",
    "DRIVER_TABLE",
    "PROFILE_SCHEMA",
    "PROFILE_TABLE",
    "SCALARS",
    "STRETCH_TABLE",
    "STYLE_TABLE",
]

#: The table of per-trip profiles.
PROFILE_TABLE = "profile_trips"
#: The table of per-driver profiles.
DRIVER_TABLE = "profile_drivers"
#: The table of per-trip, per-stretch tallies.
STRETCH_TABLE = "profile_stretches"
#: The table of the driving-style clusters.
STYLE_TABLE = "profile_styles"

DISTRIBUTIONS = ("speed_distribution", "acceleration_distribution")
#: The metrics kept as one double column each (the distributions share the JSON column ``distributions``).
SCALARS = tuple(n for n in METRIC_NAMES if n not in DISTRIBUTIONS)

_DRIVER = Column("driver", "text")
_STYLE = Column("style", "text")
_HISTOGRAMS = Column("histograms", "json")

_TRIPS = Table(
    PROFILE_TABLE,
    (
        Column("vin", "text", nullable=False),
        Column("trip_no", "integer", nullable=False),
        Column("start_time", "timestamp", nullable=False),
        Column("end_time", "timestamp", nullable=False),
        Column("samples", "integer", nullable=False),
        Column("with_altitude", "boolean", nullable=False),
        *(Column(n, "double") for n in SCALARS),
        Column("distributions", "json", nullable=False),
        Column("created_at", "timestamp", nullable=False),
        _DRIVER,
        _STYLE,
        _HISTOGRAMS,
    ),
    primary_key=("vin", "trip_no"),
)

_DRIVERS = Table(
    DRIVER_TABLE,
    (
        Column("driver", "text", nullable=False),
        Column("vins", "json", nullable=False),
        Column("trips", "integer", nullable=False),
        Column("days", "integer", nullable=False),
        *(Column(n, "double") for n in SCALARS),
        *(Column(n, "double") for n in PERCENTILES),
        Column("day_distance_median_m", "double"),
        Column("style_shares", "json", nullable=False),
        Column("distributions", "json", nullable=False),
        Column("updated_at", "timestamp", nullable=False),
    ),
    primary_key=("driver",),
)

_STRETCHES = Table(
    STRETCH_TABLE,
    (
        Column("vin", "text", nullable=False),
        Column("trip_no", "integer", nullable=False),
        Column("stretch", "text", nullable=False),
        Column("latitude", "double", nullable=False),
        Column("longitude", "double", nullable=False),
        Column("heading", "text", nullable=False),
        Column("passes", "integer", nullable=False),
        Column("time_s", "double", nullable=False),
        Column("distance_m", "double", nullable=False),
        Column("moving_s", "double", nullable=False),
        Column("speed_change_mps", "double", nullable=False),
        Column("accelerating_s", "double", nullable=False),
        Column("speed_gain_mps", "double", nullable=False),
        Column("speed_histogram", "json", nullable=False),
        Column("energy_j", "double"),
        Column("energy_distance_m", "double"),
    ),
    primary_key=("vin", "trip_no", "stretch"),
)

_STYLES = Table(
    STYLE_TABLE,
    (
        Column("style", "text", nullable=False),
        Column("rank", "integer", nullable=False),
        Column("centre", "json", nullable=False),
        Column("mean", "json", nullable=False),
        Column("scale", "json", nullable=False),
        Column("trips", "integer", nullable=False),
        Column("fitted_at", "timestamp", nullable=False),
    ),
    primary_key=("style",),
)

#: The profile layer's tables in the store, at version 7 (see the module docstring).
PROFILE_SCHEMA = SchemaExtension(
    "profile",
    tables=(_TRIPS, _DRIVERS, _STRETCHES, _STYLES),
    migrations=(
        AddColumn(PROFILE_TABLE, _DRIVER),
        AddColumn(PROFILE_TABLE, _STYLE),
        AddColumn(PROFILE_TABLE, _HISTOGRAMS),
        AddTable(DRIVER_TABLE),
        AddTable(STRETCH_TABLE),
        AddTable(STYLE_TABLE),
    ),
)
