"""CAN log ingestion: candump, ASC and BLF through a DBC and a manifest."""

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from twinloop.errors import ValidationError
from twinloop.ingest import Ingester, write_can_log
from twinloop.signals import DecoderManifest, FrameBatch, default_catalog, encode_series, load_dbc

DATA = resources.files("twinloop.signals") / "data"
DBC = Path(str(DATA / "twinloop_ev.dbc"))
MANIFEST = Path(str(DATA / "twinloop_ev.toml"))
REAL = Path(__file__).parent.parent / "data" / "opendbc"
T0 = 1_714_557_600.0

SERIES = {
    "Vehicle.Speed": np.linspace(0, 25, 50),
    "Vehicle.Powertrain.TractionBattery.CurrentCurrent": np.linspace(-40, 160, 50),
    "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": np.linspace(0.8, 0.78, 50),
    "Vehicle.Powertrain.TractionBattery.Temperature.Average": np.full(50, 298.15),
    "Vehicle.LowVoltageSystemState": np.array([4.0] * 49 + [2.0]),
    "Vehicle.Exterior.AirTemperature": np.full(50, 283.15),
}


def frames():
    db = load_dbc(DBC)
    return encode_series(
        db, DecoderManifest.load(MANIFEST), default_catalog(), T0 + np.arange(50.0), SERIES
    )


@pytest.mark.parametrize("suffix", [".log", ".asc", ".blf"])
def test_log_round_trip_recovers_the_si_series(store, tmp_path, suffix):
    log = tmp_path / f"drive{suffix}"
    write_can_log(log, frames())
    r = Ingester(store).ingest(log, "EV1", dbc=DBC, manifest=MANIFEST)
    assert r.quarantined == 0 and r.inserted > 0
    got = store.read_frame("EV1", list(SERIES))
    # tolerance: one DBC quantisation step of each signal (0.01 km/h, 0.1 A, 0.1 %, 0.5 K, 0.1 K)
    tol = {
        "Vehicle.Speed": 0.01 / 3.6,
        "Vehicle.Powertrain.TractionBattery.CurrentCurrent": 0.1,
        "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": 0.001,
        "Vehicle.Powertrain.TractionBattery.Temperature.Average": 0.5,
        "Vehicle.LowVoltageSystemState": 0.0,
        "Vehicle.Exterior.AirTemperature": 0.1,
    }
    for path, expected in SERIES.items():
        np.testing.assert_allclose(
            got[path].to_numpy(), expected, atol=tol[path] + 1e-9, err_msg=path
        )
    # positive discharging in the store, whatever the DBC and VSS conventions
    assert got["Vehicle.Powertrain.TractionBattery.CurrentCurrent"].iloc[-1] == pytest.approx(
        160, abs=0.1
    )
    assert store.trips("EV1").column("method").to_pylist() == ["key"]


def test_reingesting_a_log_stores_nothing_twice(store, tmp_path):
    log = tmp_path / "d.log"
    write_can_log(log, frames())
    first = Ingester(store).ingest(log, "EV1", dbc=DBC, manifest=MANIFEST)
    log.write_text(log.read_text() + "\n")  # other bytes, same frames: no hash shortcut
    again = Ingester(store).ingest(log, "EV1", dbc=DBC, manifest=MANIFEST)
    assert not again.already_ingested
    assert again.inserted == 0 and again.duplicates == first.inserted


def test_bad_frames_are_counted_by_reason(store, tmp_path):
    good = frames()
    extra = FrameBatch.from_frames(
        [(T0 + 0.5, 0x7AB, bytes(8)), (T0 + 0.6, 0x7AB, bytes(8)), (T0 + 0.7, 0x200, bytes(3))]
    )
    log = tmp_path / "d.log"
    write_can_log(log, FrameBatch.concat([good, extra]))
    with log.open("a") as fh:
        fh.write("(1714557600.9) can0 garbage line\n(1714557601.0) can0 100#ABC\n")
    r = Ingester(store).ingest(log, "EV1", dbc=DBC, manifest=MANIFEST)
    assert r.reasons["frame id 0x7ab not in the DBC"] == 2
    assert r.reasons["BMS_Pack: payload of 3 bytes, the DBC says 8"] == 1
    assert r.reasons["malformed candump line"] == 1
    assert r.reasons["payload of odd or excessive hex length"] == 1
    assert r.inserted > 0


def test_truncated_blf_ingests_what_is_readable_and_says_so(store, tmp_path):
    log = tmp_path / "d.blf"
    write_can_log(log, frames())
    data = log.read_bytes()
    log.write_bytes(data[: int(len(data) * 0.6)])
    r = Ingester(store).ingest(log, "EV1", dbc=DBC, manifest=MANIFEST)
    assert r.rows_read < len(frames())
    # python-can either stops at the damaged object or raises; both are visible
    assert r.inserted > 0 or any("unreadable" in k for k in r.reasons)


def test_can_log_without_dbc_is_refused(store, tmp_path):
    log = tmp_path / "d.log"
    write_can_log(log, frames())
    with pytest.raises(ValidationError, match="manifest"):
        Ingester(store).ingest(log, "EV1")


def test_real_dbc_with_starter_manifest(store, tmp_path):
    from twinloop.signals import starter_manifest

    db = load_dbc(REAL / "tesla_model3_party.dbc")
    man = tmp_path / "m.toml"
    man.write_text(starter_manifest(db, default_catalog(), "tesla_model3_party.dbc"))
    msg = db.get_message_by_name("ESP_B")
    payloads = [
        msg.encode({s.name: 0 for s in msg.signals} | {"ESP_vehicleSpeed": v}) for v in (36.0, 72.0)
    ]
    log = tmp_path / "t.log"
    write_can_log(
        log,
        FrameBatch.from_frames(
            [(T0, msg.frame_id, payloads[0]), (T0 + 1, msg.frame_id, payloads[1])]
        ),
    )
    r = Ingester(store).ingest(log, "M3", dbc=REAL / "tesla_model3_party.dbc", manifest=man)
    assert r.quarantined == 0
    np.testing.assert_allclose(
        store.read("M3", ["Vehicle.Speed"]).column(1).to_numpy(), [10.0, 20.0]
    )


def test_identity_of_a_can_ingest_covers_the_dbc_and_the_manifest(tmp_path):
    from twinloop.ingest import file_sha256, ingest_identity

    log = tmp_path / "d.log"
    write_can_log(log, frames())
    other = tmp_path / "m.toml"
    other.write_text(MANIFEST.read_text() + "\n# reviewed\n")
    plain = ingest_identity(log)
    with_dbc = ingest_identity(log, DBC, MANIFEST)
    assert plain == file_sha256(log)  # files read plainly keep the key of earlier versions
    assert len({plain, with_dbc, ingest_identity(log, DBC, other)}) == 3
    assert with_dbc == ingest_identity(log, DBC, MANIFEST, default_catalog())


def test_log_that_decodes_to_nothing_is_reported_as_a_problem(store, tmp_path):
    from twinloop.signals import starter_manifest

    log = tmp_path / "d.log"
    write_can_log(log, frames())
    tesla = REAL / "tesla_model3_party.dbc"
    man = tmp_path / "tesla.toml"
    man.write_text(starter_manifest(load_dbc(tesla), default_catalog(), tesla.name))
    r = Ingester(store).ingest(log, "EV1", dbc=tesla, manifest=man)
    assert r.samples_read == 0 and r.rows_read > 0
    assert r.problem is not None and "no samples were decoded" in r.problem
    good = Ingester(store).ingest(log, "EV1", dbc=DBC, manifest=MANIFEST)
    assert not good.already_ingested and good.inserted > 0 and good.problem is None
