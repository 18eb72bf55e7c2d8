"""Column maps: loggers' own CSV layouts read through the shipped maps, and every bad map refused.

The CSVs here are written by the tests: a few rows with the header,
separator, encoding and sign conventions of the two real data sets the maps
in ``examples/mappings`` are for (Tesla Model 3 of JLU's GECR study:
comma-separated UTF-8, current negative when discharging, a coarse
wall-clock column beside relative seconds; BMW i3 of TU Munich:
``;``-separated latin-1, spaces and a trailing space in the names, ``°C``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from twinloop.errors import DataError, SpecificationError, UnknownNameError, ValidationError
from twinloop.ingest import Ingester, load_column_map

ROOT = Path(__file__).resolve().parents[2]
TESLA_MAP = ROOT / "examples" / "mappings" / "tesla_model3_jlu.toml"
BMW_MAP = ROOT / "examples" / "mappings" / "bmw_i3_tum.toml"
SPEED = "Vehicle.Speed"
CURRENT = "Vehicle.Powertrain.TractionBattery.CurrentCurrent"
VOLTAGE = "Vehicle.Powertrain.TractionBattery.CurrentVoltage"
AMBIENT = "Vehicle.Exterior.AirTemperature"
BATTERY_T = "Vehicle.Powertrain.TractionBattery.Temperature.Average"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"

TESLA_HEADER = (
    "Time,PhaseTime,DAActualSpeed,DAScheduleSpeed,REESSCurrent,REESSCurrent2,REESSVoltage,"
    "REESSVoltage2,tempAmb,elevation,lat,long,gear,tot_disc,tot_char"
)
BMW_HEADER = (
    "Time [s];Velocity [km/h];Elevation [m];Throttle [%];Motor Torque [Nm];"
    "Longitudinal Acceleration [m/s^2];Regenerative Braking Signal ;Battery Voltage [V];"
    "Battery Current [A];Battery Temperature [°C];max. Battery Temperature [°C];SoC [%];"
    "displayed SoC [%];min. SoC [%];max. SoC [%);Heating Power CAN [kW];Heating Power LIN [W];"
    "Requested Heating Power [W];AirCon Power [kW];Heater Signal;Heater Voltage [V];"
    "Heater Current [A];Ambient Temperature [°C];Coolant Temperature Heatercore [°C];"
    "Requested Coolant Temperature [°C];Coolant Temperature Inlet [°C];"
    "Heat Exchanger Temperature [°C];Cabin Temperature Sensor [°C]"
)


def tesla_csv(path: Path, current: float = -100.0) -> Path:
    """Three 20 Hz rows as the GECR road trips have them: 36 km/h, `current` A (negative = discharge)."""
    rows = [
        f"2023-04-19 09:19:44.830189,{t},36.0,0,{current},0,378.3,0,20.0,247,43.871296,125.285982,4,"
        "29229.85,30104.676"
        for t in ("0.0", "0.05", "0.1")
    ]
    path.write_text("\n".join([TESLA_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def bmw_csv(path: Path) -> Path:
    """Two 10 Hz rows as TU Munich's trips have them: ';', latin-1, -100 A discharging, 25.5 °C."""
    values = "0;72;574;10;50;-0.03;0;391.4;-100;21;22;86.9;100;8;90;0;0;85;0.4;1;0;0;25.5;0;0;0;30.5;24.5"
    second = "0.1" + values[1:]
    path.write_bytes("\n".join([BMW_HEADER, values, second, ""]).encode("latin-1"))
    return path


def stored(store, vin, signals):
    return store.read_frame(vin, signals).reset_index()


def nothing_stored(store):
    return store.sample_count() == 0 and store.vehicles().num_rows == 0


# ---- the shipped maps on each data set's layout ------------------------------------------------
def test_tesla_layout_through_the_shipped_map_is_stored_in_si_with_twinloops_sign(store, tmp_path):
    f = tesla_csv(tmp_path / "001.csv")
    r = Ingester(store).ingest(f, "M3", columns=load_column_map(TESLA_MAP))
    assert (r.rows_read, r.inserted, r.quarantined) == (3, 21, 0)
    assert set(r.ignored_columns) == {
        "DAScheduleSpeed", "REESSCurrent2", "REESSVoltage2", "gear", "tot_disc", "tot_char"
    }
    df = stored(store, "M3", [SPEED, CURRENT, VOLTAGE, AMBIENT])
    assert df[SPEED].tolist() == [pytest.approx(10.0)] * 3  # 36 km/h
    assert df[CURRENT].tolist() == [pytest.approx(100.0)] * 3  # -100 A discharging
    assert df[VOLTAGE].iloc[0] == pytest.approx(378.3)
    assert df[AMBIENT].iloc[0] == pytest.approx(293.15)  # 20 °C
    # the wall clock's first value, China Standard Time (UTC+8), plus PhaseTime
    assert df["time"].iloc[0] == pd.Timestamp("2023-04-19 01:19:44.830189")
    assert df["time"].iloc[2] == pd.Timestamp("2023-04-19 01:19:44.930189")


def test_bmw_layout_latin1_semicolons_and_spaces_through_the_shipped_map(store, tmp_path):
    f = bmw_csv(tmp_path / "TripA01.csv")
    cmap = load_column_map(BMW_MAP).with_start(datetime(2019, 6, 25, 13, 21, 14))  # Munich time
    r = Ingester(store).ingest(f, "i3", columns=cmap)
    assert (r.rows_read, r.inserted, r.quarantined) == (2, 22, 0)
    assert "Regenerative Braking Signal" in r.ignored_columns and "displayed SoC [%]" in r.ignored_columns
    df = stored(store, "i3", [SPEED, CURRENT, BATTERY_T, SOC, AMBIENT])
    assert df[SPEED].iloc[0] == pytest.approx(20.0)  # 72 km/h
    assert df[CURRENT].iloc[0] == pytest.approx(100.0)  # -100 A discharging
    assert df[BATTERY_T].iloc[0] == pytest.approx(294.15)  # 21 °C
    assert df[AMBIENT].iloc[0] == pytest.approx(298.65)  # 25.5 °C
    assert df[SOC].iloc[0] == pytest.approx(0.869)
    assert df["time"].tolist() == [pd.Timestamp("2019-06-25 11:21:14"), pd.Timestamp("2019-06-25 11:21:14.1")]


def test_reingesting_through_a_map_stores_nothing_new(store, tmp_path):
    f = bmw_csv(tmp_path / "TripA01.csv")
    cmap = load_column_map(BMW_MAP).with_start(datetime(2019, 6, 25, 13, 21, 14))
    Ingester(store).ingest(f, "i3", columns=cmap)
    assert Ingester(store).ingest(f, "i3", columns=cmap).already_ingested
    # the same rows in another file (a blank line more): each sample is skipped by its key
    g = tmp_path / "copy.csv"
    g.write_bytes(f.read_bytes() + b"\n")
    again = Ingester(store).ingest(g, "i3", columns=cmap)
    assert (again.inserted, again.duplicates, again.conflicts) == (0, 22, 0)
    assert store.sample_count() == 22


def test_the_same_file_with_another_start_is_a_new_ingest(store, tmp_path):
    f = tesla_csv(tmp_path / "t.csv")
    cmap = load_column_map(TESLA_MAP)
    Ingester(store).ingest(f, "M3", columns=cmap)
    later = cmap.with_start(datetime(2023, 4, 20, 8, 0, tzinfo=UTC))
    assert Ingester(store).ingest(f, "M3", columns=later).inserted == 21


def test_a_lab_file_without_the_optional_road_columns_is_read(store, tmp_path):
    f = tmp_path / "08_UDDS_1.csv"
    f.write_text(
        "Time,PhaseTime,DAActualSpeed,DAScheduleSpeed,REESSCurrent,REESSCurrent2,REESSVoltage,REESSVoltage2\n"
        "2022-11-04 11:50:09.031,0.0,0.0,0.0,-1.2,-0.87,400.1,400.0\n"
    )
    r = Ingester(store).ingest(f, "M3", columns=load_column_map(TESLA_MAP))
    assert r.inserted == 3
    assert set(r.absent_columns) == {"tempAmb", "elevation", "lat", "long"}


def test_a_scale_of_minus_one_turns_a_discharge_positive_current(store, tmp_path):
    text = TESLA_MAP.read_text().replace(
        'unit = "A"                 # negative', 'scale = -1\nunit = "A"                 # negative'
    )
    m = tmp_path / "flipped.toml"
    m.write_text(text)
    f = tesla_csv(tmp_path / "t.csv", current=100.0)  # a logger that writes discharge positive
    Ingester(store).ingest(f, "M3", columns=load_column_map(m))
    assert stored(store, "M3", [CURRENT])[CURRENT].iloc[0] == pytest.approx(100.0)


def test_mapped_values_are_validated_and_quarantined_as_any_file(store, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text(TESLA_HEADER + "\n2023-04-19 09:19:44,0.0,999999,0,abc,0,378,0,20,247,43.8,125.2,4,1,1\n"
                 "2023-04-19 09:19:44,x,36,0,-1,0,378,0,20,247,43.8,125.2,4,1,1\n")
    r = Ingester(store).ingest(f, "M3", columns=load_column_map(TESLA_MAP))
    assert any("outside the valid range" in k for k in r.reasons)
    assert r.reasons["not a number"] == 1
    assert r.reasons["missing or invalid time"] == 7  # the second row's PhaseTime, every signal
    assert sum(q["count"] for q in store.quarantine("M3").to_pylist()) == r.quarantined


def test_parquet_through_a_map_with_a_datetime_column(store, tmp_path):
    m = tmp_path / "pq.toml"
    m.write_text(
        '[time]\ncolumn = "ts"\nunit = "datetime"\nzone = "Europe/Berlin"\n'
        '[columns.kph]\nvss = "Vehicle.Speed"\nunit = "kph"\n'
        '[columns.pack_temp]\nvss = "Vehicle.Powertrain.TractionBattery.Temperature.Average"\nunit = "K"\n'
    )
    f = tmp_path / "log.parquet"
    pd.DataFrame({"ts": ["2024-01-10 12:00:00", "2024-01-10T11:00:01Z"], "kph": [36.0, 72.0],
                  "pack_temp": [300.0, 301.0], "other": [1, 2]}).to_parquet(f)
    r = Ingester(store).ingest(f, "CAR", columns=load_column_map(m))
    assert r.inserted == 4 and r.ignored_columns == ["other"]
    df = stored(store, "CAR", [SPEED, BATTERY_T])
    assert df["time"].tolist() == [pd.Timestamp("2024-01-10 11:00:00"), pd.Timestamp("2024-01-10 11:00:01")]
    assert df[SPEED].tolist() == [pytest.approx(10.0), pytest.approx(20.0)]
    assert df[BATTERY_T].tolist() == [pytest.approx(300.0), pytest.approx(301.0)]


def test_milliseconds_since_1970_without_a_start(store, tmp_path):
    m = tmp_path / "ms.toml"
    m.write_text('[time]\ncolumn = "t_ms"\nunit = "ms"\n[columns.v]\nvss = "Vehicle.Speed"\nunit = "m/s"\n')
    f = tmp_path / "ms.csv"
    f.write_text("t_ms,v\n1714557600000,10\n1714557600500,11\n")
    Ingester(store).ingest(f, "CAR", columns=load_column_map(m))
    assert stored(store, "CAR", [SPEED])["time"].iloc[1] == pd.Timestamp("2024-05-01 10:00:00.5")


# ---- bad maps and files: one line naming the field; nothing stored ------------------------------
def test_a_column_the_file_lacks_is_refused_with_close_matches_from_its_header(store, tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(BMW_MAP.read_text(encoding="utf-8").replace('"Battery Current [A]"', '"Batery Current [A]"'))
    f = bmw_csv(tmp_path / "TripA01.csv")
    with pytest.raises(UnknownNameError, match=r"unknown column 'Batery Current \[A\]'; did you mean 'Battery Current \[A\]'"):
        Ingester(store).ingest(f, "i3", columns=load_column_map(m))
    assert nothing_stored(store)


def test_a_missing_time_column_in_the_file_is_refused(store, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text(TESLA_HEADER.replace("PhaseTime", "Phase_Time") + "\n" + "1," * 14 + "1\n")
    with pytest.raises(UnknownNameError, match=r"'PhaseTime'; did you mean 'Phase_Time'.*time\.column"):
        Ingester(store).ingest(f, "M3", columns=load_column_map(TESLA_MAP))
    assert nothing_stored(store)


def test_a_wrong_encoding_is_refused_naming_the_byte(store, tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(BMW_MAP.read_text(encoding="utf-8").replace('encoding = "latin-1"', 'encoding = "utf-8"'))
    with pytest.raises(ValidationError, match=r"^file\.encoding in .*: expected the encoding of TripA01\.csv, "
                       r"received 'utf-8'\. Byte 0xb0"):
        Ingester(store).ingest(bmw_csv(tmp_path / "TripA01.csv"), "i3", columns=load_column_map(m))
    assert nothing_stored(store)


def test_a_wrong_separator_is_refused_naming_the_one_that_splits_the_header(store, tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(BMW_MAP.read_text(encoding="utf-8").replace('separator = ";"', 'separator = ","'))
    with pytest.raises(ValidationError, match=r"^file\.separator .*received ','.* 28 columns with ';'"):
        Ingester(store).ingest(bmw_csv(tmp_path / "TripA01.csv"), "i3", columns=load_column_map(m))
    assert nothing_stored(store)


def test_a_map_for_a_can_log_is_refused(store, tmp_path):
    f = tmp_path / "drive.log"
    f.write_text("(1.0) can0 123#00\n")
    with pytest.raises(ValidationError, match=r"^column_map .*CAN log is mapped by its DBC"):
        Ingester(store).ingest(f, "CAR", columns=load_column_map(TESLA_MAP))
    assert nothing_stored(store)


def _map(tmp_path: Path, text: str) -> Path:
    m = tmp_path / "m.toml"
    m.write_text(text, encoding="utf-8")
    return m


_TIME = '[time]\ncolumn = "t"\nunit = "s"\n'


@pytest.mark.parametrize(
    ("text", "error", "pattern"),
    [
        (_TIME + '[columns.v]\nvss = "Vehicle.Sped"\nunit = "km/h"\n', UnknownNameError,
         r"unknown VSS path 'Vehicle.Sped'; did you mean 'Vehicle.Speed'.*columns\.\"v\"\.vss"),
        (_TIME + '[columns.v]\nvss = "Vehicle.Speed"\nunit = "km/hr"\n', UnknownNameError,
         r"unknown unit 'km/hr'; did you mean 'km/h'.*columns\.\"v\"\.unit"),
        (_TIME + '[columns.T]\nvss = "Vehicle.Exterior.AirTemperature"\nunit = "km/h"\n', SpecificationError,
         r"^columns\.\"T\"\.unit in .*: expected a unit of ambient_temperature \[K\] for "
         r"Vehicle.Exterior.AirTemperature: one of Celsius, K, degC, °C, received 'km/h'"),
        (_TIME + '[columns.v]\nvss = "Vehicle.Speed"\nunit = "km/h"\nscale = 0\n', SpecificationError,
         r"^columns\.\"v\"\.scale in .*: expected a finite, non-zero number, received 0\.0"),
        (_TIME + '[columns.v]\nvss = "Vehicle.Speed"\nunit = "km/h"\nscale = nan\n', SpecificationError,
         r"^columns\.\"v\"\.scale .*non-zero number, received nan"),
        ('[time]\nunit = "s"\n[columns.v]\nvss = "Vehicle.Speed"\nunit = "km/h"\n', SpecificationError,
         r"^time\.column in .*: expected the name of the column of sample times, received None"),
        ('[time]\ncolumn = "t"\nunit = "sec"\n[columns.v]\nvss = "Vehicle.Speed"\nunit = "km/h"\n',
         SpecificationError, r"^time\.unit .*: expected one of s, ms, datetime, received 'sec'"),
        ('[file]\nseparator = ";;"\n' + _TIME + '[columns.v]\nvss = "Vehicle.Speed"\nunit = "km/h"\n',
         SpecificationError, r"^file\.separator .*received ';;'"),
        ('[file]\nencoding = "latin-9000"\n' + _TIME + '[columns.v]\nvss = "Vehicle.Speed"\nunit = "km/h"\n',
         SpecificationError, r"^file\.encoding .*a text encoding .*received 'latin-9000'"),
        ('[file]\nencodng = "latin-1"\n' + _TIME + '[columns.v]\nvss = "Vehicle.Speed"\nunit = "km/h"\n',
         SpecificationError, r"^file\.encodng .*Did you mean 'encoding'"),
        (_TIME + '[columns.v]\nvss = "Vehicle.Speed"\nunit = "km/h"\n[columns.w]\nvss = "Vehicle.Speed"\n'
         'unit = "m/s"\n', SpecificationError, r"^columns\.\"w\"\.vss .*no other column .*columns\.\"v\" is"),
        (_TIME, SpecificationError, r"^columns .*at least one"),
        (_TIME + 'zone = "Mars/Olympus"\n[columns.v]\nvss = "Vehicle.Speed"\nunit = "km/h"\n',
         SpecificationError, r"^time\.zone .*received 'Mars/Olympus'"),
        ('[time]\ncolumn = "t"\nunit = "datetime"\nstart = 2024-01-01T00:00:00Z\n[columns.v]\n'
         'vss = "Vehicle.Speed"\nunit = "km/h"\n', SpecificationError, r"^time\.start .*no start for date-times"),
        (_TIME + '[columns.k]\nvss = "Vehicle.LowVoltageSystemState"\nunit = "A"\n', SpecificationError,
         r"^columns\.\"k\"\.unit .*read as labels"),
        ("[time\n", SpecificationError, r"^column_map in .*expected a TOML column map"),
    ],
    ids=["unknown-vss", "unknown-unit", "wrong-quantity", "scale-0", "scale-nan", "no-time-column",
         "bad-time-unit", "bad-separator", "bad-encoding", "misspelt-key", "signal-twice", "no-columns",
         "bad-zone", "start-with-datetime", "unit-on-labels", "not-toml"],
)
def test_a_bad_map_is_refused_in_one_line_naming_the_field(tmp_path, text, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        load_column_map(_map(tmp_path, text))
    assert "\n" not in str(info.value)


def test_an_oversized_map_is_refused_before_it_is_parsed(tmp_path):
    m = tmp_path / "big.toml"
    m.write_text("#" * 300_000)
    with pytest.raises(SpecificationError, match=r"^column_map .*at most 262144 bytes, received 300000"):
        load_column_map(m)


def test_too_many_columns_are_refused(tmp_path):
    text = _TIME + "".join(
        f'[columns.c{i}]\nvss = "Vehicle.Speed"\nunit = "km/h"\n' for i in range(1001)
    )
    with pytest.raises(SpecificationError, match=r"^columns .*at most 1000 columns, received 1001"):
        load_column_map(_map(tmp_path, text))


def test_a_start_column_without_a_date_time_is_a_data_error(store, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text(TESLA_HEADER + "\nsoon,0.0,36,0,-1,0,378,0,20,247,43.8,125.2,4,1,1\n")
    with pytest.raises(DataError, match=r"time\.start_column 'Time' holds no date-time"):
        Ingester(store).ingest(f, "M3", columns=load_column_map(TESLA_MAP))


def test_with_start_refuses_a_map_of_date_times(tmp_path):
    m = _map(tmp_path, '[time]\ncolumn = "t"\nunit = "datetime"\n[columns.v]\nvss = "Vehicle.Speed"\nunit = "km/h"\n')
    with pytest.raises(ValidationError, match=r"^start in .*: expected a map whose time unit is s or ms"):
        load_column_map(m).with_start(datetime(2024, 1, 1))


def test_shipped_maps_load_and_name_catalog_signals():
    for path in (TESLA_MAP, BMW_MAP):
        cmap = load_column_map(path)
        assert all(math.isfinite(c.scale) and c.scale == 1.0 for c in cmap.columns)  # VSS's sign already


def test_the_example_map_of_the_docs_loads_and_reads_the_bmw_layout(store, tmp_path):
    text = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    block = text.split("## Column maps for your logger's files", 1)[1].split("```\n", 2)[1]
    cmap = load_column_map(_map(tmp_path, block)).with_start(datetime(2019, 6, 25, 13, 21, 14))
    r = Ingester(store).ingest(bmw_csv(tmp_path / "TripA01.csv"), "i3", columns=cmap)
    assert (r.inserted, r.quarantined, len(r.ignored_columns)) == (8, 0, 28 - 5)
