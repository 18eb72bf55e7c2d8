"""Ingestion and CAN decoding throughput, each next to its peer, in one run.

    python benchmarks/ingest_throughput.py [--json] [--rows N] [--pg URL]
        [--data ../shared/data] [--can-log road:<capture> | fleet[:<log or folder>]]

Figures (samples or frames per second, wall clock, this machine):

- ``duckdb_samples_per_s``: ``Ingester`` on a wide Parquet file into a new
  DuckDB store: read, check, convert to SI, idempotent insert, ledger,
  trip detection, everything.
- ``bare_duckdb_samples_per_s``: DuckDB alone appending the same samples
  (already long-form Arrow, no checks, no idempotency).
- ``postgres_samples_per_s``: ``Ingester`` into PostgreSQL (COPY + ON CONFLICT),
  on the first fifth of the rows to keep the run short.
- ``can_frames_per_s`` / ``cantools_frames_per_s``: decoding the same candump
  log with twinloop's vectorised decoder (best of 5, on a ready FrameBatch;
  ``can_frames_per_s_with_batching`` includes building it from the frame
  tuples) and with cantools' ``decode_message`` per frame. Every decoded
  value is compared; the run fails unless they are identical
  (``can_max_abs_difference`` is printed and must be 0).

The CAN log (``"can_log"`` in the JSON):

- ``road:<file>`` (default ``road:correlated_signal_attack_2.csv``): a real
  capture of the ORNL ROAD data set (``DATA/can/road``; Verma et al., PLoS
  ONE 19(1): e0296879, 2024) replayed with its own timing, ids and payload
  bytes. ROAD's vehicle has no public DBC, so its 14 busiest ids are renamed
  onto the 14 eight-byte messages of opendbc's ``tesla_model3_party.dbc``
  (busiest id -> lowest frame id): the decoded *meanings* are arbitrary, the
  bytes, timing and id mix are real. The other ids stay unknown to the DBC,
  as on a real bus (about half the frames); both decoders meet them.
- ``fleet[:<path>]``: a candump log written by ``examples/make_fleet_data.py``
  (default the largest in ``examples/fleet_data``): the bundled vehicles
  simulated over real 1 Hz speed traces, encoded through twinloop's example
  DBC ``twinloop_ev.dbc``. Real DBC layout, simulated values.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cantools
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from can import CanutilsLogReader

from _common import require_data  # benchmarks/ is on sys.path when a script runs
from twinloop.ingest import Ingester, write_can_log
from twinloop.signals import DbcDecoder, FrameBatch, load_dbc
from twinloop.store import DuckDBStore, PostgresStore

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
#: The largest ROAD capture (69,657 frames, 28 s, 106 ids).
DEFAULT_ROAD = "correlated_signal_attack_2.csv"

SIGNALS = [
    "Vehicle.Speed",
    "Vehicle.Powertrain.TractionBattery.CurrentCurrent",
    "Vehicle.Powertrain.TractionBattery.CurrentVoltage",
    "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current",
    "Vehicle.Powertrain.TractionBattery.Temperature.Average",
]


def make_parquet(path: Path, rows: int) -> int:
    rng = np.random.default_rng(0)
    t = pd.Timestamp("2024-05-01T00:00:00Z") + pd.to_timedelta(np.arange(rows) * 100, unit="ms")
    df = pd.DataFrame(
        {
            "time": t,
            SIGNALS[0]: rng.uniform(0, 130, rows),
            SIGNALS[1]: rng.uniform(-200, 100, rows),
            SIGNALS[2]: rng.uniform(330, 400, rows),
            SIGNALS[3]: np.linspace(95, 10, rows),
            SIGNALS[4]: rng.uniform(10, 40, rows),
        }
    )
    df.to_parquet(path, row_group_size=500_000)
    return rows * len(SIGNALS)


def bench_ingest(store, path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    report = Ingester(store).ingest(path, "BENCH")
    return time.perf_counter() - t0, report.inserted


def bench_bare_duckdb(path: Path, db: Path) -> float:
    df = pd.read_parquet(path)
    n = len(df)
    times = df["time"].dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    long = pa.table(
        {
            "vehicle_id": pa.array(np.ones(n * len(SIGNALS), dtype=np.int32)),
            "signal_id": pa.array(np.repeat(np.arange(len(SIGNALS), dtype=np.int32), n)),
            "time": pa.array(np.tile(times, len(SIGNALS))),
            "value": pa.array(np.concatenate([df[s].to_numpy() for s in SIGNALS])),
        }
    )
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE samples (vehicle_id INTEGER, signal_id INTEGER, time TIMESTAMP, value DOUBLE)"
    )
    con.register("staged", long)
    t0 = time.perf_counter()
    con.execute("INSERT INTO samples SELECT * FROM staged")
    elapsed = time.perf_counter() - t0
    con.close()
    return long.num_rows / elapsed


# ---- CAN decoding ------------------------------------------------------------------


@dataclass(frozen=True)
class CanLog:
    """A candump log to decode, the DBC to decode it with, and what it is."""

    label: str  # for the JSON: "road:<file>" or "fleet:<file>"
    log: Path
    dbc: Path
    mapped_ids: dict[int, str]  # ROAD id -> DBC message (road mode only)


def road_log(tmp: Path, capture: Path, dbc_path: Path) -> CanLog:
    """A real ROAD capture as a candump log, its busiest ids renamed onto DBC messages.

    Timing, payload bytes and the mix of ids are the capture's. The i-th most
    frequent ROAD id (ties: lower id first) becomes the i-th message of the
    DBC with the same payload length (DBC order by frame id); the ROAD vehicle
    has no public DBC, so the decoded *meanings* are arbitrary, but every bit
    that is cut, shifted, scaled and compared is a real bus byte. Frames of
    the remaining ids keep their ids, which are not in the DBC: both decoders
    meet them (counted as unknown ids by twinloop, skipped by the cantools loop).
    """
    df = pd.read_csv(capture, dtype=str)
    n = len(df)
    ids = np.array([int(x, 16) for x in df["Id"]], dtype=np.uint32)
    data = np.zeros((n, 8), dtype=np.uint8)
    cols = [f"Byte{i}" for i in range(1, 9)]
    present = df[cols].notna().to_numpy()
    for j, c in enumerate(cols):
        data[present[:, j], j] = [int(x, 16) for x in df[c][present[:, j]]]
    # a shorter frame leaves its last bytes empty in this CSV layout
    length = present.sum(axis=1).astype(np.uint8)
    db = load_dbc(dbc_path)
    uniq, counts = np.unique(ids, return_counts=True)
    ranked = [
        int(u) for u, _ in sorted(zip(uniq, counts, strict=True), key=lambda x: (-x[1], x[0]))
    ]
    known = {m.frame_id for m in db.messages}
    if known & set(ranked):
        raise SystemExit(
            f"{capture.name}: ROAD ids collide with {dbc_path.name}; pick another capture"
        )
    mapping: dict[int, str] = {}
    out_ids = ids.copy()
    for dlc in sorted(set(length.tolist())):
        targets = sorted((m for m in db.messages if m.length == dlc), key=lambda m: m.frame_id)
        busiest = [i for i in ranked if (length[ids == i] == dlc).all()]
        for rid, msg in zip(busiest, targets, strict=False):
            out_ids[ids == rid] = msg.frame_id
            mapping[rid] = msg.name
    frames = FrameBatch(df["Time"].astype(float).to_numpy(), out_ids, length, data)
    log = tmp / f"road_{capture.stem}.log"
    write_can_log(log, frames)
    return CanLog(f"road:{capture.name}", log, dbc_path, mapping)


def fleet_log(path: Path) -> CanLog:
    """A candump log written by ``examples/make_fleet_data.py`` (through its Ford powertrain DBC excerpt)."""
    if path.is_dir():
        logs = sorted(path.glob("*.log"), key=lambda p: (-p.stat().st_size, p.name))
        if not logs:
            raise SystemExit(
                f"no candump logs in {path}; write them with `python examples/make_fleet_data.py`"
            )
        path = logs[0]
    dbc = REPO_ROOT / "examples" / "data" / "opendbc" / "ford_lincoln_base_pt_excerpt.dbc"
    return CanLog(f"fleet:{path.name}", path, dbc, {})


def bench_can(can_log: CanLog, repeats: int = 5) -> dict[str, Any]:
    """Decode `can_log` with twinloop and with cantools' per-frame loop; check every value.

    Both read the same parsed frames (time, id, payload bytes) of the log.
    twinloop's time is the best of `repeats` calls of ``DbcDecoder.decode``
    on a ready FrameBatch (and, separately, including building that batch
    from the frame tuples); cantools' is one pass of ``decode_message`` per
    frame, with unknown ids skipped by a dict lookup first.
    """
    db = load_dbc(can_log.dbc)
    with CanutilsLogReader(str(can_log.log)) as reader:  # python-can reads the candump log as written
        read = [(float(m.timestamp), int(m.arbitration_id), bytes(m.data)) for m in reader]
    decoder = DbcDecoder(db)
    best = best_with_batch = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        batch = FrameBatch.from_frames(read)
        t1 = time.perf_counter()
        ours = decoder.decode(batch)
        t2 = time.perf_counter()
        best, best_with_batch = min(best, t2 - t1), min(best_with_batch, t2 - t0)
    by_id = {m.frame_id: m for m in db.messages}
    t0 = time.perf_counter()
    ref: dict[tuple[str, str], list[float]] = {}
    skipped = 0
    for _, fid, payload in read:
        m = by_id.get(fid)
        if m is None:
            skipped += 1
            continue
        try:
            decoded = db.decode_message(fid, payload, decode_choices=False)
        except cantools.database.DecodeError:
            skipped += 1
            continue
        for k, v in decoded.items():
            ref.setdefault((m.name, k), []).append(v)
    t_ref = time.perf_counter() - t0
    # identical values: same signals, same counts, same numbers (NaN == NaN)
    if set(ref) != set(ours.signals):
        raise AssertionError(
            f"decoded signals differ: only cantools {sorted(set(ref) - set(ours.signals))[:5]},"
            f" only twinloop {sorted(set(ours.signals) - set(ref))[:5]}"
        )
    max_diff = 0.0
    for key, values in ref.items():
        a, b = ours.signals[key].value, np.asarray(values, dtype=np.float64)
        if a.shape != b.shape:
            raise AssertionError(f"{key}: twinloop decoded {a.size} values, cantools {b.size}")
        both_nan = np.isnan(a) & np.isnan(b)
        diff = np.where(both_nan, 0.0, np.abs(a - b))
        max_diff = max(max_diff, float(np.nanmax(diff, initial=0.0)) if diff.size else 0.0)
        if np.isnan(diff).any() or not np.array_equal(a[~both_nan], b[~both_nan]):
            raise AssertionError(f"decoded values differ from cantools for {key}")
    assert max_diff == 0.0
    n = len(read)
    return {
        "can_log": can_log.label,
        "can_dbc": can_log.dbc.name,
        "can_frames_per_s": n / best,
        "can_frames_per_s_with_batching": n / best_with_batch,
        "cantools_frames_per_s": n / t_ref,
        "can_frames": n,
        "can_frames_decoded": n
        - sum(ours.unknown_ids.values())
        - sum(ours.wrong_length.values())
        - sum(ours.bad_multiplexer.values()),
        "can_frames_skipped_by_cantools_loop": skipped,
        "can_ids_mapped": len(can_log.mapped_ids),
        "can_signal_values_compared": sum(len(v) for v in ref.values()),
        "can_max_abs_difference": max_diff,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    ap.add_argument(
        "--rows", type=int, default=1_000_000, help="rows of the wide file (5 signals each)"
    )
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="reference data folder (../shared/data)"
    )
    ap.add_argument(
        "--can-log",
        default=f"road:{DEFAULT_ROAD}",
        help="road:<capture in DATA/can/road> (default, decoded with --dbc) or"
        " fleet[:<.log file or folder>] (examples/make_fleet_data.py output,"
        " default examples/fleet_data; decoded with twinloop_ev.dbc)",
    )
    ap.add_argument(
        "--dbc", default=None, help="DBC of road mode (default: opendbc's tesla_model3_party.dbc)"
    )
    ap.add_argument("--skip-ingest", action="store_true", help="CAN decoding figures only")
    args = ap.parse_args()
    if args.dbc is None:
        import opendbc

        args.dbc = str(Path(opendbc.__file__).parent / "dbc" / "tesla_model3_party.dbc")
    kind, _, name = args.can_log.partition(":")
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.skip_ingest:
            result.update(bench_ingest_all(tmp, args.rows, args.pg))
        if kind == "road":
            capture = args.data / "can" / "road" / (name or DEFAULT_ROAD)
            if not capture.is_file():
                require_data(capture, "a capture of the ORNL ROAD CAN data set (can/road)")
            can_log = road_log(tmp, capture, Path(args.dbc))
        elif kind == "fleet":
            can_log = fleet_log(Path(name) if name else REPO_ROOT / "examples" / "fleet_data")
        else:
            raise SystemExit(
                f"--can-log: expected road:<file> or fleet[:<path>], got {args.can_log!r}"
            )
        can = bench_can(can_log)
    result.update(
        {
            "can_frames_per_s": round(can["can_frames_per_s"]),
            "cantools_frames_per_s": round(can["cantools_frames_per_s"]),
            "can_speedup": round(can["can_frames_per_s"] / can["cantools_frames_per_s"], 1),
            "can_frames_per_s_with_batching": round(can["can_frames_per_s_with_batching"]),
        }
    )
    result.update({k: v for k, v in can.items() if k not in result})
    if not args.json:
        for k, v in result.items():
            print(f"{k:>36}: {v:,}" if isinstance(v, int) else f"{k:>36}: {v}")
        print(f"max abs difference twinloop vs cantools: {can['can_max_abs_difference']}")
    print(json.dumps(result))


def bench_ingest_all(tmp: Path, rows: int, pg_url: str) -> dict[str, Any]:
    """DuckDB ingest, bare DuckDB append and PostgreSQL ingest figures."""
    big = tmp / "wide.parquet"
    samples = make_parquet(big, rows)
    store = DuckDBStore(tmp / "ingest.duckdb")
    elapsed, inserted = bench_ingest(store, big)
    assert inserted == samples
    store.close()
    duck = samples / elapsed
    bare = bench_bare_duckdb(big, tmp / "bare.duckdb")
    small = tmp / "wide_small.parquet"
    pg_samples = make_parquet(small, max(1, rows // 5))
    pg = PostgresStore(f"{pg_url}?schema=tl_bench_{uuid.uuid4().hex[:8]}")
    try:
        pg_elapsed, pg_inserted = bench_ingest(pg, small)
        assert pg_inserted == pg_samples
    finally:
        pg.drop_schema()
        pg.close()
    return {
        "duckdb_samples_per_s": round(duck),
        "bare_duckdb_samples_per_s": round(bare),
        "duckdb_vs_bare": round(duck / bare, 3),
        "postgres_samples_per_s": round(pg_samples / pg_elapsed),
        "samples": samples,
        "postgres_samples": pg_samples,
    }


if __name__ == "__main__":
    main()
