"""Vehicle parameters: the specification, its TOML format and the vehicle library.

Examples
--------
>>> from twinloop.parameters import resolve_vehicle, dump_vehicle, load_vehicle
>>> spec = resolve_vehicle("nissan_leaf_40kwh_2018")
>>> load_vehicle(dump_vehicle(spec)) == spec
True
"""

from twinloop.parameters.epa import epa_fleet, epa_vehicle_spec, read_epa_tests, unit_fix_count
from twinloop.parameters.fastsim_import import fastsim_vehicle_spec
from twinloop.parameters.library import bundled_vehicles, load_bundled, resolve_vehicle
from twinloop.parameters.spec import VehicleSpec
from twinloop.parameters.toml_io import dump_vehicle, load_vehicle

__all__ = [
    "VehicleSpec",
    "bundled_vehicles",
    "dump_vehicle",
    "epa_fleet",
    "epa_vehicle_spec",
    "fastsim_vehicle_spec",
    "load_bundled",
    "load_vehicle",
    "read_epa_tests",
    "resolve_vehicle",
    "unit_fix_count",
]
