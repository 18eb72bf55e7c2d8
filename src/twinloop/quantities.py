"""The glossary: every physical quantity's canonical name, SI unit and valid range.

Code inside twinloop uses these names without unit suffixes; the unit is the
one given here (SI, temperatures in kelvin). Suffixed names such as
``speed_kph`` appear only at I/O boundaries, where values are converted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twinloop.errors import UnknownNameError, ValidationError

__all__ = ["GLOSSARY", "Quantity", "check", "quantity"]


@dataclass(frozen=True)
class Quantity:
    """A named physical quantity.

    Attributes
    ----------
    name : str
        Canonical name, used as argument and column name.
    unit : str
        SI unit, e.g. ``"W"``, ``"m s-1"``; ``"1"`` for dimensionless.
    description : str
        One line.
    minimum, maximum : float
        Valid closed range (``-inf``/``inf`` when unbounded).
    """

    name: str
    unit: str
    description: str
    minimum: float = -math.inf
    maximum: float = math.inf

    @property
    def valid_range(self) -> str:
        """The valid range as text, e.g. ``"[0, 100] m s-1"``; dimensionless: ``"[0, 1]"``."""
        unit = "" if self.unit == "1" else f" {self.unit}"
        return f"[{self.minimum:g}, {self.maximum:g}]{unit}"


_Q = Quantity
_INF = math.inf

GLOSSARY: dict[str, Quantity] = {
    q.name: q
    for q in [
        # kinematics and road
        _Q("time", "s", "time since start of record", 0, _INF),
        _Q("vehicle_speed", "m s-1", "longitudinal vehicle speed", 0, 100),
        _Q("acceleration", "m s-2", "longitudinal acceleration", -12, 12),
        _Q("road_grade", "1", "road grade, rise over run", -0.35, 0.35),
        _Q("distance", "m", "distance travelled", 0, _INF),
        # vehicle
        _Q("test_mass", "kg", "vehicle mass as driven or tested, payload included", 300, 40000),
        _Q("payload", "kg", "mass added to the test mass", 0, 20000),
        _Q("rotating_mass_factor", "1", "equivalent rotating inertia as a fraction of test mass", 0, 0.2),
        _Q("drag_coefficient", "1", "aerodynamic drag coefficient Cd", 0.1, 1.5),
        _Q("frontal_area", "m2", "frontal area", 0.5, 12),
        _Q("rolling_resistance_coefficient", "1", "tyre rolling-resistance coefficient", 0.003, 0.03),
        _Q("coastdown_a", "N", "constant coast-down coefficient A", 0, 5000),
        _Q("coastdown_b", "N s m-1", "linear coast-down coefficient B", -200, 500),
        _Q("coastdown_c", "N s2 m-2", "quadratic coast-down coefficient C", 0, 20),
        _Q("air_density", "kg m-3", "air density", 0.9, 1.5),
        _Q("wheel_radius", "m", "dynamic tyre rolling radius", 0.2, 0.6),
        _Q("gear_ratio", "1", "overall reduction ratio motor to wheel", 1, 20),
        _Q("gearbox_efficiency", "1", "gearbox mechanical efficiency at load", 0.8, 1),
        _Q("motor_peak_power", "W", "motor peak mechanical power", 1e3, 1e6),
        _Q("motor_peak_torque", "N m", "motor peak torque", 10, 5000),
        _Q("motor_max_speed", "rad s-1", "motor maximum speed", 100, 3000),
        _Q("regen_max_power", "W", "maximum regenerative braking power at the battery", 0, 1e6),
        _Q("regen_axle_share", "1", "share of braking force on the regenerating axle(s)", 0, 1),
        _Q("auxiliary_power", "W", "constant low-voltage auxiliary load", 0, 5000),
        _Q("charger_efficiency", "1", "wall-to-battery charging efficiency", 0.5, 1),
        # thermal and cabin
        _Q("ambient_temperature", "K", "ambient air temperature", 223.15, 333.15),
        _Q("cabin_temperature", "K", "cabin air temperature", 223.15, 353.15),
        _Q("cabin_setpoint", "K", "cabin temperature set point", 283.15, 303.15),
        _Q("hvac_power", "W", "electric power drawn by heating and air conditioning", 0, 20000),
        _Q("coefficient_of_performance", "1", "heat pump or A/C coefficient of performance", 0.5, 8),
        _Q("waste_heat_share", "1", "share of drivetrain losses that heats the cabin", 0, 1),
        # battery
        _Q("state_of_charge", "1", "battery state of charge", 0, 1),
        _Q("state_of_health", "1", "capacity relative to its rated value", 0, 1.2),
        _Q("battery_capacity", "A s", "battery charge capacity (3600 A s = 1 Ah)", 1, 1e7),
        _Q("battery_energy", "J", "battery usable energy", 0, 1e10),
        # A pack's rating, unlike the energy it holds now, is never near zero:
        # 1 kWh (a small scooter) to 1000 kWh (a 40 t truck).
        _Q("battery_rated_energy", "J", "usable energy of the full pack, as rated", 3.6e6, 3.6e9),
        _Q("battery_current", "A", "battery current, positive discharging", -3000, 3000),
        _Q("battery_voltage", "V", "battery terminal voltage", 0, 1500),
        _Q("battery_nominal_voltage", "V", "pack nominal voltage (48 V mild systems to 1500 V trucks)", 48, 1500),
        _Q("open_circuit_voltage", "V", "open-circuit voltage", 0, 1500),
        _Q("battery_power", "W", "battery terminal power, positive discharging", -1e6, 1e6),
        _Q("battery_temperature", "K", "battery (lumped) temperature", 223.15, 353.15),
        _Q("cell_temperature", "K", "cell temperature", 223.15, 353.15),
        _Q("ohmic_resistance", "ohm", "series (ohmic) resistance R0", 0, 10),
        _Q("pack_polarisation_resistance", "ohm", "RC-pair resistance of a whole pack", 0, 1),
        _Q("pack_ohmic_resistance", "ohm", "series (ohmic) resistance R0 of a whole pack", 1e-4, 10),
        _Q("polarisation_resistance", "ohm", "RC-pair resistance", 0, 10),
        _Q("polarisation_capacitance", "F", "RC-pair capacitance", 0, 1e9),
        _Q("heat_capacity", "J K-1", "lumped heat capacity", 1, 1e8),
        _Q("pack_heat_capacity", "J K-1", "lumped heat capacity of a whole pack (>= 5 kg of cells)", 1e3, 1e8),
        _Q("cabin_heat_capacity", "J K-1", "lumped heat capacity of a cabin's air and trim", 1e3, 1e8),
        _Q("heat_transfer_coefficient", "W K-1", "lumped heat transfer to ambient (h A)", 0, 1e5),
        _Q("energy", "J", "energy", -_INF, _INF),
        _Q("power", "W", "power", -_INF, _INF),
        # telemetry (signals/): quantities that arrive as vehicle signals
        _Q("latitude", "deg", "WGS 84 latitude (degrees are kept, as in GNSS data)", -90, 90),
        _Q("longitude", "deg", "WGS 84 longitude (degrees are kept, as in GNSS data)", -180, 180),
        _Q("altitude", "m", "altitude above the WGS 84 ellipsoid", -500, 9000),
        _Q("motor_speed", "rad s-1", "motor rotational speed, negative in reverse", -3000, 3000),
        _Q("motor_torque", "N m", "motor torque, negative when regenerating", -5000, 5000),
        _Q("motor_power", "W", "motor mechanical power, negative when regenerating", -1e6, 1e6),
        _Q("accelerator_pedal_position", "1", "accelerator pedal travel, 0 released to 1 floored", 0, 1),
        _Q("brake_pedal_position", "1", "brake pedal travel, 0 released to 1 floored", 0, 1),
        _Q("low_voltage_system_state", "1", "ignition state as the index into VSS LowVoltageSystemState (UNDEFINED, LOCK, OFF, ACC, ON, START)", 0, 5),
        _Q("air_conditioning_active", "1", "1 when air conditioning is on, else 0", 0, 1),
    ]
}


def quantity(name: str) -> Quantity:
    """Look up a quantity by name; unknown names suggest close matches.

    Examples
    --------
    >>> quantity("vehicle_speed").unit
    'm s-1'
    """
    try:
        return GLOSSARY[name]
    except KeyError:
        raise UnknownNameError("quantity", name, GLOSSARY) from None


def check(
    name: str,
    value: npt.ArrayLike,
    field: str | None = None,
    where: str | None = None,
) -> npt.NDArray[np.float64]:
    """Return `value` as a float array after checking it against the glossary range.

    Parameters
    ----------
    name : str
        Glossary name giving unit and valid range.
    value : array_like
        Value(s) in the glossary unit.
    field : str, optional
        Name to report (defaults to `name`).
    where : str, optional
        File or object the value came from.

    Raises
    ------
    ValidationError
        If any value is not a number, is NaN or is outside the valid range.

    Examples
    --------
    >>> float(check("state_of_charge", 0.5))
    0.5
    >>> check("payload", "abc")
    Traceback (most recent call last):
    ...
    twinloop.errors.ValidationError: payload: expected a number in [0, 20000] kg, received 'abc'
    """
    q = quantity(name)
    field = field or name
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        shown = value if isinstance(value, str | int | float) else type(value).__name__
        raise ValidationError(field, f"a number in {q.valid_range}", shown, where) from None
    bad = np.isnan(arr) | (arr < q.minimum) | (arr > q.maximum)
    if np.any(bad):
        first = arr.flat[int(np.flatnonzero(bad)[0])] if arr.ndim else float(arr)
        raise ValidationError(field, f"a number in {q.valid_range}", float(first), where)
    return arr
