"""Vehicles and measured energy from the US EPA 2022 test car list.

The EPA publishes, for every vehicle tested for fuel economy, the equivalent
test weight (the dynamometer inertia), the target road-load (coast-down)
coefficients, the drive system, the rated power and the laboratory result.
For battery-electric vehicles the result is the wall energy measured during
recharge after a charge-depleting test, reported in MPGe (33,705 Wh per
gallon equivalent). That is enough to build a :class:`VehicleSpec` and to
check a simulation against measured energy per distance.

A copy of the file (electric rows only) ships in ``parameters/data/`` with
its provenance; see ``PROVENANCE.md`` there for the file's known defects and
how they are repaired.

Examples
--------
>>> tests = read_epa_tests()
>>> len(tests), unit_fix_count(tests)
(238, 43)
>>> spec = epa_vehicle_spec("nissan", "leaf sv/sl")
>>> spec.drive, round(spec.test_mass, 1)
('FWD', 1927.8)
"""

from __future__ import annotations

import functools
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twinloop.errors import DataError, SpecificationError, UnknownNameError, ValidationError
from twinloop.parameters.spec import VehicleSpec
from twinloop.physics.road_load import LBF, MPH

__all__ = [
    "EPA_LIBRARY_PREFIX",
    "GENERIC_CONSTANTS",
    "KWH_PER_100MI_THRESHOLD",
    "WH_PER_GALLON_EQUIVALENT",
    "epa_fleet",
    "epa_vehicle_spec",
    "read_epa_tests",
    "spec_from_epa_row",
    "unit_fix_count",
]

WH_PER_GALLON_EQUIVALENT = 33705.0
"""Energy of one gallon of gasoline equivalent [Wh] (EPA MPGe definition)."""
KWH_PER_100MI_THRESHOLD = 60.0
"""Results below this many 'MPGe' are read as kWh per 100 miles (see module notes)."""
EPA_LIBRARY_PREFIX = "epa2022:"
"""Prefix of the library names of EPA test vehicles, e.g. ``epa2022:nissan_leaf_kwb115_c0``."""

POUND = 0.45359237
"""One pound [kg]."""
HORSEPOWER = 745.7
"""One (mechanical) horsepower [W], as the EPA rates it."""
MILE = 1609.344
"""One mile [m]."""

_BUNDLED = "22-tstcar-electric.csv"

# Test Procedure Description -> short name. Unlisted descriptions are slugified.
_PROCEDURES = {
    "Charge Depleting UDDS": "udds",
    "Charge Depleting Highway": "hwfet",
    "Charge Depleting 20 Degree F FTP": "ftp_cold",
    "Charge Depleting US06": "us06",
    "CVS 75 and later (w/o can. load)": "ftp",
    "HWFE": "hwfe",
    "SC03": "sc03",
    "US06": "us06",
}
_DRIVES = {"F": "FWD", "R": "RWD", "A": "AWD", "4": "AWD", "P": "AWD"}
# Reported makes that are not makes (see PROVENANCE.md), and capitalisation.
_MAKE_FIXES = {
    "2022": "Lucid",
    "polestar2 dual motor": "Polestar",
    "bmw": "BMW",
    "mercedes-benz": "Mercedes-Benz",
}
# Defects found by reading the file, by Test Vehicle ID (see PROVENANCE.md).
_KNOWN_DEFECTS = {
    "1NFV5831": "results look like label values (0.7-adjusted: HWFET 109 = the 2022 Bolt EV's 109 MPGe "
                "highway label), not laboratory values",
}
# Rated power below this specific power is a data-entry error (the Kona Electric's 37 hp).
_MIN_SPECIFIC_POWER = 30.0  # W kg-1
_FLOOR_SPECIFIC_POWER = 60.0  # W kg-1
# Usable battery energy estimate from test mass (the file gives none).
_BATTERY_KWH_PER_KG = 0.035
_BATTERY_KWH_RANGE = (30.0, 150.0)
# Rotating inertia the car itself spins up on the dynamometer, beyond the
# ETW the rolls simulate: driven wheels, motor rotor(s) and gears.
_ROTATING_MASS_FACTOR = {"FWD": 0.02, "RWD": 0.02, "AWD": 0.035}
# Loss coefficients are normalised by a continuous rating sized by mass rather
# than the rated peak power (a 1,111 hp Lucid is among the most efficient cars).
RATED_POWER_PER_KG = 60.0  # W kg-1
_NV_RANGE = (60.0, 200.0)  # plausible N/V ratios of single-reduction EVs [rpm mph-1]
_DEFAULT_WHEEL_RADIUS = 0.34  # VehicleSpec's default [m]

GENERIC_CONSTANTS: dict[str, float] = {
    "copper_loss": 0.00967,
    "iron_loss": 0.0,
    "constant_loss": 0.01101,
    "auxiliary_power": 0.0,
    "charger_efficiency": 0.9293,
    "multi_speed_drag": 866.0,
}
"""The generic model's constants, fitted on every 2022 UDDS and highway test.

Produced by ``python benchmarks/epa_accuracy.py --json``
(``generic_constants_all_data``, refreshed 2026-12-08 when the benchmark moved
to the simulator's ``dynamometer`` condition); the benchmark's figures come from refitting
them with each manufacturer left out. ``multi_speed_drag`` [W] is the extra
constant power of a two-speed transmission (clutch and actuation drag), added
to the auxiliary load of vehicles with more than one gear. The auxiliary load
fits to zero because the constant motor loss carries it (on a dynamometer the
two cannot be told apart).
"""


def read_epa_tests(path: str | Path | None = None) -> pd.DataFrame:
    """Read the EPA test car list into one row per test with clean SI columns.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        An EPA test car list CSV (electric rows, or the full list: rows whose
        test fuel is not electricity are dropped). Default: the bundled 2022
        copy.

    Returns
    -------
    pandas.DataFrame
        One row per test, in file order, with columns

        ``make`` (cleaned), ``make_reported``, ``model``, ``test_vehicle_id``,
        ``configuration`` (int), ``test_number``, ``test_procedure``
        (``udds``, ``hwfet``, ``ftp_cold``, ``ftp``, ``hwfe``, ``sc03``,
        ``us06`` or the slugified description), ``test_category`` (``CD`` =
        charge depleting), ``vehicle_type``, ``test_mass`` [kg] (equivalent
        test weight), ``coastdown_a`` [N], ``coastdown_b`` [N s m-1],
        ``coastdown_c`` [N s2 m-2] (target coefficients),
        ``set_coastdown_a/b/c`` (dynamometer settings, same units),
        ``drive`` (FWD, RWD, AWD), ``rated_power`` [W], ``axle_ratio`` [1],
        ``nv_ratio`` [rpm mph-1], ``gears`` (forward gears, 1 if not given),
        ``fe_reported`` (the file's value),
        ``wh_per_mile`` [Wh mi-1] (wall energy, NaN where the test has no
        result), ``unit_fixed`` (the value was kWh/100 mi, see Notes),
        ``suspect`` (bool) and ``note`` (why).

    Raises
    ------
    DataError
        If a required column is missing.

    Notes
    -----
    ``wh_per_mile = 33705 / MPGe``. Some manufacturers entered kWh per 100
    miles although ``FE_UNIT`` says MPG; a value below
    :data:`KWH_PER_100MI_THRESHOLD` (60; the lowest genuine MPGe in the 2022
    file is 82.3) is read that way, ``wh_per_mile = 10 * value``, and flagged
    ``unit_fixed``. The count is in ``attrs["unit_fixed_count"]`` (43 in
    the 2022 file). A charge-depleting UDDS/highway pair of one configuration
    that disagrees in unit marks the converted one ``suspect``; so does a
    rated power below 30 W per kg of test mass, and the known defects listed
    in ``parameters/data/PROVENANCE.md`` (the 2022 Bolt EV's results equal
    its label values).

    Examples
    --------
    >>> t = read_epa_tests()
    >>> row = t.iloc[1]
    >>> row.model, row.test_procedure, round(float(row.coastdown_a), 2), round(float(row.wh_per_mile), 1)
    ('i4 eDrive 40 Gran Coupe (18" Wheels)', 'udds', 150.79, 215.6)
    >>> t.attrs["unit_fixed_count"]
    43
    """
    if path is None:
        return _bundled_tests().copy()
    return _read(Path(path))


@functools.lru_cache(maxsize=1)
def _bundled_tests() -> pd.DataFrame:
    with resources.as_file(resources.files("twinloop.parameters") / "data" / _BUNDLED) as p:
        return _read(p)


_REQUIRED = [
    "Represented Test Veh Make", "Represented Test Veh Model", "Test Vehicle ID",
    "Test Veh Configuration #", "Test Procedure Description", "Equivalent Test Weight (lbs.)",
    "Target Coef A (lbf)", "Target Coef B (lbf/mph)", "Target Coef C (lbf/mph**2)",
    "Drive System Code", "Rated Horsepower", "RND_ADJ_FE",
]


# How to fix a file that is not a test car list.
_WHERE_TO_GET = ("give the EPA's \"Data on Cars Used for Testing Fuel Economy\" CSV (e.g. 23-tstcar.csv) "
                 "or leave out CSV for the bundled 2022 list")


def _read(path: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, dtype={"Test Vehicle ID": str, "Test Number": str}, low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty, not an EPA test car list; {_WHERE_TO_GET}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc).strip().splitlines()[0]
        raise DataError(
            f"{path}: cannot read as CSV ({reason}), not an EPA test car list; {_WHERE_TO_GET}"
        ) from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not an EPA test car list CSV; give a file") from None
    except PermissionError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror}); check its permissions") from None
    missing = [c for c in _REQUIRED if c not in raw.columns]
    if missing:
        found = ", ".join(map(str, raw.columns[:5])) + (" ..." if len(raw.columns) > 5 else "")
        raise DataError(
            f"{path}: not an EPA test car list; missing columns {', '.join(missing[:3])}"
            f"{' ...' if len(missing) > 3 else ''}; found {found}; {_WHERE_TO_GET}"
        )
    if "Test Fuel Type Description" in raw.columns:
        raw = raw[raw["Test Fuel Type Description"].str.strip().str.lower() == "electricity"]
    raw = raw.reset_index(drop=True)

    def num(col: str) -> pd.Series:
        return pd.to_numeric(raw[col], errors="coerce").astype(float)

    make_reported = raw["Represented Test Veh Make"].astype(str).str.strip()
    manufacturer = raw.get("Vehicle Manufacturer Name", make_reported).astype(str)
    out = pd.DataFrame({
        "make": [_clean_make(m, f) for m, f in zip(make_reported, manufacturer, strict=True)],
        "make_reported": make_reported,
        "model": raw["Represented Test Veh Model"].astype(str).str.strip(),
        "test_vehicle_id": raw["Test Vehicle ID"].astype(str).str.strip(),
        "configuration": num("Test Veh Configuration #").fillna(0).astype(int),
        "test_number": raw.get("Test Number", pd.Series([""] * len(raw))).astype(str),
        "test_procedure": [_procedure(d) for d in raw["Test Procedure Description"].astype(str)],
        "test_category": raw.get("Test Category", pd.Series([""] * len(raw))).astype(str),
        "vehicle_type": raw.get("Vehicle Type", pd.Series([""] * len(raw))).astype(str),
        "test_mass": num("Equivalent Test Weight (lbs.)") * POUND,
        "coastdown_a": num("Target Coef A (lbf)") * LBF,
        "coastdown_b": num("Target Coef B (lbf/mph)") * LBF / MPH,
        "coastdown_c": num("Target Coef C (lbf/mph**2)") * LBF / MPH**2,
    })
    for suffix, factor in (("A (lbf)", LBF), ("B (lbf/mph)", LBF / MPH), ("C (lbf/mph**2)", LBF / MPH**2)):
        col = f"Set Coef {suffix}"
        out[f"set_coastdown_{suffix[0].lower()}"] = num(col) * factor if col in raw else np.nan
    out["drive"] = raw["Drive System Code"].astype(str).str.strip().map(_DRIVES)
    if "Drive System Description" in raw:
        by_text = raw["Drive System Description"].astype(str).map(_drive_from_text)
        out["drive"] = out["drive"].fillna(by_text)
    out["rated_power"] = num("Rated Horsepower") * HORSEPOWER
    out["axle_ratio"] = num("Axle Ratio") if "Axle Ratio" in raw else np.nan
    out["nv_ratio"] = num("N/V Ratio") if "N/V Ratio" in raw else np.nan
    out["gears"] = num("# of Gears").fillna(1).astype(int) if "# of Gears" in raw else 1
    fe = num("RND_ADJ_FE")
    out["fe_reported"] = fe
    fixed = fe < KWH_PER_100MI_THRESHOLD
    out["unit_fixed"] = fixed.to_numpy()
    out["wh_per_mile"] = np.where(fixed, fe * 10.0, WH_PER_GALLON_EQUIVALENT / fe)
    _flag_suspects(out)
    out.attrs["unit_fixed_count"] = int(fixed.sum())
    out.attrs["source"] = str(path)
    return out


def _clean_make(make: str, manufacturer: str) -> str:
    fixed = _MAKE_FIXES.get(make.lower())
    if fixed is not None:
        return fixed
    if not make or make.isdigit():
        return manufacturer.split()[0].title()
    return make.title() if make.isupper() or make.islower() else make


def _procedure(description: str) -> str:
    description = description.strip()
    return _PROCEDURES.get(description) or re.sub(r"[^a-z0-9]+", "_", description.lower()).strip("_")


def _drive_from_text(text: str) -> str | None:
    t = text.lower()
    if "4-wheel" in t or "all wheel" in t:
        return "AWD"
    if "front" in t:
        return "FWD"
    if "rear" in t:
        return "RWD"
    return None


def _flag_suspects(out: pd.DataFrame) -> None:
    notes = [""] * len(out)
    keys = ["make", "model", "test_vehicle_id", "configuration"]
    cd = out[out.test_procedure.isin(["udds", "hwfet"]) & out.wh_per_mile.notna()]
    for _, group in cd.groupby(keys, sort=False):
        units = set(group.unit_fixed)
        if len(units) > 1:
            for i in group.index[group.unit_fixed]:
                notes[i] = "kWh/100mi reading disagrees with its UDDS/HWFET partner (likely a typo)"
    low_power = out.rated_power < _MIN_SPECIFIC_POWER * out.test_mass
    for i in np.flatnonzero(low_power.to_numpy()):
        notes[i] = "; ".join(filter(None, [notes[i], "rated power implausibly low"]))
    for i, vid in enumerate(out.test_vehicle_id):
        if vid in _KNOWN_DEFECTS:
            notes[i] = "; ".join(filter(None, [notes[i], _KNOWN_DEFECTS[vid]]))
    out["note"] = notes
    out["suspect"] = out["note"] != ""


def unit_fix_count(tests: pd.DataFrame | None = None) -> int:
    """Number of results that were kWh/100 mi entered as MPGe (43 in the 2022 file).

    Examples
    --------
    >>> unit_fix_count()
    43
    """
    tests = read_epa_tests() if tests is None else tests
    return int(tests["unit_fixed"].sum())


_KEYS = ["make", "model", "test_vehicle_id", "configuration"]


def library_name(make: str, model: str, test_vehicle_id: str, configuration: int) -> str:
    """Library name of one EPA test vehicle configuration.

    Examples
    --------
    >>> library_name("BMW", 'i4 M50 Gran Coupe (19" Wheels)', "FK96493", 1)
    'epa2022:bmw_i4_m50_gran_coupe_19_wheels_fk96493_c1'
    """
    slug = re.sub(r"[^a-z0-9]+", "_", f"{make} {model} {test_vehicle_id}".lower()).strip("_")
    return f"{EPA_LIBRARY_PREFIX}{slug}_c{configuration}"


def epa_fleet(tests: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every EPA test vehicle configuration with its measured energy per cycle.

    A configuration is one (make, model, test vehicle ID, configuration #):
    one test mass, one set of road-load coefficients. Repeated tests of a
    configuration are averaged.

    Parameters
    ----------
    tests : pandas.DataFrame, optional
        From :func:`read_epa_tests` (default: the bundled 2022 file).

    Returns
    -------
    pandas.DataFrame
        One row per configuration, sorted by ``name``: ``name`` (library
        name, ``epa2022:<make>_<model>_<test vehicle id>_c<configuration>``),
        ``make``, ``model``, ``test_vehicle_id``, ``configuration``,
        ``test_mass`` [kg], ``drive``, ``rated_power`` [W], ``coastdown_a``
        [N], ``coastdown_b`` [N s m-1], ``coastdown_c`` [N s2 m-2],
        ``axle_ratio``, ``nv_ratio``, ``gears``, ``udds_wh_per_mile``, ``hwfet_wh_per_mile``, ``ftp_cold_wh_per_mile``
        (wall energy [Wh mi-1], NaN where not tested), ``n_udds``,
        ``n_hwfet``, ``n_ftp_cold`` (tests averaged), ``unit_fixed`` (any
        result converted from kWh/100 mi), ``suspect`` and ``note``.

    Examples
    --------
    >>> fleet = epa_fleet()
    >>> len(fleet), int((fleet.n_udds.gt(0) & fleet.n_hwfet.gt(0)).sum())
    (97, 97)
    >>> leaf = fleet[fleet.name == "epa2022:nissan_leaf_kwb115_c0"].iloc[0]
    >>> round(float(leaf.udds_wh_per_mile), 1), round(float(leaf.hwfet_wh_per_mile), 1)
    (193.7, 238.9)
    """
    if tests is None:
        return _bundled_fleet().copy()
    first = tests.groupby(_KEYS, sort=False).first().reset_index()
    fleet = first[[*_KEYS, "test_mass", "drive", "rated_power", "coastdown_a", "coastdown_b", "coastdown_c",
                    "axle_ratio", "nv_ratio", "gears"]].copy()
    for proc in ("udds", "hwfet", "ftp_cold"):
        sel = tests[(tests.test_procedure == proc) & tests.wh_per_mile.notna()]
        agg = sel.groupby(_KEYS, sort=False).wh_per_mile.agg(["mean", "count"]).reset_index()
        agg = agg.rename(columns={"mean": f"{proc}_wh_per_mile", "count": f"n_{proc}"})
        fleet = fleet.merge(agg, on=_KEYS, how="left")
        fleet[f"n_{proc}"] = fleet[f"n_{proc}"].fillna(0).astype(int)
    flags = tests.groupby(_KEYS, sort=False).agg(
        unit_fixed=("unit_fixed", "any"), suspect=("suspect", "any"),
        note=("note", lambda s: "; ".join(sorted({n for n in s if n}))),
    ).reset_index()
    fleet = fleet.merge(flags, on=_KEYS, how="left")
    fleet.insert(0, "name", [library_name(*k) for k in fleet[_KEYS].itertuples(index=False)])
    if fleet.name.duplicated().any():  # pragma: no cover - guards a future file
        raise DataError(f"EPA library names collide: {sorted(fleet.name[fleet.name.duplicated()])}")
    return fleet.sort_values("name").reset_index(drop=True)


@functools.lru_cache(maxsize=1)
def _bundled_fleet() -> pd.DataFrame:
    return epa_fleet(_bundled_tests())


def epa_vehicle_spec(
    make: str,
    model: str,
    tests: pd.DataFrame | None = None,
    test_vehicle_id: str | None = None,
    configuration: int | None = None,
) -> VehicleSpec:
    """Build a :class:`VehicleSpec` for an EPA test vehicle.

    Parameters
    ----------
    make : str
        Make, case-insensitive (``"tesla"``); a substring is enough.
    model : str
        Model, case-insensitive substring (``"model 3 long range"``).
    tests : pandas.DataFrame, optional
        From :func:`read_epa_tests` (default: the bundled 2022 file).
    test_vehicle_id : str, optional
        Pick this test vehicle (case-insensitive) when several match.
    configuration : int, optional
        Pick this configuration # when several match.

    Returns
    -------
    VehicleSpec
        Named by the library name (:func:`epa_fleet`); every value's origin
        is in ``sources``.

    Raises
    ------
    UnknownNameError
        If nothing matches (the message lists close matches).

    Notes
    -----
    When several configurations match, the first in this order is taken:
    exact model name before substring matches; configurations with both a
    UDDS and a highway result and no ``suspect`` flag first; then by model (case-insensitive),
    test vehicle ID and configuration number (the file's row order is not
    used). The spec's description says how many candidates there were.

    What comes from where:

    - ``test_mass``: equivalent test weight (the dynamometer inertia).
    - ``coastdown_a/b/c``: the *target* coefficients (the vehicle's road
      load, from its coast-down), not the dynamometer set coefficients.
    - ``drive``: Drive System Code (4-wheel, all-wheel and part-time 4WD → AWD).
    - ``motor_peak_power``: rated horsepower × 745.7 W; below 30 W per kg of
      test mass it is taken as a data-entry error and replaced by 60 W/kg.
    - ``rotating_mass_factor``: 0.02 (FWD, RWD) or 0.035 (AWD). The rolls
      simulate the ETW, but the car still spins up its own driven wheels,
      rotor(s) and gears: about 2 × 0.8 kg m² of wheels and 0.04 kg m² of
      rotor × 9² gear ratio², over r² ≈ 0.11 m², is some 40 kg, 2 % of a
      2 t car; an AWD car on a four-wheel dynamometer spins twice as much.
      An estimate, stated in ``sources``.
    - ``battery_energy``: the file has none. Estimated as 0.035 kWh per kg
      of test mass, clipped to [30, 150] kWh. It only scales the default
      pack resistance and heat capacity, so it hardly changes the two-cycle
      energy.
    - ``gear_ratio`` and ``wheel_radius``: from Axle Ratio and N/V Ratio
      (``r = ratio × 0.44704 × 60 / (2π N/V)``) where the ratio is in
      [5, 15] and the radius in [0.28, 0.40] m; else, where N/V alone is
      plausible ([60, 200] rpm/mph), the gear ratio that gives that motor
      speed on the default 0.34 m wheel; otherwise the defaults (the file
      holds placeholders such as 1.00 or 999.9 for many EVs).
    - ``motor_rated_power``: 60 W per kg of test mass (normalises the loss
      coefficients).
    - loss coefficients, auxiliary load and charger efficiency:
      :data:`GENERIC_CONSTANTS`, fitted on the whole file; vehicles with more
      than one gear add ``multi_speed_drag`` to the auxiliary load.
    - everything else: the :class:`VehicleSpec` defaults.

    Examples
    --------
    >>> spec = epa_vehicle_spec("Tesla", "Model 3 Long Range")
    >>> spec.name, spec.drive, round(spec.motor_peak_power / 1e3, 1)
    ('epa2022:tesla_model_3_long_range_awd_3d322_028886_c0', 'AWD', 293.1)
    >>> round(spec.coastdown_a, 1), round(spec.coastdown_c, 4)
    (155.6, 0.3294)
    """
    for field, value, example in (("make", make, "tesla"), ("model", model, "model 3")):
        if not isinstance(value, str) or not value.strip():  # "" is a part of every name
            raise ValidationError(field, f"a {field}, e.g. {example} (case-insensitive, a part is enough)", value)
    fleet = epa_fleet(tests)
    m_make, m_model = make.strip().lower(), model.strip().lower()
    makes = fleet.make.str.lower()
    hit = (makes == m_make) | makes.str.contains(m_make, regex=False)
    if not hit.any():
        known_makes = sorted(set(fleet.make))
        raise UnknownNameError("EPA 2022 make", make, known_makes,
                               hint="The EPA 2022 list holds battery-electric test vehicles only; its makes: "
                                    + ", ".join(known_makes))
    hit &= fleet.model.str.lower().str.contains(m_model, regex=False)
    if test_vehicle_id is not None:
        hit &= fleet.test_vehicle_id.str.lower() == test_vehicle_id.strip().lower()
    if configuration is not None:
        hit &= fleet.configuration == configuration
    candidates = fleet[hit]
    if candidates.empty:
        known = sorted({f"{r.make} {r.model}" for r in fleet.itertuples()})
        if test_vehicle_id is not None or configuration is not None:
            known = [f"{r.make} {r.model} (test vehicle {r.test_vehicle_id}, configuration {r.configuration})"
                     for r in fleet.itertuples()]
        query = f"{make} {model}"
        if test_vehicle_id is not None:
            query += f" (test vehicle {test_vehicle_id}"
            query += f", configuration {configuration})" if configuration is not None else ")"
        raise UnknownNameError("EPA 2022 vehicle", query, known,
                               hint="Run `twinloop vehicle list --epa` to see them all.")
    order = candidates.assign(
        _inexact=candidates.model.str.lower() != m_model,
        _incomplete=~((candidates.n_udds > 0) & (candidates.n_hwfet > 0)),
        _model=candidates.model.str.lower(),
    ).sort_values(["_inexact", "_incomplete", "suspect", "_model", "test_vehicle_id", "configuration"])
    row = order.iloc[0]
    spec = _spec_from_row(row, None if tests is None else tests.attrs.get("source"))
    if len(order) > 1:
        spec = spec.with_changes(description=spec.description + (
            f" Chosen among {len(order)} matching configurations; the other{'s' if len(order) > 2 else ''}: "
            + ", ".join(order.name.iloc[1:6]) + (" ..." if len(order) > 6 else "") + "."))
    return spec


def spec_from_epa_row(row: Any) -> VehicleSpec:
    """The generic twin of one EPA test vehicle, from one row of :func:`read_epa_tests` or :func:`epa_fleet`.

    See :func:`epa_vehicle_spec` for what comes from where. Rows of
    :func:`read_epa_tests` have no library ``name``; it is made from the make,
    model, test vehicle and configuration.

    Examples
    --------
    >>> row = read_epa_tests().iloc[1]
    >>> spec = spec_from_epa_row(row)
    >>> spec.name, round(spec.motor_rated_power / spec.test_mass)
    ('epa2022:bmw_i4_edrive_40_gran_coupe_18_wheels_fk96502_c0', 60)
    """
    return _spec_from_row(row)


def _field(row: Any, key: str, default: Any) -> Any:
    """A column of a Series row or a named tuple (``Series.name`` is the index label, not a column)."""
    if isinstance(row, pd.Series):
        return row[key] if key in row.index else default
    return getattr(row, key, default)


# VehicleSpec field -> the EPA column it comes from, its factor to SI and its unit, to name a bad value.
_EPA_COLUMNS = {
    "test_mass": ("Equivalent Test Weight (lbs.)", POUND, "lb"),
    "coastdown_a": ("Target Coef A (lbf)", LBF, "lbf"),
    "coastdown_b": ("Target Coef B (lbf/mph)", LBF / MPH, "lbf/mph"),
    "coastdown_c": ("Target Coef C (lbf/mph**2)", LBF / MPH**2, "lbf/mph2"),
    "motor_peak_power": ("Rated Horsepower", HORSEPOWER, "hp"),
}


def _spec_from_row(row: Any, source: str | None = None) -> VehicleSpec:
    """The spec of one row; a value VehicleSpec refuses is named by its EPA column and the CSV it came from."""
    try:
        return _build_spec(row)
    except SpecificationError as exc:
        if exc.field not in _EPA_COLUMNS:
            raise
        column, factor, unit = _EPA_COLUMNS[exc.field]
        value = float(exc.received) if isinstance(exc.received, int | float) else math.nan
        received = f"{value / factor:.6g} {unit}" if math.isfinite(value) else "an empty cell or text"
        where = (f"{source or 'the EPA 2022 test car list'}, test vehicle {row.test_vehicle_id}, "
                 f"configuration {row.configuration}")
        raise SpecificationError(column, f"{exc.expected} (as twinloop's {exc.field})", received, where) from None


def _build_spec(row: Any) -> VehicleSpec:
    where = f"EPA 2022 test car list, test vehicle {row.test_vehicle_id}, configuration {row.configuration}"
    mass = float(row.test_mass)
    drive = str(row.drive) if isinstance(row.drive, str) else "FWD"
    sources = {
        "mass.test_mass_kg": f"{where}: Equivalent Test Weight {mass / POUND:.0f} lb",
        "road_load": f"{where}: target coast-down coefficients A, B, C (lbf, lbf/mph, lbf/mph²) converted to SI",
        "drivetrain.drive": f"{where}: Drive System Code",
    }
    power = float(row.rated_power)
    if not power >= _MIN_SPECIFIC_POWER * mass:
        floor = _FLOOR_SPECIFIC_POWER * mass
        sources["drivetrain.motor_peak_power_kw"] = (
            f"estimate: rated {power / HORSEPOWER:.0f} hp in the {where} is implausible "
            f"(< {_MIN_SPECIFIC_POWER:g} W/kg); replaced by {_FLOOR_SPECIFIC_POWER:g} W/kg of test mass")
        power = floor
    else:
        sources["drivetrain.motor_peak_power_kw"] = f"{where}: Rated Horsepower {power / HORSEPOWER:.0f} hp × 745.7 W"
    kwh = float(np.clip(_BATTERY_KWH_PER_KG * mass, *_BATTERY_KWH_RANGE))
    sources["battery.energy_kwh"] = (
        f"estimate: {_BATTERY_KWH_PER_KG} kWh per kg of test mass, clipped to {list(_BATTERY_KWH_RANGE)} kWh "
        "(the EPA file gives no battery size; it barely affects cycle energy)")
    sources["mass.rotating_mass_factor"] = (
        "estimate: driven wheels, rotor(s) and gears the car spins up on the dynamometer beyond the ETW inertia "
        "(see twinloop.parameters.epa.epa_vehicle_spec)")
    extra: dict[str, float] = {}
    ratio, nv = float(row.axle_ratio), float(row.nv_ratio)
    if 5.0 <= ratio <= 15.0 and nv > 0:
        radius = ratio * MPH * 60.0 / (2.0 * np.pi * nv)
        if 0.28 <= radius <= 0.40:
            extra = {"gear_ratio": ratio, "wheel_radius": float(radius)}
            sources["drivetrain.gear_ratio"] = f"{where}: Axle Ratio {ratio:g}"
            sources["drivetrain.wheel_radius_m"] = f"{where}: from Axle Ratio and N/V Ratio {nv:g} rpm/mph"
    if not extra and _NV_RANGE[0] <= nv <= _NV_RANGE[1]:
        # axle ratio is a placeholder, but N/V still gives the motor speed per road speed
        extra = {"gear_ratio": float(nv * 2.0 * np.pi * _DEFAULT_WHEEL_RADIUS / (60.0 * MPH))}
        sources["drivetrain.gear_ratio"] = (f"{where}: from N/V Ratio {nv:g} rpm/mph at the default "
                                            f"{_DEFAULT_WHEEL_RADIUS} m wheel radius")
    name = str(_field(row, "name", ""))
    if not name.startswith(EPA_LIBRARY_PREFIX):
        name = library_name(row.make, row.model, row.test_vehicle_id, row.configuration)
    g = GENERIC_CONSTANTS
    gears = int(_field(row, "gears", 1) or 1)
    extra.update(
        motor_rated_power=RATED_POWER_PER_KG * mass,
        copper_loss=g["copper_loss"], iron_loss=g["iron_loss"], constant_loss=g["constant_loss"],
        auxiliary_power=g["auxiliary_power"] + (g["multi_speed_drag"] if gears > 1 else 0.0),
        charger_efficiency=g["charger_efficiency"],
    )
    sources["drivetrain.motor_rated_power_kw"] = f"estimate: {RATED_POWER_PER_KG:g} W per kg of test mass"
    sources["drivetrain.motor_loss"] = ("generic constants fitted on every EPA 2022 UDDS and highway test "
                                        "(twinloop.parameters.epa.GENERIC_CONSTANTS)")
    if gears > 1:
        sources["auxiliary.power_w"] = f"{where}: {gears} gears, so the generic two-speed transmission drag is added"
    return VehicleSpec(
        name=name,
        description=f"{row.make} {row.model}: EPA 2022 test vehicle {row.test_vehicle_id}, "
                    f"configuration {row.configuration}.",
        test_mass=mass,
        motor_peak_power=power,
        battery_energy=kwh * 3.6e6,
        drive=drive,
        rotating_mass_factor=_ROTATING_MASS_FACTOR[drive],
        coastdown_a=float(row.coastdown_a),
        coastdown_b=float(row.coastdown_b),
        coastdown_c=float(row.coastdown_c),
        sources=sources,
    ).with_changes(**extra)

