"""Synthetic trips for the calibration tests.

Three generators: the calibration's own forward model (exact, for tight
recovery), the twinloop simulator's own noise-free output at its time step
(each sample's power the mean over the step before it), and the simulator at
10 Hz read out at 1 Hz with sensor noise (for the looser, realistic check).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.interpolate import PchipInterpolator

from twinloop.calibrate import predict_battery_power
from twinloop.cycles import Cycle, load_cycle
from twinloop.parameters import VehicleSpec, load_bundled
from twinloop.sim.model import Scenario, simulate

CYCLES = ("udds", "hwfet", "us06", "wltc_3b")  # 92 min, 72 of them driving


@pytest.fixture(scope="session")
def prior() -> VehicleSpec:
    """The bundled VW ID.3 Pro (physical road-load form)."""
    return load_bundled("vw_id3_pro_2020")


@pytest.fixture(scope="session")
def truth(prior: VehicleSpec) -> VehicleSpec:
    """The prior with +8 % mass, -5 % Cd, +10 % Crr, other efficiencies and auxiliaries."""
    assert prior.drag_coefficient is not None and prior.rolling_resistance_coefficient is not None
    return prior.with_changes(
        test_mass=prior.test_mass * 1.08, drag_coefficient=prior.drag_coefficient * 0.95,
        rolling_resistance_coefficient=prior.rolling_resistance_coefficient * 1.10,
        gearbox_efficiency=0.955, regen_axle_share=0.72, auxiliary_power=550.0,
    )


def kinematic_trips(graded: bool = True) -> list[pd.DataFrame]:
    """Bundled cycles as trips; with `graded`, a +-3 % grade varying with distance."""
    trips = []
    for name in CYCLES:
        c = load_cycle(name)
        distance = np.r_[0.0, np.cumsum(0.5 * (c.vehicle_speed[1:] + c.vehicle_speed[:-1]) * np.diff(c.time))]
        trip = pd.DataFrame({"time": c.time, "vehicle_speed": c.vehicle_speed,
                             "ambient_temperature": 293.15,
                             "battery_voltage": 355.0 + 5.0 * np.sin(c.time / 300.0)})
        if graded:
            trip["road_grade"] = 0.03 * np.sin(distance / 400.0)
        trips.append(trip)
    return trips


def own_model_trips(spec: VehicleSpec, graded: bool = True, current_noise: float = 0.0,
                    seed: int = 0) -> list[pd.DataFrame]:
    """Trips whose battery current is the calibration model's prediction for `spec` (+ noise)."""
    rng = np.random.default_rng(seed)
    out = []
    for trip in kinematic_trips(graded):
        power = predict_battery_power(trip, spec)
        trip["battery_current"] = power / trip["battery_voltage"] + rng.normal(0.0, current_noise, len(trip))
        out.append(trip)
    return out


def simulator_trips(spec: VehicleSpec, seed: int = 0) -> list[pd.DataFrame]:
    """The simulator at 10 Hz, read at 1 Hz with noise and quantisation (as in the benchmark)."""
    rng = np.random.default_rng(seed)
    out = []
    for name in CYCLES:
        c = load_cycle(name)
        t = np.arange(0.0, c.time[-1] + 1e-9, 0.1)
        # a monotone cubic keeps acceleration continuous, as in a real car
        speed = np.clip(PchipInterpolator(c.time, c.vehicle_speed)(t), 0.0, None)
        cycle = Cycle(name, t, speed, np.zeros_like(t))
        f = simulate(spec, Scenario(cycle, hvac="off", time_step=0.1), record=True).series_frame().iloc[1::10]
        n = len(f)
        out.append(pd.DataFrame({
            "time": f["time"].to_numpy() - f["time"].iloc[0],
            "vehicle_speed": np.maximum(np.round((f["vehicle_speed"].to_numpy() + rng.normal(0, 0.03, n)) * 3.6, 1) / 3.6, 0),
            "battery_current": np.round(f["battery_current"].to_numpy() + rng.normal(0, 0.5, n), 1),
            "battery_voltage": np.round(f["battery_voltage"].to_numpy() + rng.normal(0, 0.2, n), 1),
            "ambient_temperature": 293.15,
        }))
    return out


def simulator_output_trips(spec: VehicleSpec, time_step: float = 1.0) -> list[pd.DataFrame]:
    """The simulator's noise-free series at `time_step`, as a user would pass them (flat, 20 degC)."""
    out = []
    for name in CYCLES:
        c = load_cycle(name)
        if time_step != 1.0:
            t = np.arange(0.0, c.time[-1] + 1e-9, time_step)
            c = Cycle(name, t, np.clip(PchipInterpolator(c.time, c.vehicle_speed)(t), 0.0, None), np.zeros_like(t))
        f = simulate(spec, Scenario(c, hvac="off", time_step=time_step), record=True).series_frame()
        out.append(pd.DataFrame({
            "time": f["time"], "vehicle_speed": f["vehicle_speed"], "battery_current": f["battery_current"],
            "battery_voltage": f["battery_voltage"], "ambient_temperature": 293.15, "road_grade": 0.0,
        }))
    return out
