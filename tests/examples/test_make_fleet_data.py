"""The example fleet builds from a fresh clone (bundled survey days, no shared data)."""

import subprocess
import sys
from pathlib import Path

from twinloop.store import open_store

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "make_fleet_data.py"


def test_example_fleet_builds_from_the_bundled_days(tmp_path: Path) -> None:
    out = tmp_path / "fleet"
    run = subprocess.run([sys.executable, str(SCRIPT), "--trips", "1", "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert len(list(out.glob("*.parquet"))) == 7 and len(list(out.glob("*.log"))) == 7
    with open_store(f"duckdb:///{out / 'fleet.duckdb'}") as store:
        vehicles = store.vehicles().to_pandas()
        assert len(vehicles) == 7 and (vehicles.samples > 0).all()


def test_a_missing_data_folder_is_named(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(SCRIPT), "--data", str(tmp_path), "--out", str(tmp_path / "f")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "trips/cmap_2007" in run.stderr and "Traceback" not in run.stderr
