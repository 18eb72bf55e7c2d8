"""A pack's state of health from driving data: hand checks and simulated recovery.

The simulated telemetry is the package's own simulator driving a Nissan Leaf
whose pack is aged on purpose (90 % of the rated capacity, 1.3 times the
ohmic resistance), with the sensor noise and quantisation of a production
BMS added (tests/_support/aged_pack.py); each tolerance is derived from that
noise. The same from a twin's stored trips: tests/twin/test_health.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from aged_pack import LEAF, NOISE, aged, long_trip, measured, resistance_tolerance

from twinloop.battery.soh import SensorNoise, health_track, pack_capacity, pack_resistance
from twinloop.errors import CalibrationError, DataError, ValidationError


# ---- hand-computed ------------------------------------------------------------------------
def test_coulomb_counting_by_hand():
    # trapezoids: 10 s x (20+40)/2 + 10 s x 40 + 10 s x (40+20)/2 = 300 + 400 + 300 = 1000 A s
    noise = SensorNoise(soc_resolution=0.01, current_noise=1.0, current_resolution=0.0)
    est = pack_capacity([0, 10, 20, 30], [20, 40, 40, 20], [0.9, 0.8, 0.6, 0.4], noise=noise)
    assert est.charge == pytest.approx(1000.0)
    assert est.soc_swing == pytest.approx(0.5)
    assert est.capacity == pytest.approx(2000.0)
    assert est.duration == 30.0
    # weights 5, 10, 10, 5 s: var(A) = 1 A^2 x 250 s^2; var(dz) = 2 x 0.01^2 / 12
    rel = math.sqrt(250 / 1000**2 + (2 * 0.01**2 / 12) / 0.5**2)
    assert est.standard_error == pytest.approx(2000 * rel)
    # a charge: current in (negative), state of charge up, same capacity
    charged = pack_capacity([0, 10, 20, 30], [-20, -40, -40, -20], [0.4, 0.6, 0.8, 0.9], noise=noise)
    assert charged.capacity == pytest.approx(2000.0) and charged.charge == pytest.approx(-1000.0)
    # a constant current offset's uncertainty adds sigma_b x T to the charge
    biased = pack_capacity([0, 10, 20, 30], [20, 40, 40, 20], [0.9, 0.8, 0.6, 0.4],
                           noise=SensorNoise(soc_resolution=0.0, current_noise=0.0, current_resolution=0.0,
                                             current_offset=2.0))
    assert biased.standard_error == pytest.approx(2000 * 60 / 1000)


def test_resistance_by_hand():
    # steps: +50 A -> -5 V, -50 A -> +5 V, +100 A -> -12 V, a slow one (3 s) and a small one ignored
    t = [0, 1, 2, 3, 6, 7]
    i = [0, 50, 0, 100, 0, 5]
    v = [360, 355, 360, 348, 360, 359]
    r = pack_resistance(t, i, v, min_steps=3)
    assert r.steps == 3
    assert r.resistance == pytest.approx(0.1)  # median of 0.1, 0.1, 0.12
    assert r.spread == pytest.approx(0.0)  # MAD of (0, 0, 0.02) is 0
    assert r.standard_error == pytest.approx(0.0)


def test_health_track_by_hand():
    # 190, 180, 170 kAs at 1000, 2000, 3000 km on a 200-kAs pack: 5 % of rated lost per 1000 km
    h = health_track([1e6, 2e6, 3e6], [190e3, 180e3, 170e3], [1e3, 1e3, 1e3], 200e3)
    assert h.capacity == pytest.approx(170e3) and h.state_of_health == pytest.approx(0.85)
    assert h.fade_rate == pytest.approx(-0.01) and h.fade_per_1000_km == pytest.approx(0.05)
    assert h.stretches == 3 and h.distance == 3e6
    # two stretches: no line, the weighted mean
    two = health_track([1e6, 1e6], [190e3, 180e3], [1e3, 2e3], 200e3)
    assert two.fade_rate is None and two.fade_per_1000_km is None
    assert two.capacity == pytest.approx((190e3 / 1e6 + 180e3 / 4e6) / (1 / 1e6 + 1 / 4e6))
    assert two.to_dict()["fade_per_1000_km"] is None


# ---- recovery from simulated telemetry --------------------------------------------------------
def test_a_degraded_capacity_and_resistance_are_recovered_from_noisy_telemetry():
    truth = aged(capacity=0.9, resistance=1.3)
    m = measured(long_trip(truth), seed=1)
    est = pack_capacity(m["time"], m["current"], m["soc"], noise=NOISE)
    # sigma: SoC quantisation dominates, 0.005 / sqrt(6) over a ~0.27 swing = 0.75 %;
    # current noise adds 1 A x sqrt(5400 s x 1 s) = 73 A s on ~9e4 A s.
    assert 0.005 < est.standard_error / est.capacity < 0.01
    assert abs(est.capacity - truth.battery_capacity) < 3 * est.standard_error
    soh = est.capacity / LEAF.battery_capacity
    assert abs(soh - 0.9) < 3 * est.standard_error / LEAF.battery_capacity

    r = pack_resistance(m["time"], m["current"], m["voltage"])
    # each step's error: sqrt(2 (0.2^2 + 0.5^2/12)) V / |dI| >= 20 A; a median over ~280 steps
    assert r.steps > 100
    assert r.standard_error < 0.02 * truth.effective_battery_ohmic_resistance
    assert abs(r.resistance - truth.effective_battery_ohmic_resistance) < resistance_tolerance(r.standard_error, truth)

    # Noise-free, the counting is exact up to the trapezoid-vs-rectangle rule (< 1e-5).
    s = long_trip(truth)
    exact = pack_capacity(s["time"], s["battery_current"], s["state_of_charge"])
    assert exact.capacity == pytest.approx(truth.battery_capacity, rel=1e-5)


def test_polarisation_biases_the_one_second_resistance_by_a_few_percent():
    # With the RC pair on (tau 30 s) the polarisation moves within each 1-s step: the
    # estimate is the pack's 1-s resistance, within 3 % of the ohmic one on this drive.
    truth = aged(resistance=1.3, polarisation=True)
    s = long_trip(truth)
    r = pack_resistance(s["time"], s["battery_current"], s["battery_voltage"])
    assert r.resistance == pytest.approx(truth.effective_battery_ohmic_resistance, rel=0.03)


# ---- bad data ---------------------------------------------------------------------------------
def test_small_swings_stuck_soc_and_wrong_sign_are_refused_with_what_was_found():
    t = np.arange(0.0, 600.0)
    i = np.full(t.size, 50.0)  # 30,000 A s
    with pytest.raises(CalibrationError, match=r"swing of 0\.05 over 599 s is below min_soc_swing 0\.1"):
        pack_capacity(t, i, np.linspace(0.8, 0.75, t.size))
    with pytest.raises(DataError, match=r"state of charge stuck at 0\.8 over 600 samples \(599 s\) while 8\.32 Ah flowed"):
        pack_capacity(t, i, np.full(t.size, 0.8), rated_capacity=100e3)
    with pytest.raises(DataError, match=r"state of charge went up by 0\.2 while 8\.32 Ah was drawn"):
        pack_capacity(t, i, np.linspace(0.5, 0.7, t.size))
    with pytest.raises(DataError, match="at least 2 samples"):
        pack_capacity([0.0], [1.0], [0.5])
    with pytest.raises(DataError, match="state_of_charge holds 1 non-finite values"):
        pack_capacity([0.0, 1.0], [1.0, 1.0], [0.5, np.nan])
    with pytest.raises(ValidationError, match="time: expected strictly increasing"):
        pack_capacity([0.0, 0.0], [1.0, 1.0], [0.5, 0.4])
    with pytest.raises(ValidationError, match="min_soc_swing"):
        pack_capacity(t, i, np.linspace(0.8, 0.5, t.size), min_soc_swing=0.0)
    with pytest.raises(CalibrationError, match=r"0 current steps of at least 20 A within 1\.5 s \(largest 0 A"):
        pack_resistance(t, i, np.full(t.size, 350.0))
    with pytest.raises(ValidationError, match="soc_resolution"):
        SensorNoise(soc_resolution=-1.0)
    with pytest.raises(DataError, match="no capacity estimates"):
        health_track([], [], [], 1e5)


def test_pack_capacity_refuses_a_state_of_charge_in_percent():
    with pytest.raises(ValidationError, match=r"state_of_charge \(sample 1\): expected a fraction in \[0, 1\], received 90.0.*percentage"):
        pack_capacity([0.0, 3600.0], [10.0, 10.0], [90.0, 50.0])


def test_pack_capacity_refuses_noise_and_rated_capacity_of_the_wrong_kind():
    with pytest.raises(ValidationError, match=r"noise: expected a SensorNoise, received 'float'"):
        pack_capacity([0.0, 1.0], [1.0, 1.0], [0.9, 0.5], noise=0.1)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"rated_capacity: expected a finite number > 0 A s"):
        pack_capacity([0.0, 1.0], [1.0, 1.0], [0.9, 0.5], rated_capacity=-5.0)


def test_numpy_scalars_are_numbers_too():
    h = health_track([1e6, 2e6, 3e6], [190e3, 180e3, 170e3], [1e3] * 3, np.float32(200e3))
    assert h.state_of_health == pytest.approx(0.85)
    assert pack_resistance([0.0, 1.0, 2.0, 3.0], [0.0, 50.0, 0.0, 100.0], [360.0, 355.0, 360.0, 350.0],
                           min_steps=np.int64(3)).resistance == pytest.approx(0.1)
    assert SensorNoise(current_noise=np.float32(0.2)).current_noise == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("capacity", "standard_error", "rated", "message"),
    [
        ([-190e3, 180e3, 170e3], [1e3] * 3, 200e3, r"capacity \(estimate 1\): expected > 0 A s"),
        ([190e3, 180e3, 170e3], [-1e3, 1e3, 1e3], 200e3, r"capacity_standard_error \(estimate 1\): expected >= 0 A s"),
        ([190e3, 180e3, 170e3], [1e3] * 3, 55.0, r"rated_capacity: expected a capacity in the unit of the estimates.*1 Ah = 3600 A s"),
    ],
)
def test_health_track_refuses_negative_values_and_a_rated_capacity_in_ah(capacity, standard_error, rated, message):
    with pytest.raises(ValidationError, match=message):
        health_track([1e6, 2e6, 3e6], capacity, standard_error, rated)


def test_health_track_with_three_flat_rising_or_disordered_points():
    flat = health_track([1e6, 2e6, 3e6], [190e3] * 3, [1e3] * 3, 200e3)
    assert flat.fade_per_1000_km == 0.0 and math.copysign(1.0, flat.fade_per_1000_km) == 1.0  # not -0.0
    rising = health_track([1e6, 2e6, 3e6], [170e3, 180e3, 190e3], [1e3] * 3, 200e3)
    assert rising.fade_per_1000_km == pytest.approx(-0.05)  # negative: gaining, as documented
    shuffled = health_track([3e6, 1e6, 2e6], [170e3, 190e3, 180e3], [1e3] * 3, 200e3)
    assert shuffled.capacity == pytest.approx(170e3) and shuffled.distance == 3e6
    with pytest.raises(ValidationError, match=r"resistance: expected a ResistanceEstimate"):
        health_track([1e6], [190e3], [1e3], 200e3, resistance=0.1)  # type: ignore[arg-type]
