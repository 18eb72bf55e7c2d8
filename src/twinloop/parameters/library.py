"""The library of real vehicles: bundled TOML files and every EPA 2022 test vehicle.

Two collections, each registered under its own name pattern:

- **Physical specifications** in ``parameters/vehicles/*.toml``, named in
  snake_case (``tesla_model_3_long_range_2022``): a handful of well-known
  BEVs with drag coefficient, frontal area, rolling resistance and the source
  of every number in ``[sources]``.
- **EPA 2022 test vehicles**, built at run time from the bundled EPA test car
  list by :func:`twinloop.parameters.epa.epa_vehicle_spec`: one entry per
  test vehicle configuration (test mass and road-load coefficients), named
  ``epa2022:<make>_<model>_<test vehicle id>_c<configuration #>`` in
  lower-case snake_case, e.g. ``epa2022:nissan_leaf_kwb115_c0``.

Examples
--------
>>> names = bundled_vehicles()
>>> "nissan_leaf_40kwh_2018" in names, "epa2022:nissan_leaf_kwb115_c0" in names
(True, True)
>>> resolve_vehicle("bmw_i3_120ah_2019").drive
'RWD'
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from twinloop.errors import DataError, UnknownNameError, ValidationError
from twinloop.parameters import epa
from twinloop.parameters.spec import VehicleSpec
from twinloop.parameters.toml_io import load_vehicle

__all__ = ["bundled_vehicles", "load_bundled", "resolve_vehicle"]


@dataclass(frozen=True)
class _Collection:
    """One source of named vehicles: lists its names and loads one."""

    names: Callable[[], dict[str, str]]
    load: Callable[[str], VehicleSpec]


@functools.lru_cache(maxsize=1)
def _toml_names() -> dict[str, str]:
    folder = resources.files("twinloop.parameters") / "vehicles"
    out: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            with resources.as_file(entry) as path:
                out[entry.name[: -len(".toml")]] = load_vehicle(path).description
    return out


def _load_toml(name: str) -> VehicleSpec:
    with resources.as_file(resources.files("twinloop.parameters") / "vehicles" / f"{name}.toml") as path:
        return load_vehicle(path)


@functools.lru_cache(maxsize=1)
def _epa_names() -> dict[str, str]:
    fleet = epa.epa_fleet()
    return {
        str(r.name): f"{r.make} {r.model} (EPA 2022 test vehicle {r.test_vehicle_id}, configuration {r.configuration})"
        for r in fleet.itertuples()
    }


def _load_epa(name: str) -> VehicleSpec:
    fleet = epa.epa_fleet()
    row = fleet[fleet.name == name].iloc[0]
    return epa.epa_vehicle_spec(row.make, row.model, test_vehicle_id=row.test_vehicle_id,
                                configuration=int(row.configuration))


# Collections in listing order; a name belongs to the first that lists it.
_COLLECTIONS: tuple[_Collection, ...] = (
    _Collection(_toml_names, _load_toml),
    _Collection(_epa_names, _load_epa),
)


def bundled_vehicles(include_epa: bool = True) -> dict[str, str]:
    """Names and one-line descriptions of every vehicle in the library.

    Parameters
    ----------
    include_epa : bool, default True
        Include the EPA 2022 test vehicles (``epa2022:...``) after the
        physical specifications.

    Returns
    -------
    dict of str to str
        Name → description, physical specifications first, each group sorted.

    Examples
    --------
    >>> sorted(bundled_vehicles(include_epa=False))[:2]
    ['bmw_i3_120ah_2019', 'chevrolet_bolt_ev_2022']
    >>> sum(n.startswith("epa2022:") for n in bundled_vehicles())
    97
    """
    out: dict[str, str] = {}
    for collection in _COLLECTIONS if include_epa else _COLLECTIONS[:1]:
        out.update(collection.names())
    return out


def load_bundled(name: str) -> VehicleSpec:
    """Load a library vehicle by name (case-insensitive).

    Raises
    ------
    UnknownNameError
        If no vehicle has that name; the message lists the closest names.

    Examples
    --------
    >>> load_bundled("Chevrolet_Bolt_EV_2022").motor_peak_power
    150000.0
    >>> load_bundled("nissan_leef")
    Traceback (most recent call last):
    ...
    twinloop.errors.UnknownNameError: unknown vehicle 'nissan_leef'; did you mean 'nissan_leaf_40kwh_2018', ...
    """
    if not isinstance(name, str):
        raise ValidationError("name", "a library vehicle name (text), e.g. 'nissan_leaf_40kwh_2018'", name,
                              hint="bundled_vehicles() lists them; resolve_vehicle(path) loads a TOML file")
    key = name.strip().lower()
    for collection in _COLLECTIONS:
        if key in collection.names():
            return collection.load(key)
    raise UnknownNameError("vehicle", name, bundled_vehicles(),
                           hint="`twinloop vehicle list` shows the library.")


def resolve_vehicle(name_or_path: str | Path) -> VehicleSpec:
    """A vehicle from a library name or a TOML file.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A :func:`bundled_vehicles` name, or the path of a vehicle TOML file
        (anything that exists as a file, or ends in ``.toml``).

    Raises
    ------
    UnknownNameError
        For an unknown name.
    FileNotFoundError
        For a ``.toml`` path that does not exist.
    DataError
        For a folder.
    ValidationError
        For anything but a str or a Path (a VehicleSpec, None ...).
    SpecificationError
        For an invalid file.

    Examples
    --------
    >>> resolve_vehicle("tesla_model_3_long_range_2022").drag_coefficient
    0.23
    """
    if not isinstance(name_or_path, str | Path):
        raise ValidationError("name_or_path", "a library vehicle name or the path of a vehicle TOML file",
                              name_or_path if not isinstance(name_or_path, VehicleSpec) else "a VehicleSpec",
                              hint="A VehicleSpec is already resolved: use it as it is"
                              if isinstance(name_or_path, VehicleSpec) else None)
    path = Path(name_or_path)
    if str(name_or_path).strip() and path.is_dir():  # Path("") is the current folder
        if isinstance(name_or_path, str) and name_or_path.strip().lower() in bundled_vehicles():
            return load_bundled(name_or_path)  # a library name that is also a folder here
        raise DataError(
            f"vehicle {str(path)!r} is a folder, not a vehicle file: give a library name "
            "(`twinloop vehicle list`) or a vehicle TOML file"
        )
    if isinstance(name_or_path, Path) or path.is_file() or path.suffix.lower() == ".toml":
        if not path.is_file():
            raise FileNotFoundError(2, "No such file", str(path))
        return load_vehicle(path)
    return load_bundled(str(name_or_path))
