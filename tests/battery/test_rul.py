"""The remaining-useful-life report: the document the command line prints, decided in the library."""

from pathlib import Path

import pytest

from twinloop.battery.rul import read_capacity_history, remaining_useful_life
from twinloop.errors import DataError, ValidationError

B0005 = Path(__file__).resolve().parents[1] / "data" / "battery" / "nasa_b0005_capacity.csv"


@pytest.fixture(scope="module")
def first_half(tmp_path_factory):
    """NASA B0005's first 84 cycles; its capacity first falls below 1.4 Ah at cycle 125."""
    path = tmp_path_factory.mktemp("rul") / "b0005_half.csv"
    path.write_text("\n".join(B0005.read_text().splitlines()[:85]) + "\n")
    return path


def test_the_report_is_the_document_the_command_prints(first_half):
    report = remaining_useful_life(first_half, 1.4, capacity_column="y1")
    doc = report.to_dict()
    assert list(doc) == ["history", "cycles_in_history", "rows_skipped", "last_cycle", "threshold", "predicted_cycle",
                         "remaining_cycles", "interval", "level", "horizon", "probability_beyond_horizon", "model_weights"]
    assert doc["history"] == str(first_half) and doc["cycles_in_history"] == 84 and doc["last_cycle"] == 84.0
    assert doc["horizon"] == 4 * 84  # the default: four times the last cycle
    assert doc["remaining_cycles"] == pytest.approx(doc["predicted_cycle"] - 84)
    table = report.to_table().splitlines()
    assert [line[:20].strip() for line in table] == [
        "history", "threshold", "median crossing", "90% interval", "beyond the horizon", "model weights"]
    assert table[0] == "history              84 cycles, last 84, capacity 1.5489"


def test_a_crossing_beyond_the_horizon_is_null_in_the_document(first_half):
    report = remaining_useful_life(first_half, 1.4, capacity_column="y1", horizon=90)
    doc = report.to_dict()
    assert doc["predicted_cycle"] is None and doc["interval"][1] is None and doc["probability_beyond_horizon"] > 0.5
    assert "median crossing      beyond cycle 90" in report.to_table()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"capacity_column": "cycle"}, ValidationError,
         "capacity_column: expected a column other than `cycle_column` 'cycle', received 'cycle'"),
        ({"capacity_column": "y"}, DataError, "column 'y' is missing (did you mean 'y1'? pass `capacity_column` y1)"),
        ({"threshold": float("nan")}, ValidationError, "threshold: expected a finite capacity > 0, received nan"),
        ({"threshold": 1.9}, ValidationError, "threshold: expected below every measured capacity (lowest 1.2875)"),
        ({"horizon": 50.0}, ValidationError,
         "horizon: expected a cycle after the history's last, at most 20000 later: (168, 20168], received 50.0"),
    ],
)
def test_errors_name_the_field_never_a_command_line_flag(kwargs, error, message):
    args = {"threshold": 1.2, "capacity_column": "y1"} | kwargs
    with pytest.raises(error) as info:
        remaining_useful_life(B0005, **args)
    assert message in str(info.value) and "--" not in str(info.value)


def test_read_capacity_history_skips_rows_without_a_value(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("cycle,capacity_ah\n1,2.0\n2,1.99\n3,\n")
    cycles, capacity, skipped = read_capacity_history(path)
    assert cycles.tolist() == [1.0, 2.0] and capacity.tolist() == [2.0, 1.99] and skipped == 1
