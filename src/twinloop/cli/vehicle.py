"""``twinloop vehicle``: list, show, validate, and build vehicle specifications."""

from __future__ import annotations

from pathlib import Path

import click

from twinloop.cli._outputs import check_output
from twinloop.cli._paths import output_file
from twinloop.errors import ValidationError
from twinloop.parameters.epa import epa_vehicle_spec, read_epa_tests
from twinloop.parameters.fastsim_import import fastsim_vehicle_spec
from twinloop.parameters.library import bundled_vehicles, resolve_vehicle
from twinloop.parameters.spec import VehicleSpec
from twinloop.parameters.toml_io import dump_vehicle, load_vehicle

__all__ = ["register"]

_OUT = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), callback=output_file,
                    help="Write the TOML to this file (overwritten) instead of standard output.")
_CALIBRATED_OUT = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                               callback=output_file, help="Also write the calibrated vehicle as TOML to this file (overwritten); "
                                    "without -o it is not written anywhere.")

# Significant digits of the TOML a person reads: unit conversions (lb -> kg) leave
# float noise such as 1927.7675725000001 kg; 10 digits stay far below any
# measurement's precision.
_DIGITS = 10
_METRES = {"--measured-wh-per-mile": 1609.344, "--measured-wh-per-km": 1000.0}
_UNIT = {"--measured-wh-per-mile": "Wh/mi", "--measured-wh-per-km": "Wh/km"}


def _emit(spec: VehicleSpec, output: Path | None) -> None:
    text = dump_vehicle(spec, significant_digits=_DIGITS)
    if output is None or str(output) == "-":  # -o - is standard output
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {spec.name!r} to {output}", err=True)


@click.group("vehicle")
def vehicle_group() -> None:
    """Vehicle specifications: the library, TOML files, EPA and FASTSim imports.

    \b
    A vehicle is a TOML file whose keys carry their unit (test_mass_kg,
    motor_peak_power_kw ...); see docs/vehicle-spec.md. Wherever a command
    takes a vehicle it accepts a library name or a TOML file.

    \b
    Examples:
      twinloop vehicle list                          physical specs in the library
      twinloop vehicle list --epa                    the 97 EPA 2022 test vehicles
      twinloop vehicle show nissan_leaf_40kwh_2018 > my_leaf.toml
      twinloop vehicle validate my_leaf.toml
      twinloop vehicle from-epa --make tesla --model "model 3 long range" -o m3.toml
      twinloop vehicle import-fastsim "2022 Tesla Model 3 RWD thrml.yaml" -o m3_fastsim.toml
      twinloop vehicle calibrate-lab -v epa2022:nissan_leaf_kwb115_c0 --measured-wh-per-mile 192
    """


@vehicle_group.command("list")
@click.option("--epa", "which", flag_value="epa", help="List only the EPA 2022 test vehicles.")
@click.option("--all", "which", flag_value="all", help="List the physical specs and the EPA test vehicles.")
def list_command(which: str | None) -> None:
    """List the vehicle library: names and descriptions.

    \b
    Examples:
      twinloop vehicle list
      twinloop vehicle list --epa | grep -i tesla
    """
    physical = bundled_vehicles(include_epa=False)
    everything = bundled_vehicles(include_epa=True)
    epa = {k: v for k, v in everything.items() if k not in physical}
    shown = {"epa": epa, "all": everything}.get(which or "", physical)
    width = max(len(n) for n in shown)
    for name, description in shown.items():
        click.echo(f"{name:<{width}}  {description}")
    if which is None:
        click.echo(f"\n... and {len(epa)} EPA 2022 test vehicles (twinloop vehicle list --epa).", err=True)


@vehicle_group.command("show")
@click.argument("name_or_file")
def show_command(name_or_file: str) -> None:
    """Print a vehicle as TOML (every value, defaults included).

    \b
    Examples:
      twinloop vehicle show tesla_model_3_long_range_2022
      twinloop vehicle show epa2022:nissan_leaf_kwb115_c0
      twinloop vehicle show my_car.toml
    """
    _emit(resolve_vehicle(name_or_file), None)


@vehicle_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def validate_command(file: Path) -> None:
    """Check a vehicle TOML file; report the first problem or a summary.

    \b
    Example:
      twinloop vehicle validate my_car.toml
    """
    if not file.is_file():
        raise FileNotFoundError(2, "No such file", str(file))
    spec = load_vehicle(file)
    a, b, c = spec.effective_coastdown
    click.echo(
        f"ok: {spec.name}: {spec.test_mass:.0f} kg, {spec.drive}, "
        f"{spec.motor_peak_power / 1e3:.0f} kW, {spec.battery_energy / 3.6e6:.1f} kWh, "
        f"road load ({spec.road_load_form}) A={a:.1f} N, B={b:.3f} N s/m, C={c:.4f} N s2/m2"
    )


@vehicle_group.command("from-epa")
@click.argument("csv", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--make", required=True, help="Make, case-insensitive (e.g. tesla).")
@click.option("--model", required=True, help="Model or part of it, case-insensitive (e.g. \"model 3 long range\").")
@click.option("--test-vehicle-id", help="Choose this EPA test vehicle when several match.")
@click.option("--configuration", type=int, help="Choose this configuration # when several match.")
@_OUT
def from_epa_command(csv: Path | None, make: str, model: str, test_vehicle_id: str | None,
                     configuration: int | None, output: Path | None) -> None:
    """Build a vehicle TOML from the EPA test car list.

    CSV defaults to the bundled EPA 2022 file. The spec takes the equivalent
    test weight, the target coast-down coefficients, the drive system and the
    rated power; the battery size is estimated (see docs/vehicle-spec.md).
    When several test vehicles match, one is chosen deterministically and the
    others are named in the description; pick one with --test-vehicle-id.

    \b
    Examples:
      twinloop vehicle from-epa --make nissan --model leaf
      twinloop vehicle from-epa --make bmw --model i4 --test-vehicle-id FK96502 --configuration 1
      twinloop vehicle from-epa 23-tstcar.csv --make kia --model ev6 -o ev6.toml
    """
    if csv is not None and not csv.is_file():
        raise FileNotFoundError(2, "No such file", str(csv))
    check_output(output, [csv])
    tests = read_epa_tests(csv)
    try:
        spec = epa_vehicle_spec(make, model, tests, test_vehicle_id, configuration)
    except ValidationError as exc:
        if exc.field not in ("make", "model"):
            raise
        raise ValidationError(f"--{exc.field}", exc.expected, exc.received) from None  # named as typed
    _emit(spec, output)


@vehicle_group.command("import-fastsim")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", help="Name of the vehicle (default: FASTSim's name in snake_case).")
@_OUT
def import_fastsim_command(file: Path, name: str | None, output: Path | None) -> None:
    """Convert a FASTSim 3 battery-electric vehicle (YAML) to a vehicle TOML.

    FILE is YAML as fastsim.Vehicle.to_yaml() writes it. Chassis, mass,
    motor power, battery energy and power, battery and cabin thermal values,
    HVAC and auxiliary power are mapped; the motor's efficiency curve is
    fitted into the copper and constant loss coefficients, and braking follows
    FASTSim (all of it offered to the motor, regen_axle_share = 1).
    docs/vehicle-spec.md has the table. FASTSim itself is not needed.

    \b
    Examples:
      python -c "import fastsim; print(fastsim.Vehicle.from_resource('2022_Renault_Zoe_ZE50_R135.yaml').to_yaml())" > zoe.yaml
      twinloop vehicle import-fastsim zoe.yaml -o zoe.toml
    """
    if not file.is_file():
        raise FileNotFoundError(2, "No such file", str(file))
    check_output(output, [file])
    _emit(fastsim_vehicle_spec(file, name=name), output)


@vehicle_group.command("calibrate-lab")
@click.option("-v", "--vehicle", "vehicle", required=True, help="Library name or TOML file of the starting twin.")
@click.option("-c", "--cycle", "cycle", default="udds", show_default=True, help="Cycle of the measured test (bundled name or file).")
@click.option("--measured-wh-per-mile", type=float, help="The test's wall energy [Wh/mi] (EPA: 33705 / MPGe).")
@click.option("--measured-wh-per-km", type=float, help="The test's wall energy [Wh/km], instead of per mile.")
@click.option("-p", "--predict", "predict", multiple=True, default=("hwfet",), show_default=True,
              help="Cycle(s) to predict with the calibrated twin (repeat).")
@click.option("--measurement-sd", type=float, default=0.03, show_default=True,
              help="Test repeatability and model error, as a fraction.")
@_CALIBRATED_OUT
def calibrate_lab_command(vehicle: str, cycle: str, measured_wh_per_mile: float | None,
                          measured_wh_per_km: float | None, predict: tuple[str, ...],
                          measurement_sd: float, output: Path | None) -> None:
    """Calibrate a twin on one lab test result and predict other cycles.

    The twin's drivetrain loss scale and regeneration share are updated from
    the one result by Bayes' rule (see docs/calibration.md); the prediction
    comes with a standard deviation. Prints the calibration and the
    predictions; the calibrated vehicle is written as TOML only with -o.

    
    Examples:
      twinloop vehicle calibrate-lab -v epa2022:nissan_leaf_kwb115_c0 --measured-wh-per-mile 192
      twinloop vehicle calibrate-lab -v my_car.toml -c wltc_3b --measured-wh-per-km 150 -p udds -p us06 -o my_car_cal.toml
    """
    from twinloop.calibrate import calibrate_on_lab_test
    from twinloop.calibrate.lab import LAB_ENERGY_RANGE, MEASUREMENT_SD_RANGE
    from twinloop.cycles import load_cycle

    # the vehicle and the cycles are names or files; only files can be overwritten
    check_output(output, [p for p in (vehicle, cycle, *predict) if Path(p).is_file()])
    if (measured_wh_per_mile is None) == (measured_wh_per_km is None):
        raise ValidationError("--measured-wh-per-mile / --measured-wh-per-km", "exactly one of them",
                              "both" if measured_wh_per_mile is not None else "neither")
    option = "--measured-wh-per-mile" if measured_wh_per_mile is not None else "--measured-wh-per-km"
    value = measured_wh_per_mile if measured_wh_per_mile is not None else measured_wh_per_km
    assert value is not None
    per, unit = _METRES[option], _UNIT[option]
    # the library's range, checked here in the user's unit so that the message speaks it
    low, high = (e * per / 3600.0 for e in LAB_ENERGY_RANGE)
    if not low <= value <= high:  # also refuses NaN
        raise ValidationError(option, f"a wall energy in [{low:.4g}, {high:.4g}] {unit}", value)
    low, high = MEASUREMENT_SD_RANGE
    if not low <= measurement_sd <= high:
        raise ValidationError("--measurement-sd", f"a fraction in [{low:g}, {high:g}]", measurement_sd)
    measured = value / per * 3600.0
    spec = resolve_vehicle(vehicle)  # the regeneration share is calibrated, on a dynamometer model
    # Every cycle is read before the calibration, so that a misspelt -p fails
    # at once instead of after the calibration has been printed.
    measured_cycle = load_cycle(cycle)
    predicted = [(name, load_cycle(name)) for name in predict]
    cal = calibrate_on_lab_test(spec, measured_cycle, measured, measurement_sd=measurement_sd)
    click.echo(f"{spec.name}: loss scale {cal.loss_scale:.3f}, regeneration share {cal.regen_share:.3f}")
    for name, trace in predicted:
        mean, sd = cal.predict(trace)
        click.echo(f"  {name:10s} {mean * per / 3600:7.1f} ± {sd * per / 3600:.1f} {unit} (wall, 1 sd)")
    if output is not None:
        _emit(cal.spec, output)


def register(group: click.Group) -> None:
    """Add the ``vehicle`` command group to `group`."""
    group.add_command(vehicle_group)
