"""The example fleet: built from a fresh clone, its CAN logs written through a real DBC decode back.

The example encodes the twin core's series through Ford's powertrain DBC
(opendbc ``ford_lincoln_base_pt.dbc``, the five messages it uses copied
verbatim into ``examples/data/opendbc/``) and writes the same series,
unquantised, to Parquet. Decoding the logs with twinloop's decoder must
give the Parquet values back to within half a DBC step (cantools rounds to
the nearest raw value), in the VSS unit: ``|manifest scale| * DBC scale / 2``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from twinloop.ingest import CanLogSource, IngestConfig
from twinloop.signals import DbcDecoder, DecoderManifest, default_catalog, load_dbc
from twinloop.store import open_store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPT = EXAMPLES / "make_fleet_data.py"
OPENDBC = EXAMPLES / "data" / "opendbc"
DBC = OPENDBC / "ford_lincoln_base_pt_excerpt.dbc"
MANIFEST = OPENDBC / "ford_lincoln_base_pt_manifest.toml"
VOLTAGE = "Vehicle.Powertrain.TractionBattery.CurrentVoltage"
KEY = "Vehicle.LowVoltageSystemState"
IONIQ_5 = (
    "hyundai_ioniq_5_long_range_awd_2022"  # 800-V class: its pack voltage exceeds the DBC's 510.5 V
)


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("fleet")
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--trips", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    return out, run.stdout


def _half_steps() -> dict[str, float]:
    """Half a DBC step of each mapped signal, in the VSS unit."""
    db, manifest = load_dbc(DBC), DecoderManifest.load(MANIFEST)
    return {
        e.vss: abs(e.scale)
        * db.get_message_by_name(e.message).get_signal_by_name(e.signal).scale
        / 2
        for e in manifest.entries
    }


def _assert_matches(
    path: str,
    got_time: npt.NDArray[np.int64],
    got: npt.NDArray[np.float64],
    expected: pd.DataFrame,
    half_step: float,
) -> None:
    """`got` (VSS unit; key state as index into the labels) equals the Parquet column."""
    want_time = pd.DatetimeIndex(expected["time"]).as_unit("us").asi8
    order = np.argsort(got_time, kind="stable")
    assert got.size == len(expected), path
    assert np.abs(got_time[order] - want_time).max() <= 1, path  # [µs]
    if path == KEY:
        labels = np.array(default_catalog()[KEY].allowed)[got[order].astype(int)]
        np.testing.assert_array_equal(labels, expected[path].to_numpy(dtype=str), err_msg=path)
    else:
        want = expected[path].to_numpy(dtype=np.float64)
        err = np.abs(got[order] - want)
        assert err.max() <= half_step * (1 + 1e-9) + 1e-9 * np.abs(want).max(), (
            f"{path}: off by {err.max()}, half a DBC step is {half_step}"
        )


def test_example_fleet_builds_from_the_bundled_days(fleet: tuple[Path, str]) -> None:
    out, stdout = fleet
    for suffix in (".parquet", ".log", ".asc"):
        assert len(list(out.glob(f"*{suffix}"))) == 7, suffix
    assert DBC.name in stdout and MANIFEST.name in stdout
    with open_store(f"duckdb:///{out / 'fleet.duckdb'}") as store:
        vehicles = store.vehicles().to_pandas()
        assert len(vehicles) == 7 and (vehicles.samples > 0).all()


@pytest.mark.parametrize("suffix", [".log", ".asc"])
def test_can_logs_decode_to_the_simulated_values_within_the_dbc_step(
    fleet: tuple[Path, str], suffix: str
) -> None:
    out, _ = fleet
    catalog, db, half = default_catalog(), load_dbc(DBC), _half_steps()
    for parquet in sorted(out.glob("*.parquet")):
        expected = pd.read_parquet(parquet)
        own = parquet.with_suffix(".manifest.toml")
        manifest = DecoderManifest.load(own if own.exists() else MANIFEST)
        manifest.check(db, catalog)
        source = CanLogSource(
            parquet.with_suffix(suffix),
            catalog,
            IngestConfig(),
            DbcDecoder(db, only=manifest.dbc_signals),
            manifest,
        )
        columns: dict[str, list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]] = {}
        for batch in source.batches():
            assert not batch.refused, (parquet.name, dict(batch.refused))  # every frame decodes
            for col in batch.columns:
                assert not any(m.any() for m in col.bad.values()), (parquet.name, col.path, col.bad)
                columns.setdefault(col.path, []).append((col.time, col.value))
        assert set(columns) == {e.vss for e in manifest.entries}, parquet.name
        for path, parts in columns.items():
            t = np.concatenate([p[0] for p in parts])
            v = np.concatenate([p[1] for p in parts])
            _assert_matches(path, t, v, expected, half[path])


def test_the_store_holds_every_signal_the_logs_carry_per_vehicle(fleet: tuple[Path, str]) -> None:
    out, _ = fleet
    catalog, half = default_catalog(), _half_steps()
    paths = list(half)
    with open_store(f"duckdb:///{out / 'fleet.duckdb'}") as store:
        for parquet in sorted(out.glob("*.parquet")):
            vin = parquet.name.split("__")[0]
            expected = pd.read_parquet(parquet)
            assert set(expected.columns) == {"time", *paths}  # the Parquet file has every signal
            times = pd.DatetimeIndex(expected["time"]).tz_convert(None)
            start, end = (
                times.min().to_pydatetime(),
                (times.max() + pd.Timedelta(1, "s")).to_pydatetime(),
            )
            stored = store.read(vin, paths, start, end).to_pandas()  # this day's samples
            carried = [p for p in paths if not (vin == IONIQ_5 and p == VOLTAGE)]
            assert stored[VOLTAGE].isna().all() == (vin == IONIQ_5), vin
            for path in carried:
                si = stored[path].to_numpy(dtype=np.float64)
                assert not np.isnan(si).any(), (vin, path)
                got = si if path == KEY else np.asarray(catalog[path].from_si(si), dtype=np.float64)
                t = stored["time"].to_numpy().astype("datetime64[us]").astype(np.int64)
                _assert_matches(path, t, got, expected, half[path])


def test_an_800_volt_pack_voltage_stays_in_the_parquet_only(fleet: tuple[Path, str]) -> None:
    out, stdout = fleet
    own = sorted(out.glob("*.manifest.toml"))
    assert own and {p.name.split("__")[0] for p in own} == {IONIQ_5}
    assert VOLTAGE not in {e.vss for e in DecoderManifest.load(own[0]).entries}
    assert f"{VOLTAGE} not in the CAN log" in stdout and "Parquet only" in stdout
    ioniq = pd.read_parquet(next(out.glob(f"{IONIQ_5}__*.parquet")))
    assert ioniq[VOLTAGE].min() > 510.5  # what the Ford signal can carry [V]


def test_the_bundled_dbc_is_a_verbatim_excerpt_of_opendbc() -> None:
    pytest.importorskip("opendbc")
    excerpt = _module(OPENDBC / "excerpt.py")
    full = excerpt.opendbc_file()
    text = excerpt.excerpt(full.read_bytes().decode("utf-8"), excerpt.manifest_messages(MANIFEST))
    assert DBC.read_bytes() == text.encode("utf-8")
    # and each message cantools reads from it is the full file's message
    small, big = load_dbc(DBC), load_dbc(full)
    for msg in small.messages:
        other = big.get_message_by_frame_id(msg.frame_id)
        assert (msg.name, msg.length, msg.is_fd, msg.senders) == (
            other.name,
            other.length,
            other.is_fd,
            other.senders,
        )
        for a, b in zip(msg.signals, other.signals, strict=True):
            assert (a.name, a.start, a.length, a.byte_order, a.is_signed) == (
                b.name,
                b.start,
                b.length,
                b.byte_order,
                b.is_signed,
            )
            assert (a.scale, a.offset, a.minimum, a.maximum, a.unit, a.choices) == (
                b.scale,
                b.offset,
                b.minimum,
                b.maximum,
                b.unit,
                b.choices,
            )


def test_a_missing_data_folder_is_named(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--data", str(tmp_path), "--out", str(tmp_path / "f")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "trips/cmap_2007" in run.stderr and "Traceback" not in run.stderr
