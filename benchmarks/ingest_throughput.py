"""Ingestion and CAN decoding throughput, each next to its peer, in one run.

    python benchmarks/ingest_throughput.py [--json] [--rows N] [--pg URL]

Figures (samples or frames per second, wall clock, this machine):

- ``duckdb_samples_per_s``: ``Ingester`` on a wide Parquet file into a new
  DuckDB store: read, check, convert to SI, idempotent insert, ledger,
  trip detection, everything.
- ``bare_duckdb_samples_per_s``: DuckDB alone appending the same samples
  (already long-form Arrow, no checks, no idempotency).
- ``postgres_samples_per_s``: ``Ingester`` into PostgreSQL (COPY + ON CONFLICT),
  on the first fifth of the rows to keep the run short.
- ``can_frames_per_s`` / ``cantools_frames_per_s``: decoding the same candump
  log (frames with random payloads for every message of opendbc's
  tesla_model3_party.dbc) with twinloop's vectorised decoder and with
  cantools' ``decode_message`` per frame; values are checked identical.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path

import cantools
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from twinloop.ingest import Ingester, write_can_log
from twinloop.ingest.sources import _read_candump
from twinloop.signals import DbcDecoder, FrameBatch, load_dbc
from twinloop.store import DuckDBStore, PostgresStore

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


def bench_can(tmp: Path, dbc_path: Path, frames_n: int) -> tuple[float, float, int]:
    db = load_dbc(dbc_path)
    rng = np.random.default_rng(1)
    msgs = [m for m in db.messages]
    pick = rng.integers(0, len(msgs), frames_n)
    frames = [
        (
            1.7e9 + i * 1e-4,
            msgs[k].frame_id,
            rng.integers(0, 256, msgs[k].length, dtype=np.uint8).tobytes(),
        )
        for i, k in enumerate(pick.tolist())
    ]
    log = tmp / "bench.log"
    write_can_log(log, FrameBatch.from_frames(frames))
    read = [f for chunk, _, _ in _read_candump(log, 10**9) for f in chunk]
    batch = FrameBatch.from_frames(read)
    decoder = DbcDecoder(db)
    t0 = time.perf_counter()
    ours = decoder.decode(batch)
    t_ours = time.perf_counter() - t0
    by_id = {m.frame_id: m for m in db.messages}
    t0 = time.perf_counter()
    ref: dict[tuple[str, str], list[float]] = {}
    for _, fid, payload in read:
        m = by_id[fid]
        try:
            decoded = db.decode_message(fid, payload, decode_choices=False)
        except cantools.database.DecodeError:
            continue
        for k, v in decoded.items():
            ref.setdefault((m.name, k), []).append(v)
    t_ref = time.perf_counter() - t0
    for key, values in ref.items():
        if not np.array_equal(ours.signals[key].value, np.asarray(values, dtype=np.float64)):
            raise AssertionError(f"decoded values differ from cantools for {key}")
    signals = sum(len(v) for v in ref.values())
    return len(read) / t_ours, len(read) / t_ref, signals


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    ap.add_argument(
        "--rows", type=int, default=1_000_000, help="rows of the wide file (5 signals each)"
    )
    ap.add_argument("--frames", type=int, default=200_000, help="CAN frames")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--dbc", default=None, help="DBC (default: opendbc's tesla_model3_party.dbc)")
    args = ap.parse_args()
    if args.dbc is None:
        import opendbc

        args.dbc = str(Path(opendbc.__file__).parent / "dbc" / "tesla_model3_party.dbc")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        big = tmp / "wide.parquet"
        samples = make_parquet(big, args.rows)
        store = DuckDBStore(tmp / "ingest.duckdb")
        elapsed, inserted = bench_ingest(store, big)
        assert inserted == samples
        # idempotency cost on a re-run of other bytes with the same samples
        store.close()
        duck = samples / elapsed
        bare = bench_bare_duckdb(big, tmp / "bare.duckdb")

        small = tmp / "wide_small.parquet"
        pg_samples = make_parquet(small, max(1, args.rows // 5))
        pg = PostgresStore(f"{args.pg}?schema=tl_bench_{uuid.uuid4().hex[:8]}")
        try:
            pg_elapsed, pg_inserted = bench_ingest(pg, small)
            assert pg_inserted == pg_samples
        finally:
            pg.drop_schema()
            pg.close()
        can_rate, ref_rate, decoded = bench_can(tmp, Path(args.dbc), args.frames)
    result = {
        "duckdb_samples_per_s": round(duck),
        "bare_duckdb_samples_per_s": round(bare),
        "duckdb_vs_bare": round(duck / bare, 3),
        "postgres_samples_per_s": round(pg_samples / pg_elapsed),
        "can_frames_per_s": round(can_rate),
        "cantools_frames_per_s": round(ref_rate),
        "can_speedup": round(can_rate / ref_rate, 1),
        "samples": samples,
        "postgres_samples": pg_samples,
        "can_frames": args.frames,
        "can_signal_values_compared": decoded,
    }
    if not args.json:
        for k, v in result.items():
            print(f"{k:>30}: {v:,}" if isinstance(v, int) else f"{k:>30}: {v}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
