"""The twin's state from the latest telemetry of its vehicle: :func:`sync_state`.

Each field of :data:`STATE_SIGNALS` takes the latest stored sample of its
signal (:meth:`twinloop.store.TelemetryStore.latest`); the odometer is checked
for plausibility and, without a reported state of health, the battery's health
is tracked from the trips (:func:`twinloop.twin.health.health_from_store`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from twinloop.errors import CalibrationError, DataError
from twinloop.signals.vss import BATTERY_TEMPERATURE, CABIN_TEMPERATURE, ODOMETER, SOC, SOH, SPEED
from twinloop.twin.health import health_from_store
from twinloop.twin.plausibility import odometer_regression, odometer_speed_mismatch
from twinloop.twin.record import TwinState
from twinloop.twin.samples import US, distance

if TYPE_CHECKING:
    from twinloop.twin.lifecycle import Twin

__all__ = ["STATE_SIGNALS", "StoreSync", "sync_state"]

#: Twin state field -> the signal whose latest sample sets it.
STATE_SIGNALS: dict[str, str] = {
    "state_of_charge": SOC,
    "state_of_health": SOH,
    "battery_temperature": BATTERY_TEMPERATURE,
    "cabin_temperature": CABIN_TEMPERATURE,
    "odometer": ODOMETER,
}


def _odometer_speed_note(frame: pd.DataFrame, max_gap: float) -> str | None:
    """A note when the odometer samples of `frame` advance unlike the speed samples between them integrate."""
    odometer = frame[ODOMETER].dropna()
    if len(odometer) < 2:
        return None
    covered = frame[SPEED].loc[odometer.index[0]:odometer.index[-1]]
    return odometer_speed_mismatch(float(odometer.iloc[-1] - odometer.iloc[0]), distance(covered, max_gap))



@dataclass(frozen=True)
class StoreSync:
    """What :func:`sync_state` did.

    Attributes
    ----------
    twin : Twin
        The twin with its updated record.
    notes : tuple of str
        Readings it distrusted and what it kept instead (an odometer that
        went back, or that disagrees with the distance the speed signal
        integrates to); empty when all was plausible.
    """

    twin: Twin
    notes: tuple[str, ...] = ()


def sync_state(twin: Twin, *, max_gap: float = 60.0, track_health: bool = True) -> StoreSync:
    """Set the twin's state from the latest telemetry of its vehicle and store it.

    Each field of :data:`STATE_SIGNALS` takes the latest stored sample of its
    signal; fields whose signal has no sample keep their value. Without an
    odometer signal (``Vehicle.TraveledDistance``) the odometer advances by
    the distance of the speed samples since the last sync (steps longer than
    `max_gap` [s] are pauses, not driving), starting from 0 when unknown, so
    it then counts the distance driven in the stored telemetry.
    Without a reported state of health (``Vehicle.Powertrain.TractionBattery.StateOfHealth``)
    and with `track_health`, ``state_of_health`` is the capacity tracked
    from the trips by :func:`health_from_store` over the rated capacity;
    when no trip gives a capacity (no state of charge, swings too small)
    it keeps its value.
    ``updated_at`` becomes the time of the latest sample used.

    The odometer is checked (:mod:`twinloop.twin.plausibility`): a reading
    below the twin's odometer is not taken, and an advance since the last
    sync that disagrees with the distance the speed signal integrates to is
    noted, with the unit slip it suggests.

    Returns
    -------
    StoreSync
        The twin with its updated record (also written through its
        repository), and notes on readings it distrusted.

    Raises
    ------
    DataError
        If the store holds none of those signals, nor speed, for the vehicle.

    Examples
    --------
    >>> from twinloop.parameters import resolve_vehicle
    >>> from twinloop.store import open_store
    >>> from twinloop.twin.lifecycle import create_twin
    >>> twin = create_twin(open_store("duckdb://:memory:"), "VIN1", resolve_vehicle("vw_id3_pro_2020"))
    >>> sync_state(twin)
    Traceback (most recent call last):
    ...
    twinloop.errors.DataError: no telemetry of VIN1 in the store gives its state (none of Vehicle.Powertrain.TractionBattery.StateOfCharge.Current, ..., Vehicle.Speed)
    """
    store = twin.store
    latest = store.latest(twin.vin, [*STATE_SIGNALS.values(), SPEED])
    if not latest:
        names = [*STATE_SIGNALS.values(), SPEED]
        raise DataError(
            f"no telemetry of {twin.vin} in the store gives its state (none of {names[0]}, ..., {names[-1]})"
        )
    state = twin.record.state
    changes: dict[str, Any] = {
        field: latest[path][1] for field, path in STATE_SIGNALS.items() if path in latest
    }
    updated_at = max(t for t, _ in latest.values())
    notes: list[str] = []
    if ODOMETER in latest:
        regression = odometer_regression(state.odometer, latest[ODOMETER][1])
        if regression is not None:
            del changes["odometer"]
        since = None if state.updated_at is None else state.updated_at + US  # what the last sync did not see
        frame = store.read_frame(twin.vin, [ODOMETER, SPEED], since, updated_at + US)
        notes = [n for n in (regression, _odometer_speed_note(frame, max_gap)) if n is not None]
    elif SPEED in latest:
        speed = store.read_frame(twin.vin, [SPEED], state.updated_at, latest[SPEED][0] + US)[SPEED]
        changes["odometer"] = (state.odometer or 0.0) + distance(speed, max_gap)
    if SOH not in latest and track_health:
        try:
            soh = health_from_store(twin).state_of_health
        except (DataError, CalibrationError):
            soh = None  # nothing to track it from yet: keep what the twin knew
        if soh is not None and 0.0 < soh <= 1.2:  # outside: a broken SoC signal, not a battery
            changes["state_of_health"] = soh
    new_state: TwinState = replace(state, **changes, updated_at=updated_at)  # validated again
    record = twin.repository.update_state(twin.vin, new_state)
    return StoreSync(replace(twin, record=record), tuple(notes))

