"""Two writers changing one twin's model versions at the same moment, through separate store connections.

``twinloop twin calibrate VIN`` run twice at once on PostgreSQL used to end
with the loser printing a raw unique-constraint error; two promotions at once
left two champions. Each race here is real: two connections (two processes
in the last test), the database's own locks, and a writer held inside its
transaction until the other one is known to be waiting on it (or already
refused), so the outcome does not depend on luck. DuckDB runs the same races
with two connections of one process, the only way it allows two writers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from simulated_telemetry import telemetry_parquet

from twinloop.errors import StoreConflictError, StoreError
from twinloop.ingest import Ingester
from twinloop.parameters import resolve_vehicle
from twinloop.store import SqlTelemetryStore, open_store
from twinloop.twin.consumption import PhysicsConsumptionModel
from twinloop.twin.lifecycle import Twin, create_twin, open_twin
from twinloop.twin.registry import ModelRegistry, ModelVersion
from twinloop.twin.repository import TwinRepository

PG_URL = os.environ.get("TWINLOOP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
VIN = "5YJ3E1EA7KF000001"
RUN_AGAIN = (
    f"another writer registered a model version of {VIN} at the same time (a calibration or update running"
    " beside this one); nothing was written: run it again"
)
#: What the registry's own check says when the other writer committed before this one looked.
CHANGED_MEANWHILE = f"the models of {VIN} changed meanwhile"


@dataclass
class Fleet:
    """One store, shared by writers that each open their own connection to it."""

    kind: str
    url: str
    opened: list[SqlTelemetryStore] = field(default_factory=list)

    def connect(self, name: str) -> SqlTelemetryStore:
        """A connection of its own; on PostgreSQL tagged `name`, so that its lock waits can be seen."""
        url = f"{self.url}&application_name={name}" if self.kind == "postgresql" else self.url
        self.opened.append(open_store(url))
        return self.opened[-1]

    def is_waiting_on_a_lock(self, name: str) -> bool:
        if self.kind != "postgresql":
            return False  # DuckDB never waits: the second writer of a row is refused at once
        with psycopg.connect(PG_URL, autocommit=True) as con:
            row = con.execute("SELECT wait_event_type FROM pg_stat_activity WHERE application_name = %s",
                              [name]).fetchone()
        return row is not None and row[0] == "Lock"


@pytest.fixture(params=["duckdb", "postgresql"])
def fleet(request: pytest.FixtureRequest, tmp_path: Path, fresh_pg_url: str, compact_car) -> Iterator[Fleet]:
    url = str(tmp_path / "fleet.duckdb") if request.param == "duckdb" else fresh_pg_url
    f = Fleet(request.param, url)
    create_twin(f.connect("setup"), VIN, compact_car)
    yield f
    for store in reversed(f.opened):
        if f.kind == "postgresql" and store is f.opened[0]:
            store.drop_schema()  # type: ignore[attr-defined]
        store.close()


def model(compact_car, efficiency: float) -> PhysicsConsumptionModel:
    return PhysicsConsumptionModel.from_spec(compact_car, drivetrain_efficiency=efficiency)


def statuses(store: SqlTelemetryStore) -> list[tuple[int, str]]:
    return [(v.version, v.status) for v in TwinRepository(store).load_versions(VIN)]


def assert_consistent(versions: Sequence[ModelVersion]) -> None:
    """One champion; versions numbered 1..n without a hole."""
    assert [v.version for v in versions] == list(range(1, len(versions) + 1))
    assert [v.status for v in versions].count("champion") == 1


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text, text
    return text


@dataclass
class Outcome:
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    error: BaseException | None = None


def start(write: Callable[[], object], after: threading.Event) -> tuple[threading.Thread, Outcome]:
    """Run `write` in a thread of its own once `after` is set."""
    outcome = Outcome()

    def run() -> None:
        try:
            assert after.wait(30), "the first writer never wrote"
            outcome.result = write()
        except BaseException as exc:  # reported by the test, not lost in the thread
            outcome.error = exc
        finally:
            outcome.done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def hold_until_second_writer_waits_or_is_refused(fleet: Fleet, name: str, outcome: Outcome) -> None:
    """Keep the first writer's transaction open until the second is blocked by it (PostgreSQL) or done (DuckDB)."""
    deadline = time.monotonic() + 30
    while not (outcome.done.is_set() or fleet.is_waiting_on_a_lock(name)):
        assert time.monotonic() < deadline, "the second writer neither waited on the first nor finished"
        time.sleep(0.01)


def race(fleet: Fleet, first: Callable[[Twin], object], second: Callable[[Twin], object]) -> Outcome:
    """`first` writes inside an open transaction; `second` writes meanwhile; then `first` commits."""
    ours, theirs = open_twin(fleet.connect("first"), VIN), open_twin(fleet.connect("second"), VIN)
    wrote = threading.Event()
    thread, outcome = start(lambda: second(theirs), after=wrote)
    with ours.repository.transaction():
        first(ours)
        wrote.set()
        hold_until_second_writer_waits_or_is_refused(fleet, "second", outcome)
    thread.join(30)
    assert outcome.done.is_set()
    return outcome


# ---- deterministic races ---------------------------------------------------------------------------
def test_two_calibrations_registering_the_same_version_one_wins_the_other_is_told_to_run_again(fleet, compact_car):
    def calibrate(by: str, efficiency: float) -> Callable[[Twin], ModelVersion]:
        return lambda twin: twin.registry.register(model(compact_car, efficiency), reason="calibration",
                                                    created_by=by, parent_version=1, status="champion")

    outcome = race(fleet, calibrate("first", 0.85), calibrate("second", 0.9))
    assert isinstance(outcome.error, StoreConflictError), outcome.error
    assert one_line(outcome.error) == RUN_AGAIN
    versions = TwinRepository(fleet.connect("check")).load_versions(VIN)
    assert_consistent(versions)
    assert [(v.version, v.status, v.provenance.created_by) for v in versions] == [
        (1, "retired", "twinloop"), (2, "champion", "first")]


def test_two_promotions_at_once_leave_one_champion(fleet, compact_car):
    # on PostgreSQL under READ COMMITTED the second promotion waited for the first, then retired the
    # already-retired v1 and crowned v3 beside v2: two champions
    setup = open_twin(fleet.opened[0], VIN)
    for efficiency in (0.85, 0.9):
        setup.registry.register(model(compact_car, efficiency), reason="experiment", created_by="t")
    outcome = race(fleet, lambda twin: twin.registry.promote(2), lambda twin: twin.registry.promote(3))
    assert isinstance(outcome.error, StoreConflictError), outcome.error
    assert one_line(outcome.error) == RUN_AGAIN
    assert statuses(fleet.connect("check")) == [(1, "retired"), (2, "champion"), (3, "challenger")]


def test_a_promotion_racing_a_new_champion_leaves_one_champion(fleet, compact_car):
    setup = open_twin(fleet.opened[0], VIN)
    setup.registry.register(model(compact_car, 0.85), reason="experiment", created_by="t")
    outcome = race(
        fleet,
        lambda twin: twin.registry.promote(2),
        lambda twin: twin.registry.register(model(compact_car, 0.9), reason="calibration", created_by="t",
                                            status="champion"),
    )
    assert isinstance(outcome.error, StoreConflictError), outcome.error
    assert one_line(outcome.error) == RUN_AGAIN
    assert statuses(fleet.connect("check")) == [(1, "retired"), (2, "champion")]


def test_the_loser_runs_again_and_succeeds(fleet, compact_car):
    outcome = race(
        fleet,
        lambda twin: twin.registry.register(model(compact_car, 0.85), reason="calibration", created_by="first",
                                            status="champion"),
        lambda twin: twin.registry.register(model(compact_car, 0.9), reason="calibration", created_by="second",
                                            status="champion"),
    )
    assert isinstance(outcome.error, StoreConflictError)
    again = open_twin(fleet.connect("again"), VIN).registry.register(
        model(compact_car, 0.9), reason="calibration", created_by="second", status="champion")
    assert again.version == 3
    versions = TwinRepository(fleet.connect("check")).load_versions(VIN)
    assert_consistent(versions)
    assert [(v.version, v.status, v.provenance.created_by) for v in versions][1:] == [
        (2, "retired", "first"), (3, "champion", "second")]


# ---- writers started together, many times -------------------------------------------------------------
class StartingTogether:
    """A VersionLedger that lets its commit go only when the other writer's is ready too (a barrier)."""

    def __init__(self, repository: TwinRepository, barrier: threading.Barrier) -> None:
        self.repository = repository
        self.barrier = barrier

    def load_versions(self, vin: str) -> list[ModelVersion]:
        return self.repository.load_versions(vin)

    def commit_versions(
        self, vin: str, expected_latest: int, new: Sequence[ModelVersion], status: Mapping[int, str]
    ) -> None:
        self.barrier.wait(30)
        self.repository.commit_versions(vin, expected_latest, new, status)


def test_calibrations_started_together_leave_one_champion_and_no_holes(fleet, compact_car):
    rounds = 5
    barrier = threading.Barrier(2)
    registries = [ModelRegistry(VIN, StartingTogether(TwinRepository(fleet.connect(f"w{i}")), barrier))
                  for i in range(2)]
    wins = 0
    for r in range(rounds):
        go = threading.Event()
        runs = [
            start(lambda reg=reg, i=i, r=r: reg.register(model(compact_car, 0.8 + 0.01 * r + 0.001 * i),
                                                    reason="calibration", created_by=f"writer {i}",
                                                    status="champion"), after=go)
            for i, reg in enumerate(registries)
        ]
        go.set()
        for thread, _ in runs:
            thread.join(60)
        outcomes = [o for _, o in runs]
        assert all(o.done.is_set() for o in outcomes)
        won = [o for o in outcomes if o.error is None]
        lost = [o.error for o in outcomes if o.error is not None]
        assert len(won) == 1 and len(lost) == 1, [o.error for o in outcomes]
        assert isinstance(lost[0], StoreError)
        message = one_line(lost[0])
        assert message == RUN_AGAIN or message.startswith(CHANGED_MEANWHILE), message
        wins += 1
    versions = TwinRepository(fleet.connect("check")).load_versions(VIN)
    assert_consistent(versions)
    assert len(versions) == 1 + wins and versions[-1].status == "champion"


# ---- the command line, two processes ---------------------------------------------------------------
def test_two_twin_calibrate_commands_at_once_on_postgresql_one_wins_the_other_says_run_again(
    tmp_path, fresh_pg_url
):
    # Both processes must be inside their calibration at once. The test holds v1's row (which each
    # must update to retire the champion) until both wait on it, then lets go: one retires v1 and
    # adds v2, the other finds v1 changed under it and is refused.
    leaf = "nissan_leaf_40kwh_2018"
    schema = parse_qs(urlsplit(fresh_pg_url).query)["schema"][0]
    store = open_store(fresh_pg_url)
    try:
        create_twin(store, "CAR7", resolve_vehicle(leaf))
        Ingester(store).ingest(telemetry_parquet(tmp_path / "may.parquet", leaf, 12, 0, "2024-05-01T06:00Z"), "CAR7")
        script = Path(sys.executable).with_name("twinloop")
        names = [f"calibrate_{i}_{os.getpid()}" for i in range(2)]
        with psycopg.connect(PG_URL) as holder, psycopg.connect(PG_URL, autocommit=True) as watcher:
            holder.execute(f"SET search_path TO {schema}")
            holder.execute("SELECT 1 FROM twin_models WHERE vin = 'CAR7' AND version = 1 FOR UPDATE")
            procs = [
                subprocess.Popen([str(script), "twin", "calibrate", "CAR7"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, "TWINLOOP_STORE": fresh_pg_url, "PGAPPNAME": name})
                for name in names
            ]
            deadline = time.monotonic() + 120
            while True:
                waiting = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = ANY(%s) AND wait_event_type"
                    " = 'Lock'", [names]).fetchone()
                if waiting == (2,):
                    break
                assert time.monotonic() < deadline and all(p.poll() is None for p in procs), [
                    p.communicate() for p in procs if p.poll() is not None]
                time.sleep(0.05)
            holder.rollback()  # let go, changing nothing
        outputs = [p.communicate(timeout=120) for p in procs]
        results = sorted((p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True))
        (won, out, err), (lost, lost_out, lost_err) = results
        assert (won, lost) == (0, 2), results
        assert "Traceback" not in out + err
        assert out.startswith("calibrated CAR7 on 12 trips") and ": v2 physics, champion" in out, out
        assert "Traceback" not in lost_out + lost_err and lost_out == ""
        assert lost_err == (
            "error: another writer registered a model version of CAR7 at the same time (a calibration or update"
            " running beside this one); nothing was written: run it again\n"
        )
        versions = TwinRepository(store).load_versions("CAR7")
        assert_consistent(versions)
        assert [(v.version, v.status) for v in versions] == [(1, "retired"), (2, "champion")]
    finally:
        store.drop_schema()  # type: ignore[attr-defined]
        store.close()
