"""The vehicle library: every entry loads; names resolve; unknown names suggest."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinloop.errors import UnknownNameError, ValidationError
from twinloop.parameters.library import bundled_vehicles, load_bundled, resolve_vehicle
from twinloop.parameters.toml_io import TOML_KEYS, dump_vehicle, load_vehicle

PHYSICAL = sorted(bundled_vehicles(include_epa=False))
EPA = sorted(set(bundled_vehicles()) - set(PHYSICAL))


def test_library_has_physical_specs_and_every_epa_configuration() -> None:
    assert len(PHYSICAL) >= 5
    assert {"tesla_model_3_long_range_2022", "nissan_leaf_40kwh_2018"} <= set(PHYSICAL)
    assert len(EPA) == 97 and all(n.startswith("epa2022:") for n in EPA)


@pytest.mark.parametrize("name", PHYSICAL)
def test_every_physical_vehicle_loads_and_round_trips(name: str) -> None:
    spec = load_bundled(name)
    assert spec.name == name
    assert spec.road_load_form == "physical"
    assert load_vehicle(dump_vehicle(spec)) == spec


@pytest.mark.parametrize("name", PHYSICAL)
def test_every_given_number_of_a_physical_vehicle_has_a_source(name: str) -> None:
    path = Path(__file__).parents[2] / "src/twinloop/parameters/vehicles" / f"{name}.toml"
    import tomllib

    doc = tomllib.loads(path.read_text())
    given = {k.dotted for k in TOML_KEYS if k.kind == "number" and _has(doc, k.section, k.key)}
    sourced = set(doc["sources"])
    # a number is sourced itself or through its whole section (e.g. "road_load")
    missing = {k for k in given if k not in sourced and k.rsplit(".", 1)[0] not in sourced}
    assert not missing, f"{name}: no source for {sorted(missing)}"


def _has(doc: dict, section: tuple[str, ...], key: str) -> bool:
    node = doc
    for part in section:
        node = node.get(part, {})
    return key in node


@pytest.mark.parametrize("name", EPA)
def test_every_epa_vehicle_loads(name: str) -> None:
    spec = load_bundled(name)
    assert spec.name == name and spec.road_load_form == "coastdown"
    assert load_vehicle(dump_vehicle(spec)) == spec


def test_physical_specs_are_close_to_their_epa_road_load() -> None:
    # Cd·A and Crr of the physical Tesla give a road load within 15 % of the
    # EPA target coefficients at 20 m/s (the coast-down form also holds driveline losses).
    physical = load_bundled("tesla_model_3_long_range_2022")
    epa = load_bundled("epa2022:tesla_model_3_long_range_awd_3d322_028886_c0")

    def force(spec: object, v: float) -> float:
        a, b, c = spec.effective_coastdown  # type: ignore[attr-defined]
        return a + b * v + c * v * v

    assert force(physical, 20.0) == pytest.approx(force(epa, 20.0), rel=0.15)


def test_names_are_case_insensitive() -> None:
    assert load_bundled("BMW_I3_120AH_2019").name == "bmw_i3_120ah_2019"


def test_unknown_name_lists_close_matches() -> None:
    with pytest.raises(UnknownNameError) as info:
        load_bundled("nissan_leef")
    assert "nissan_leaf_40kwh_2018" in info.value.matches


def test_resolve_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(dump_vehicle(load_bundled("chevrolet_bolt_ev_2022").with_changes(name="mine")))
    assert resolve_vehicle(path).name == "mine"
    assert resolve_vehicle(str(path)).name == "mine"


def test_resolve_missing_toml_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        resolve_vehicle(str(tmp_path / "absent.toml"))


def test_resolve_unknown_name() -> None:
    with pytest.raises(UnknownNameError):
        resolve_vehicle("no_such_car")


def test_resolve_a_folder_says_it_is_a_folder(tmp_path: Path) -> None:
    from twinloop.errors import DataError

    with pytest.raises(DataError, match=r"vehicle '.*' is a folder, not a vehicle file: give a library name"):
        resolve_vehicle(str(tmp_path))
    with pytest.raises(DataError, match="is a folder"):
        resolve_vehicle(tmp_path)


def test_resolve_a_library_name_that_is_also_a_folder_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bmw_i3_120ah_2019").mkdir()
    monkeypatch.chdir(tmp_path)
    assert resolve_vehicle("bmw_i3_120ah_2019").drive == "RWD"


def test_resolve_an_empty_name_is_an_unknown_name() -> None:
    with pytest.raises(UnknownNameError):
        resolve_vehicle("")


@pytest.mark.parametrize("value", [None, 5, ["nissan_leaf_40kwh_2018"]])
def test_resolve_something_that_is_not_a_name_or_path_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="name_or_path: expected a library vehicle name or the path"):
        resolve_vehicle(value)  # type: ignore[arg-type]


def test_resolve_a_spec_says_it_is_already_resolved() -> None:
    spec = load_bundled("nissan_leaf_40kwh_2018")
    with pytest.raises(ValidationError, match=r"received 'a VehicleSpec'. A VehicleSpec is already resolved"):
        resolve_vehicle(spec)  # type: ignore[arg-type]


def test_load_bundled_of_none_is_refused_not_crashing() -> None:
    with pytest.raises(ValidationError, match="name: expected a library vehicle name"):
        load_bundled(None)  # type: ignore[arg-type]
