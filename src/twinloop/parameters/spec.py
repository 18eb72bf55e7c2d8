"""The vehicle specification: every number a battery-electric vehicle model needs.

A :class:`VehicleSpec` holds SI values only. Files (TOML) carry the unit in
each key (``test_mass_kg``, ``coastdown_a_lbf`` ...) and are converted here,
at the boundary; see ``docs/vehicle-spec.md`` for the field-by-field format.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

from twinloop.conventions import STANDARD_GRAVITY
from twinloop.errors import SpecificationError, close_matches
from twinloop.quantities import GLOSSARY

__all__ = ["DRIVES", "HEATING", "ROAD_LOAD_FORMS", "VehicleSpec", "field_range"]

DRIVES = ("FWD", "RWD", "AWD")
HEATING = ("resistive", "heat_pump")

# Default share of braking left to the motor, by driven axle: the front axle
# takes most braking force, so a FWD car regenerates more than a RWD car.
_REGEN_AXLE_SHARE = {"FWD": 0.80, "RWD": 0.65, "AWD": 0.95}


@dataclass(frozen=True)
class VehicleSpec:
    """A battery-electric vehicle, in SI units.

    Road load is given either physically (``drag_coefficient``,
    ``frontal_area``, ``rolling_resistance_coefficient``) or in coast-down
    form (``coastdown_a``, ``coastdown_b``, ``coastdown_c``); exactly one form
    must be complete. Unset optional values (``None``) take documented
    defaults through the ``effective_*`` properties. Every number is checked
    against its valid range (:func:`field_range`, SI) on construction and by
    :meth:`with_changes`; ``docs/vehicle-spec.md`` lists the ranges.

    Attributes
    ----------
    name, description : str
        Vehicle name (not blank) and one line of description.
    test_mass : float
        Mass as tested, payload included [kg].
    motor_peak_power : float
        Motor peak mechanical power, all motors [W].
    battery_energy : float
        Usable battery energy [J] (1 kWh = 3.6e6 J).
    drive : {"FWD", "RWD", "AWD"}
        Driven axle(s).
    rotating_mass_factor : float
        Equivalent rotating inertia as a fraction of test mass [1].
    drag_coefficient, frontal_area, rolling_resistance_coefficient : float, optional
        Physical road load: Cd [1], A [m2], Crr [1].
    coastdown_a, coastdown_b, coastdown_c : float, optional
        Coast-down road load ``A + B v + C v²``: A [N], B [N s m-1], C [N s2 m-2].
    air_density : float
        For the physical form [kg m-3].
    motor_peak_torque : float, optional
        [N m]; default peak power / 350 rad s-1.
    motor_rated_power : float, optional
        Continuous rating normalising the loss coefficients [W]; default peak power.
    gear_ratio : float
        Overall reduction motor to wheel [1].
    wheel_radius : float
        Dynamic tyre rolling radius [m].
    gearbox_efficiency : float
        [1].
    copper_loss, iron_loss, windage_loss, constant_loss : float
        Motor and inverter loss coefficients, as fractions of the rated power [1].
    regen_max_power : float, optional
        Regenerative power limit at the battery [W]; 0 switches regeneration off.
    regen_axle_share : float, optional
        Share of braking force on the regenerating axle(s) [1].
    regen_fade_speed_low, regen_fade_speed_high : float
        No regeneration below, full regeneration above [m s-1].
    battery_chemistry : {"nmc", "lfp", "lmo"}
        Open-circuit-voltage curve.
    battery_nominal_voltage : float
        Pack nominal voltage [V].
    battery_ohmic_resistance, battery_rc_resistance : float, optional
        Pack series and polarisation resistance [ohm].
    battery_rc_time_constant : float
        RC-pair time constant [s].
    battery_max_discharge_power, battery_max_charge_power : float, optional
        Battery power limits [W]; a charge limit of 0 refuses all charge.
    battery_heat_capacity : float, optional
        Pack heat capacity [J K-1].
    battery_heat_transfer : float
        Pack-to-ambient heat transfer h A [W K-1].
    battery_activation_temperature : float
        Arrhenius activation temperature Ea/R of the resistance [K].
    hvac_heating : {"resistive", "heat_pump"}
        Cabin heating.
    hvac_cop_at_280k, hvac_cop_cooling : float
        Heat-pump COP at 7 °C ambient and A/C COP [1].
    hvac_waste_heat_share : float
        Share of drivetrain losses that heats the cabin [1].
    hvac_max_heating, hvac_max_cooling : float
        Electric heating and cooling power limits [W].
    cabin_conductance : float
        Cabin-to-ambient conductance [W K-1].
    cabin_heat_capacity : float
        [J K-1].
    cabin_setpoint : float
        Cabin set point [K] (294.15 K = 21 °C).
    auxiliary_power : float
        Constant low-voltage load [W].
    charger_efficiency : float
        Wall-to-battery charging efficiency [1].
    sources : mapping of str to str
        Where each value comes from (TOML key, section or field name -> text).

    Examples
    --------
    >>> car = VehicleSpec("demo", test_mass=1800.0, motor_peak_power=150e3, battery_energy=75 * 3.6e6,
    ...                   drag_coefficient=0.25, frontal_area=2.3, rolling_resistance_coefficient=0.008)
    >>> car
    VehicleSpec(name='demo', test_mass=1800.0, motor_peak_power=150000.0, battery_energy=270000000.0, \
drag_coefficient=0.25, frontal_area=2.3, rolling_resistance_coefficient=0.008)
    >>> car.with_changes(battery_energy=float("nan"))
    Traceback (most recent call last):
    ...
    twinloop.errors.SpecificationError: battery_energy in vehicle 'demo': expected a number in [3.6e+06, 3.6e+09] J, received nan
    """

    name: str
    test_mass: float
    motor_peak_power: float
    battery_energy: float
    description: str = ""
    drive: str = "FWD"
    rotating_mass_factor: float = 0.015
    # road load, physical form
    drag_coefficient: float | None = None
    frontal_area: float | None = None
    rolling_resistance_coefficient: float | None = None
    # road load, coast-down form
    coastdown_a: float | None = None
    coastdown_b: float | None = None
    coastdown_c: float | None = None
    air_density: float = 1.2041
    # drivetrain
    motor_peak_torque: float | None = None
    motor_rated_power: float | None = None
    gear_ratio: float = 9.0
    wheel_radius: float = 0.34
    gearbox_efficiency: float = 0.97
    copper_loss: float = 0.04
    iron_loss: float = 0.003
    windage_loss: float = 0.0005
    constant_loss: float = 0.0012
    regen_max_power: float | None = None
    regen_axle_share: float | None = None
    regen_fade_speed_low: float = 1.0
    regen_fade_speed_high: float = 4.0
    # battery
    battery_chemistry: str = "nmc"
    battery_nominal_voltage: float = 360.0
    battery_ohmic_resistance: float | None = None
    battery_rc_resistance: float | None = None
    battery_rc_time_constant: float = 30.0
    battery_max_discharge_power: float | None = None
    battery_max_charge_power: float | None = None
    battery_heat_capacity: float | None = None
    battery_heat_transfer: float = 40.0
    battery_activation_temperature: float = 3500.0
    # cabin and auxiliaries
    hvac_heating: str = "resistive"
    hvac_cop_at_280k: float = 2.5
    hvac_cop_cooling: float = 2.5
    hvac_waste_heat_share: float = 0.0
    hvac_max_heating: float = 6000.0
    hvac_max_cooling: float = 5000.0
    cabin_conductance: float = 90.0
    cabin_heat_capacity: float = 6.0e4
    cabin_setpoint: float = 294.15
    auxiliary_power: float = 300.0
    charger_efficiency: float = 0.88
    # Not hashed (a dict is not hashable) but compared: equal specs still hash equal.
    sources: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        _validate(self)

    def __repr__(self) -> str:
        """The name, the required fields and every field that differs from its default.

        ``sources`` is summarised by its number of entries (see ``spec.sources``).
        """
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "sources":
                if value:
                    parts.append(f"sources=<{len(value)} entries>")
            elif f.default is MISSING or value != f.default:
                parts.append(f"{f.name}={value!r}")
        return f"VehicleSpec({', '.join(parts)})"

    # -- derived values ---------------------------------------------------
    @property
    def road_load_form(self) -> str:
        """``"coastdown"`` or ``"physical"``."""
        return "coastdown" if self.coastdown_a is not None else "physical"

    @property
    def effective_coastdown(self) -> tuple[float, float, float]:
        """Coast-down coefficients A [N], B [N s m-1], C [N s2 m-2] of either form."""
        if self.coastdown_a is not None:
            return (self.coastdown_a, self.coastdown_b or 0.0, self.coastdown_c or 0.0)
        assert self.rolling_resistance_coefficient is not None
        assert self.drag_coefficient is not None and self.frontal_area is not None
        return (
            self.test_mass * STANDARD_GRAVITY * self.rolling_resistance_coefficient,
            0.0,
            0.5 * self.air_density * self.drag_coefficient * self.frontal_area,
        )

    @property
    def effective_motor_peak_torque(self) -> float:
        """Peak torque [N m]; default: peak power at a 350 rad/s corner speed."""
        return self.motor_peak_torque if self.motor_peak_torque is not None else self.motor_peak_power / 350.0

    @property
    def effective_motor_rated_power(self) -> float:
        """Power [W] that normalises the motor loss coefficients; default: peak power.

        Losses scale with the machine's size, which follows its continuous
        rating more closely than a boosted peak figure.
        """
        return self.motor_rated_power if self.motor_rated_power is not None else self.motor_peak_power

    @property
    def effective_regen_max_power(self) -> float:
        """Regenerative power limit [W]; default 60% of peak motor power, at most 150 kW.

        An explicit 0 switches regeneration off (it is not taken as "unset").
        """
        if self.regen_max_power is not None:
            return self.regen_max_power
        return min(0.6 * self.motor_peak_power, 150e3)

    @property
    def effective_regen_axle_share(self) -> float:
        """Share of braking left to the motor [1]; default by drive (FWD 0.80, RWD 0.65, AWD 0.95)."""
        return self.regen_axle_share if self.regen_axle_share is not None else _REGEN_AXLE_SHARE[self.drive]

    @property
    def battery_capacity(self) -> float:
        """Charge capacity [A s] from energy and nominal voltage."""
        return self.battery_energy / self.battery_nominal_voltage

    @property
    def effective_battery_ohmic_resistance(self) -> float:
        """Pack R0 [ohm]; default scales a 75 kWh, 360 V pack's 0.08 ohm by size and voltage."""
        if self.battery_ohmic_resistance is not None:
            return self.battery_ohmic_resistance
        kwh = self.battery_energy / 3.6e6
        return 0.08 * (75.0 / kwh) * (self.battery_nominal_voltage / 360.0) ** 2

    @property
    def effective_battery_rc_resistance(self) -> float:
        """Pack polarisation resistance [ohm]; default half of R0."""
        return self.battery_rc_resistance if self.battery_rc_resistance is not None else 0.5 * self.effective_battery_ohmic_resistance

    @property
    def effective_battery_max_discharge_power(self) -> float:
        """Battery discharge power limit [W]; default 1.2 x motor peak power."""
        if self.battery_max_discharge_power is not None:
            return self.battery_max_discharge_power
        return 1.2 * self.motor_peak_power

    @property
    def effective_battery_max_charge_power(self) -> float:
        """Battery charge (regeneration) power limit [W]; default 2C (0 refuses all charge)."""
        if self.battery_max_charge_power is not None:
            return self.battery_max_charge_power
        return 2.0 * self.battery_energy / 3600.0

    @property
    def effective_battery_heat_capacity(self) -> float:
        """Pack heat capacity [J K-1]; default 1000 J/(kg K) x 6.5 kg per kWh."""
        if self.battery_heat_capacity is not None:
            return self.battery_heat_capacity
        return 1000.0 * 6.5 * self.battery_energy / 3.6e6

    def with_changes(self, **changes: Any) -> VehicleSpec:
        """A copy with some fields replaced (validated again).

        Parameters
        ----------
        **changes
            ``field=value`` in the field's SI unit (``test_mass`` [kg],
            ``battery_energy`` [J], ``cabin_setpoint`` [K] ...); ``None``
            resets an optional field to its derived default.

        Raises
        ------
        SpecificationError
            For an unknown field name (with the closest field names), or a
            value of the wrong type or outside the field's valid range.

        Examples
        --------
        >>> from twinloop.parameters import load_bundled
        >>> leaf = load_bundled("nissan_leaf_40kwh_2018")
        >>> leaf.with_changes(test_mass=1900.0).test_mass
        1900.0
        >>> leaf.with_changes(test_mas=1900.0)
        Traceback (most recent call last):
        ...
        twinloop.errors.SpecificationError: test_mas in vehicle 'nissan_leaf_40kwh_2018': expected a VehicleSpec field, received 'test_mas'. did you mean 'test_mass'?
        """
        _refuse_unknown_fields(changes, f"vehicle {self.name!r}")
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dict (SI)."""
        d = asdict(self)
        d["sources"] = dict(self.sources)
        return d


_FIELD_NAMES = [f.name for f in fields(VehicleSpec)]
_FIELD_SET = frozenset(_FIELD_NAMES)
_OPTIONAL = {f.name for f in fields(VehicleSpec) if f.default is None}


def _refuse_unknown_fields(given: Mapping[str, Any], where: str | None = None) -> None:
    """Every unknown field name is named, each with its closest field names."""
    unknown = [k for k in given if k not in _FIELD_SET]
    if not unknown:
        return
    hints = []
    for name in unknown:
        matches = close_matches(name, _FIELD_NAMES)
        if matches:
            hints.append(("did you mean " if len(unknown) == 1 else f"{name}: did you mean ")
                         + ", ".join(repr(m) for m in matches) + "?")
    raise SpecificationError(
        _and(unknown), "a VehicleSpec field" if len(unknown) == 1 else "VehicleSpec fields",
        unknown[0] if len(unknown) == 1 else unknown, where, hint="; ".join(hints) or None,
    )


def _init_naming_unknown_fields(init: Any) -> Any:
    """Wrap the dataclass ``__init__`` so that a misspelt keyword suggests the field meant."""
    import functools

    @functools.wraps(init)
    def __init__(self: VehicleSpec, *args: Any, **kwargs: Any) -> None:
        for name in kwargs:
            if name not in _FIELD_SET:  # a TypeError, as Python raises, with the fields meant
                matches = close_matches(name, _FIELD_NAMES)
                raise TypeError(f"VehicleSpec() got an unexpected keyword argument {name!r}"
                                + ("; did you mean " + ", ".join(repr(m) for m in matches) + "?" if matches else ""))
        init(self, *args, **kwargs)

    return __init__


VehicleSpec.__init__ = _init_naming_unknown_fields(VehicleSpec.__init__)  # type: ignore[method-assign]

# field -> glossary quantity giving the valid range. Every field that ends up in
# a denominator (capacities, voltages, ratios, radii, efficiencies, heat
# capacities) has a lower bound above zero; tests/sim checks that each field at
# either end of its range simulates.
_RANGES: dict[str, str] = {
    "test_mass": "test_mass",
    "motor_peak_power": "motor_peak_power",
    "rotating_mass_factor": "rotating_mass_factor",
    "drag_coefficient": "drag_coefficient",
    "frontal_area": "frontal_area",
    "rolling_resistance_coefficient": "rolling_resistance_coefficient",
    "coastdown_a": "coastdown_a",
    "coastdown_b": "coastdown_b",
    "coastdown_c": "coastdown_c",
    "air_density": "air_density",
    "motor_peak_torque": "motor_peak_torque",
    "motor_rated_power": "motor_peak_power",
    "gear_ratio": "gear_ratio",
    "wheel_radius": "wheel_radius",
    "gearbox_efficiency": "gearbox_efficiency",
    "regen_max_power": "regen_max_power",
    "regen_axle_share": "regen_axle_share",
    "battery_energy": "battery_rated_energy",
    "battery_nominal_voltage": "battery_nominal_voltage",
    "battery_ohmic_resistance": "pack_ohmic_resistance",  # > 0: it sets the pack's power limit
    "battery_rc_resistance": "pack_polarisation_resistance",
    "battery_heat_capacity": "pack_heat_capacity",
    "battery_heat_transfer": "heat_transfer_coefficient",
    "cabin_conductance": "heat_transfer_coefficient",
    "cabin_heat_capacity": "cabin_heat_capacity",
    "cabin_setpoint": "cabin_setpoint",
    "auxiliary_power": "auxiliary_power",
    "charger_efficiency": "charger_efficiency",
    "hvac_cop_at_280k": "coefficient_of_performance",
    "hvac_cop_cooling": "coefficient_of_performance",
    "hvac_waste_heat_share": "waste_heat_share",
    "hvac_max_heating": "hvac_power",
    "hvac_max_cooling": "hvac_power",
}
# [lower, upper] bounds (SI) for fields without a glossary entry.
_BOUNDS: dict[str, tuple[float, float]] = {
    "copper_loss": (0.0, 0.5),
    "iron_loss": (0.0, 0.5),
    "windage_loss": (0.0, 0.5),
    "constant_loss": (0.0, 0.5),
    "regen_fade_speed_low": (0.0, 20.0),
    "regen_fade_speed_high": (0.0, 30.0),
    "battery_rc_time_constant": (0.0, 1e4),  # 0: no polarisation (the kernel skips the RC pair)
    "battery_max_discharge_power": (1e3, 2e6),  # below 1 kW not even the auxiliaries run
    "battery_max_charge_power": (0.0, 2e6),  # 0: the pack takes no regeneration
    "battery_activation_temperature": (0.0, 2e4),
}


_MIN_THERMAL_TIME_CONSTANT = 10.0  # [s]


def field_range(name: str) -> tuple[float, float]:
    """The valid SI range ``(low, high)`` of a numeric VehicleSpec field.

    Examples
    --------
    >>> field_range("battery_nominal_voltage")
    (48, 1500)
    """
    if name in _RANGES:
        q = GLOSSARY[_RANGES[name]]
        return q.minimum, q.maximum
    if name in _BOUNDS:
        return _BOUNDS[name]
    matches = close_matches(name, [*_RANGES, *_BOUNDS])
    raise SpecificationError(name, "a numeric VehicleSpec field", name,
                             hint="did you mean " + ", ".join(repr(m) for m in matches) + "?" if matches else None)


def _range_text(name: str) -> str:
    if name in _RANGES:
        return GLOSSARY[_RANGES[name]].valid_range
    low, high = _BOUNDS[name]
    return f"[{low:g}, {high:g}]"


# The two road-load forms and their fields; one must be complete, and a form given in part is an error.
ROAD_LOAD_FORMS: dict[str, tuple[str, str, str]] = {
    "physical": ("drag_coefficient", "frontal_area", "rolling_resistance_coefficient"),
    "coast-down": ("coastdown_a", "coastdown_b", "coastdown_c"),
}


def _validate(spec: VehicleSpec) -> None:
    where = f"vehicle {spec.name!r}"
    if not isinstance(spec.name, str) or not spec.name.strip():
        raise SpecificationError("name", "a vehicle name (not blank)", spec.name, where)
    if not isinstance(spec.description, str):
        raise SpecificationError("description", "text (one line)", spec.description, where)
    if not isinstance(spec.sources, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in spec.sources.items()):
        raise SpecificationError("sources", "a mapping of key to source text, e.g. "
                                 "{'road_load.drag_coefficient': 'maker: Cd 0.28'}", spec.sources, where)
    from twinloop.parameters.toml_io import _SOURCE_KEY_SET, _SOURCE_KEYS, _SOURCE_KEYS_EXPECTED

    for key in spec.sources:  # keys a vehicle file can hold, so that every spec dumps to a file that loads
        if key not in _SOURCE_KEY_SET:
            m = close_matches(key, _SOURCE_KEYS)
            raise SpecificationError("sources", f"keys that are {_SOURCE_KEYS_EXPECTED}", key, where,
                                     hint="did you mean " + ", ".join(repr(x) for x in m) + "?" if m else None)
    for name in (*_RANGES, *_BOUNDS):
        value = getattr(spec, name)
        if value is None and name in _OPTIONAL:
            continue
        low, high = field_range(name)
        # numpy scalars (np.float32(1800.0), np.int64(2) from a DataFrame) are numbers too: kept as float
        if type(value) is not float and isinstance(value, numbers.Real) and not isinstance(value, bool | int) \
                and type(value).__name__ != "bool_":
            value = float(value)
            object.__setattr__(spec, name, value)
        if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value) or not (low <= value <= high):
            expected = f"a number in {_range_text(name)}"
            if name in _OPTIONAL:
                expected += " (or None: the derived default)"
            raise SpecificationError(name, expected, value, where)
    for name, choices in (("drive", DRIVES), ("hvac_heating", HEATING)):
        value = getattr(spec, name)
        if value not in choices:
            m = close_matches(value, choices) if isinstance(value, str) else []
            if name == "drive" and str(value).upper() in ("4WD", "4X4"):  # four-wheel drive is AWD here
                m = ["AWD"]
            raise SpecificationError(name, f"one of {', '.join(choices)}", value, where,
                                     hint=f"did you mean {m[0]!r}?" if m else None)
    from twinloop.parameters.chemistry import OCV_TABLES

    if spec.battery_chemistry not in OCV_TABLES:
        m = close_matches(spec.battery_chemistry, OCV_TABLES) if isinstance(spec.battery_chemistry, str) else []
        raise SpecificationError(
            "battery_chemistry", f"one of {', '.join(OCV_TABLES)}", spec.battery_chemistry, where,
            hint=f"did you mean {m[0]!r}?" if m else None,
        )
    _validate_road_load(spec, where)
    # The thermal states step by forward Euler, stable while hA dt / C < 1; a
    # time constant C / hA of at least 10 s (packs and cabins have minutes to
    # hours) keeps every time step the simulator accepts (<= 10 s) stable.
    for capacity_field, capacity, transfer_field, transfer in (
        ("battery_heat_capacity", spec.effective_battery_heat_capacity, "battery_heat_transfer", spec.battery_heat_transfer),
        ("cabin_heat_capacity", spec.cabin_heat_capacity, "cabin_conductance", spec.cabin_conductance),
    ):
        if transfer * _MIN_THERMAL_TIME_CONSTANT > capacity * (1 + 1e-9):  # tolerance: TOML rounding
            raise SpecificationError(
                transfer_field,
                f"at most {capacity / _MIN_THERMAL_TIME_CONSTANT:.4g} W K-1, the {capacity_field.replace('_', ' ')} "
                f"over {_MIN_THERMAL_TIME_CONSTANT:g} s (a thermal time constant below {_MIN_THERMAL_TIME_CONSTANT:g} s "
                "is not physical and makes the simulation unstable)",
                transfer, where,
            )
    if spec.regen_fade_speed_high <= spec.regen_fade_speed_low:
        raise SpecificationError(
            "regen_fade_speed_high", f"greater than regen_fade_speed_low ({spec.regen_fade_speed_low:g} m/s)",
            spec.regen_fade_speed_high, where,
        )


def _validate_road_load(spec: VehicleSpec, where: str) -> None:
    """One road-load form must be complete, and neither may be given in part.

    A part of the coast-down form next to a complete physical form would
    otherwise be used with its missing coefficients as 0 (no aerodynamic
    drag), since the coast-down form takes precedence.
    """
    given = {form: [f for f in names if getattr(spec, f) is not None] for form, names in ROAD_LOAD_FORMS.items()}
    complete = [form for form, names in ROAD_LOAD_FORMS.items() if len(given[form]) == len(names)]
    partial = [form for form in ROAD_LOAD_FORMS if given[form] and form not in complete]
    if complete and not partial:
        return
    fields_given = [f for names in given.values() for f in names]
    missing = [_missing_from(form, [f for f in names if f not in given[form]]) for form, names in
               ROAD_LOAD_FORMS.items() if form in partial]
    raise SpecificationError(
        "road_load", "either drag_coefficient, frontal_area and rolling_resistance_coefficient, "
        "or coastdown_a, coastdown_b and coastdown_c (a second form, if given, complete too)",
        _and(fields_given) if fields_given else "no road-load field", where,
        hint="; ".join(missing) or None,
    )


def _missing_from(form: str, names: list[str]) -> str:
    return f"{_and(names)} {'is' if len(names) == 1 else 'are'} missing from the {form} form"


def _and(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
