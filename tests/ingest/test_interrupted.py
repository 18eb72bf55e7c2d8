"""An ingest killed with SIGKILL halfway leaves the store consistent; rerunning completes it."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from twinloop.store import DuckDBStore

SPEED = "Vehicle.Speed"
# The console script that pip installed next to this interpreter: the test
# runs what users run (`twinloop ingest ...`), entry point and error handling included.
TWINLOOP = shutil.which("twinloop", path=str(Path(sys.executable).parent))


def run_ingest(path, store, *extra):
    assert TWINLOOP is not None, f"no `twinloop` console script next to {sys.executable}"
    return subprocess.Popen(
        [
            TWINLOOP,
            "ingest",
            str(path),
            "--vehicle",
            "CAR1",
            "--store",
            str(store),
            "--batch-samples",
            "100000",
            "--progress",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TWINLOOP_STORE": ""},
    )


def test_sigkill_halfway_then_rerun_completes_without_duplicates(tmp_path):
    n = 1_500_000  # 3,000,000 samples in 30 batches
    t = pd.Timestamp("2024-05-01T00:00:00Z") + pd.to_timedelta(np.arange(n) * 100, unit="ms")
    f = tmp_path / "big.parquet"
    pd.DataFrame(
        {
            "time": t,
            SPEED: np.full(n, 50.0),
            "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": np.linspace(90, 10, n),
        }
    ).to_parquet(f)
    store = tmp_path / "s.duckdb"

    proc = run_ingest(f, store)
    # wait until tqdm shows at least one committed batch, then kill -9
    seen = b""
    deadline = time.monotonic() + 60
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
        if b"batches=2" in seen:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert b"batches=2" in seen, f"no committed batch reported before the kill: {seen[-500:]!r}"
    assert proc.returncode == -signal.SIGKILL, seen[-500:]

    s = DuckDBStore(store)
    partial = s.sample_count()
    committed = s._fetchall("SELECT coalesce(sum(inserted), 0) FROM ingest_batches")[0][0]
    unfinished = s._fetchall("SELECT count(*) FROM ingests WHERE finished IS NULL")[0][0]
    s.close()
    assert 0 < partial < 2 * n, "the kill should land halfway"
    assert partial == committed  # whole batches only, each with its ledger row
    assert unfinished == 1

    rerun = run_ingest(f, store, "--json")
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err.decode()[-2000:]
    assert b"Traceback" not in err
    report = json.loads(out.decode().strip().splitlines()[-1])
    # the batches committed before the kill are recognised, not stored again
    assert (report["inserted"], report["duplicates"]) == (2 * n - partial, partial)
    s = DuckDBStore(store)
    assert s.sample_count() == 2 * n
    ledger = s._fetchall("SELECT sum(inserted) FROM ingest_batches")[0][0]
    assert ledger == 2 * n  # every stored sample belongs to a committed batch
    assert s.trips("CAR1").num_rows == 1
    dupes = s._fetchall(
        "SELECT count(*) FROM (SELECT signal_id, time FROM samples GROUP BY 1, 2 HAVING count(*) > 1)"
    )[0][0]
    s.close()
    assert dupes == 0
    assert b'"already_ingested": false' in out
