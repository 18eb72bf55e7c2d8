"""The whole profile database in one call: trips, stretches, styles and drivers.

:func:`build_profiles` profiles the trips of the vehicles asked for (or of
every vehicle in the store), then fits or applies the driving styles and
pools the drivers' profiles, all through the store's public API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from twinloop.apps.profile_drivers import build_driver_profiles
from twinloop.apps.profile_schema import PROFILE_SCHEMA
from twinloop.apps.profile_store import ProfileBuild, build_trip_profiles
from twinloop.apps.profile_styles import fit_styles, label_new_trips, stored_styles
from twinloop.errors import DataError

if TYPE_CHECKING:
    from twinloop.store.base import TelemetryStore

__all__ = ["ProfileDatabaseBuild", "build_profiles"]


@dataclass(frozen=True)
class ProfileDatabaseBuild:
    """What :func:`build_profiles` did.

    Attributes
    ----------
    vehicles : dict of str to ProfileBuild
        Per vehicle, its trips profiled, unchanged, skipped and removed.
    without_trips : tuple of str
        Vehicles of the store that have no trips (only when every vehicle was asked for).
    styles_fitted : bool
        Whether the styles were fitted (anew) in this build.
    styles_labelled : int
        Trips labelled with the styles (all usable ones after a fit, else the new ones).
    style_note : str
        Why there are no styles yet; empty otherwise.
    drivers : int
        Driver profiles written.
    """

    vehicles: dict[str, ProfileBuild] = field(default_factory=dict)
    without_trips: tuple[str, ...] = ()
    styles_fitted: bool = False
    styles_labelled: int = 0
    style_note: str = ""
    drivers: int = 0


def build_profiles(
    store: TelemetryStore,
    vins: Sequence[str] | None = None,
    *,
    replace: bool = False,
    refit_styles: bool = False,
    n_styles: int = 3,
    min_style_trips: int = 10,
    progress: Callable[[str, int], None] | None = None,
) -> ProfileDatabaseBuild:
    """Build or bring up to date the profile database.

    1. :func:`~twinloop.apps.profile_store.build_trip_profiles` for each
       vehicle (the trips, and the road stretches of trips with positions);
    2. the styles: fitted to every usable trip when none are stored yet,
       or when `refit_styles` or `replace`
       (:func:`~twinloop.apps.profile_styles.fit_styles`); otherwise the
       trips without a style are labelled with the stored centres;
    3. the driver profiles, pooled anew from the trip rows.

    Parameters
    ----------
    store : TelemetryStore
    vins : sequence of str, optional
        The vehicles; every vehicle of the store when omitted (those without
        trips are then listed, not refused).
    replace : bool
        Profile every trip again, and fit the styles again.
    refit_styles : bool
        Fit the styles again to every trip (the labels may change).
    n_styles : int
        Number of style clusters.
    min_style_trips : int
        Least number of usable trips to fit the styles on.
    progress : callable, optional
        Called as ``progress(vin, trip_no)`` after each trip.

    Returns
    -------
    ProfileDatabaseBuild

    Raises
    ------
    UnknownNameError
        For a VIN the store does not have (with close matches).
    DataError
        For a VIN asked for by name that has no trips.
    """
    store.extend(PROFILE_SCHEMA)
    named = vins is not None
    chosen = list(vins) if vins is not None else [str(v) for v in store.vehicles().column("vin").to_pylist()]
    builds: dict[str, ProfileBuild] = {}
    without: list[str] = []
    for vin in chosen:
        report = None if progress is None else (lambda no, vin=vin: progress(vin, no))
        try:
            builds[vin] = build_trip_profiles(store, vin, replace=replace, progress=report)
        except DataError:
            if named:
                raise
            without.append(vin)
    fitted, labelled, note = False, 0, ""
    if refit_styles or replace or stored_styles(store) is None:
        fit = fit_styles(store, n_clusters=n_styles, min_trips=min_style_trips)
        fitted, note = fit.clusterer is not None, fit.note
        labelled = int(fit.clusterer.labels_.size) if fit.clusterer is not None else 0
    else:
        labelled = label_new_trips(store)
    drivers = build_driver_profiles(store)
    return ProfileDatabaseBuild(builds, tuple(without), fitted, labelled, note, drivers)
