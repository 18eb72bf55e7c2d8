"""The documentation's examples, run: every fenced code block of README.md and docs/*.md.

A small parser (no dependency) reads the fenced blocks; each example is one test,
named by where it is, e.g. ``README.md:23 twinloop simulate -v ...``:

* ```` ```python ```` blocks run in a fresh temporary folder; the blocks of one
  file run in order in one namespace, so a block may use what an earlier one
  made. Each must raise nothing.
* ```` ```bash ````, ```` ```sh ```` and ```` ```console ```` blocks: each command
  line runs through ``bash -o pipefail -c`` in a temporary folder laid out like the
  repository root (``tests/`` and ``examples/data`` linked in), with the real
  ``twinloop`` console script first on ``PATH`` and ``TWINLOOP_STORE`` a DuckDB
  file in that folder. It must exit with status 0 and print no traceback. The
  commands of one block run in order in one folder (``export`` lines carry over);
  a block listed in :data:`CONTINUES` goes on in the folder of the block before
  it. Where a console block shows output, the output must have the same lines,
  numbers aside (:func:`output_pattern`); where a command's comment says what it
  prints or writes, :data:`EXPECT` checks it.
* ```` ```toml ```` blocks must load as vehicle specifications.
* Blocks without a language (synopses, formulas, messages): their ``twinloop``
  lines must name options the command has; the error messages of
  docs/vehicle-spec.md are reproduced (:data:`SPEC_ERRORS`).

What a command or a Python block needs from the user (``my_trip.csv``, telemetry
files, ``trips``) the test makes (:data:`GIVEN`, :data:`PY_GIVEN`); what cannot or
should not run here is in :data:`SKIP` or :data:`SAME_AS`, or runs smaller
(:data:`SUBSTITUTE`), each with its reason. Every key of these tables must name an
example that is still in the docs (:func:`test_tables_name_examples_in_the_docs`),
so they cannot go stale. A PostgreSQL URL in a command gets a schema of its own
(dropped afterwards), so that the example does not write into the database's
``public`` schema.

The commands of one folder may be spread over pytest-xdist workers: the folder,
a journal of the commands already run and a lock live under the run's shared
temporary root, and each command runs once, in order, by whichever worker gets
there first; a worker whose folder is busy runs other folders' commands ahead
meanwhile. Most of the run time is the start of each ``twinloop`` process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from simulated_telemetry import telemetry_parquet

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", *(f"docs/{p.name}" for p in sorted((ROOT / "docs").glob("*.md"))))
LEAF = "nissan_leaf_40kwh_2018"
TESLA = "tesla_model_3_long_range_2022"
VIN = "5YJ3E1EA7KF000001"


# ---- the parser ------------------------------------------------------------------------------
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    """A fenced code block: `line` is the opening fence's (1-based), `lines` the content."""

    doc: str
    line: int
    lang: str
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def fenced_blocks(doc: str) -> list[Block]:
    """The fenced blocks of `doc` (a path relative to the repository), in order."""
    lines = (ROOT / doc).read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence = len(m["indent"]), m["fence"]
        closing = re.compile(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not closing.fullmatch(lines[j]):
            text = lines[j]
            body.append(text[indent:] if not text[:indent].strip() else text.lstrip())
            j += 1
        assert j < len(lines), f"{doc}:{i + 1}: the code block is never closed"
        info = m["info"].split()
        blocks.append(Block(doc, i + 1, info[0].lower() if info else "", tuple(body)))
        i = j + 1
    return blocks


def split_comment(line: str) -> tuple[str, str]:
    """`line` without its shell comment (a ``#`` after a blank, outside quotes), and the comment."""
    quote = ""
    for k, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (k == 0 or line[k - 1].isspace()):
            return line[:k].rstrip(), line[k + 1 :].strip()
    return line.rstrip(), ""


@dataclass(frozen=True)
class Command:
    """One command of a shell block; `expected` is the output a console block shows for it."""

    block: Block
    line: int
    text: str
    comment: str
    expected: tuple[str, ...] = ()

    @property
    def doc(self) -> str:
        return self.block.doc

    @property
    def id(self) -> str:
        text = self.text if len(self.text) <= 90 else self.text[:87] + "..."
        return f"{self.doc}:{self.line} {text}"


SHELL = {"bash", "sh", "shell", "console", "shell-session"}


def shell_commands(block: Block) -> list[Command]:
    """The commands of a shell block; in a console block, ``$ `` lines, each with its output."""
    console = block.lang in {"console", "shell-session"}
    found: list[tuple[int, str, str, list[str]]] = []
    i = 0
    while i < len(block.lines):
        raw, line = block.lines[i], block.line + 1 + i
        i += 1
        if console:
            if not raw.startswith("$ "):
                assert found or not raw.strip(), f"{block.doc}:{line}: output before any command"
                if found and raw.strip():
                    found[-1][3].append(raw)
                continue
            raw = raw[2:]
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        while raw.endswith("\\") and i < len(block.lines):
            nxt = block.lines[i]
            raw = raw[:-1] + " " + (nxt[2:] if console and nxt.startswith("> ") else nxt).strip()
            i += 1
        code, comment = split_comment(raw)
        found.append((line, code.strip(), comment, []))
    return [Command(block, line, text, comment, tuple(out)) for line, text, comment, out in found]


def output_pattern(line: str) -> re.Pattern[str]:
    """A line of shown output as a pattern: the same text, any number where it shows one."""
    parts = re.split(r"(\d+(?:\.\d+)?)", line.rstrip())
    return re.compile("".join(r"-?\d+(?:\.\d+)?" if k % 2 else re.escape(p) for k, p in enumerate(parts)))


BLOCKS = {doc: fenced_blocks(doc) for doc in DOCS}
SHELL_BLOCKS = [b for doc in DOCS for b in BLOCKS[doc] if b.lang in SHELL]
COMMANDS = [c for b in SHELL_BLOCKS for c in shell_commands(b)]
PYTHON_BLOCKS = [b for doc in DOCS for b in BLOCKS[doc] if b.lang == "python"]
TOML_BLOCKS = [b for doc in DOCS for b in BLOCKS[doc] if b.lang == "toml"]
PLAIN_BLOCKS = [b for doc in DOCS for b in BLOCKS[doc] if b.lang in {"", "text"}]


# ---- inputs the user supplies, made by the test ------------------------------------------------
def write_trace(path: Path) -> None:
    """A user's speed trace: the first 10 minutes of UDDS as ``time_s,speed_kph``."""
    from twinloop.cycles import load_cycle

    c = load_cycle("udds")
    keep = c.time <= 600
    pd.DataFrame({"time_s": c.time[keep], "speed_kph": c.vehicle_speed[keep] * 3.6}).to_csv(path, index=False)


def write_vehicle(path: Path, name: str = LEAF) -> None:
    """A vehicle file, as ``twinloop vehicle show NAME > FILE`` writes it."""
    from twinloop.parameters import dump_vehicle, resolve_vehicle

    path.write_text(dump_vehicle(resolve_vehicle(name), significant_digits=10), encoding="utf-8")


@dataclass
class Workspace:
    """The folder and environment a shell example runs in."""

    path: Path
    env: dict[str, str]

    @contextlib.contextmanager
    def store(self) -> Iterator[Any]:
        """The store the folder's commands use (``TWINLOOP_STORE``), opened here for a set-up."""
        from twinloop.store import open_store

        url = self.env["TWINLOOP_STORE"]
        store = open_store(url if "://" in url else str(self.path / url))
        try:
            yield store
        finally:
            store.close()


# The set-ups use the library in the test's process: the same as `twinloop ingest` and
# `twinloop twin calibrate`, without starting a process for each.
def _ingested(vehicle: str, vin: str, n: int, start: str, name: str) -> Callable[[Workspace], None]:
    def given(ws: Workspace) -> None:
        from twinloop.ingest import Ingester

        telemetry_parquet(ws.path / name, vehicle, n, seed=0, start=start)
        with ws.store() as store:
            report = Ingester(store).ingest(ws.path / name, vin)
        assert report.problem is None, report.problem

    return given


def _calibrated_twice(ws: Workspace) -> None:
    from datetime import UTC, datetime

    from twinloop.twin.lifecycle import calibrate_from_store, open_twin

    with ws.store() as store:
        calibrate_from_store(open_twin(store, VIN), until=datetime(2024, 5, 2, 12, tzinfo=UTC))  # v2: 10 trips
        calibrate_from_store(open_twin(store, VIN))  # v3: all 12


# (doc, command as written, without its comment) -> (what the user would have, how the test makes it).
# Each runs just before its command, in the command's folder.
GIVEN: dict[tuple[str, str], tuple[str, Callable[[Workspace], None]]] = {
    ("README.md", "twinloop simulate -v my_car.toml -c my_trip.csv --plot trip.png"): (
        "the user's trace my_trip.csv: 10 min of UDDS as time_s,speed_kph",
        lambda ws: write_trace(ws.path / "my_trip.csv")),
    ("README.md", f"twinloop twin create {LEAF} --vehicle {LEAF}"): (
        "the Leaf's drives of the full example fleet (~20): the one-day fleet built here (SUBSTITUTE) "
        "gives it one 75 s drive, and calibration needs 10 trips; 12 simulated trips are ingested",
        _ingested(LEAF, LEAF, 12, "2007-09-01T06:00Z", "leaf_trips.parquet")),
    ("docs/twins.md", "twinloop ingest may.parquet --vehicle CAR7"): (
        "the user's May telemetry: 12 simulated Leaf trips from 2024-05-01 06:00 UTC, 3 h apart",
        lambda ws: telemetry_parquet(ws.path / "may.parquet", LEAF, 12, 0, "2024-05-01T06:00Z")),
    ("docs/twins.md", "twinloop ingest june.parquet --vehicle CAR7"): (
        "the user's June telemetry: 12 simulated trips of the Leaf carrying 300 kg more",
        lambda ws: telemetry_parquet(ws.path / "june.parquet", LEAF, 12, 1, "2024-06-01T06:00Z", payload=300.0)),
    ("docs/twins.md", "twinloop twin create car8 --vehicle my_car.toml --store postgresql://postgres@127.0.0.1/test"): (
        "the user's vehicle file my_car.toml (`twinloop vehicle show nissan_leaf_40kwh_2018`)",
        lambda ws: write_vehicle(ws.path / "my_car.toml")),
    ("docs/twins.md", f'twinloop twin create {VIN} --vehicle {TESLA} --name "fleet car 7"'): (
        "telemetry of the VIN (the block's sync, calibrate and --health read trips): 12 simulated trips "
        "from 2024-05-01, of the Leaf, as the simulator's own Model 3 trips on the bundled cycles do "
        "not calibrate (the fit ends on regen_efficiency 1)",
        _ingested(LEAF, VIN, 12, "2024-05-01T06:00Z", "trips.parquet")),
    ("docs/profiles.md", f"twinloop ingest drives.parquet --vehicle {VIN}"): (
        "the user's telemetry: 2 simulated Leaf trips (UDDS, HWFET) from 2024-05-01 06:00 UTC",
        lambda ws: telemetry_parquet(ws.path / "drives.parquet", LEAF, 2, 0, "2024-05-01T06:00Z")),
    ("docs/twins.md", f"twinloop twin restore {VIN} 2"): (
        "the comment's premise, a calibration that made v3 the champion: a calibration on 10 of the "
        "trips (v2), then on all 12 (v3)",
        _calibrated_twice),
}

# (doc, command as written) -> reason it is not run.
SKIP: dict[tuple[str, str], str] = {
    ("README.md", "make demo"): "creates .venv and pip-installs the project (network, minutes); "
                                "the test runs in that environment already",
    ("README.md", "make test"): "runs the whole test suite, this test included",
    ("README.md", "source .venv/bin/activate"): "shell set-up: the test puts the environment's bin "
                                                "folder first on PATH itself",
}

# (doc, command as written) -> the doc whose block runs the same command, in the same order after
# the same commands (each twin command starts a process that loads scikit-learn, ~2 s of CPU).
SAME_AS: dict[tuple[str, str], str] = {
    ("README.md", f'twinloop twin create {VIN} --vehicle {TESLA} --name "fleet car 7"'): "docs/twins.md",
    ("README.md", f"twinloop twin show {VIN}"): "docs/twins.md",
    ("README.md", f"twinloop twin models {VIN}"): "docs/twins.md",
    ("README.md", f"twinloop twin restore {VIN} 1"): "docs/twins.md",
}

# (doc, command as written) -> (the command run instead, why).
SUBSTITUTE: dict[tuple[str, str], tuple[str, str]] = {
    ("README.md", "python examples/make_fleet_data.py"): (
        "python examples/make_fleet_data.py --trips 1",
        "all six bundled days take 2-4 min on 2 cores; one day (7 vehicles, one 75 s drive each, "
        "~2 s) runs the same code and writes the files the next commands read"),
}

# Blocks that go on in the folder of an earlier block of their file (its store, files, exports):
# (doc, first command) -> (the earlier block's first command, why).
CONTINUES: dict[tuple[str, str], tuple[str, str]] = {
    ("README.md", f"twinloop twin create {LEAF} --vehicle {LEAF}"): (
        "python examples/make_fleet_data.py", '"With the fleet data above"'),
}


def _json(text: str) -> Any:
    return json.loads(text)


def _lines(n: int) -> Callable[[str, Path], bool]:
    return lambda out, _: len(out.strip().splitlines()) == n


# (doc, command as written) -> (what its comment or the prose says, a check of (stdout, folder)).
EXPECT: dict[tuple[str, str], tuple[str, Callable[[str, Path], object]]] = {
    ("README.md", f"twinloop simulate -v {TESLA} -c udds"): (
        "a report in Wh/km with the energy breakdown",
        lambda out, _: "Wh/km" in out and "aerodynamic" in out),
    ("README.md", f"twinloop simulate -v {LEAF} -c wltc_3b --ambient-c -7 --format json"): (
        "JSON with wh_per_km and an HVAC share (heating at -7 degC)",
        lambda out, _: _json(out)["wh_per_km"] > 0 and _json(out)["breakdown"]["hvac"] > 0),
    ("README.md", f"twinloop vehicle show {LEAF} > my_car.toml"): (
        "a vehicle file to edit",
        lambda _, d: (d / "my_car.toml").read_text().startswith(f'name = "{LEAF}"')),
    ("README.md", "twinloop simulate -v my_car.toml -c my_trip.csv --plot trip.png"): (
        "the plot trip.png", lambda _, d: (d / "trip.png").stat().st_size > 0),
    ("README.md", "twinloop vehicle list"): ("the 7 bundled reference BEVs", _lines(7)),
    ("README.md", "twinloop vehicle import-fastsim tests/data/fastsim/2022_Renault_Zoe_ZE50_R135.yaml -o zoe.toml"): (
        "zoe.toml, a vehicle file", lambda _, d: "[battery]" in (d / "zoe.toml").read_text()),
    ("README.md", "twinloop vehicles"): (
        "7 vehicles and their sample counts", lambda out, _: len(out.strip().splitlines()) == 1 + 7),
    ("README.md", f"twinloop trips -v {LEAF}"): (
        "drives detected from key-on/key-off", lambda out, _: " key " in out),
    ("README.md", f"twinloop ingest examples/fleet_data/{LEAF}__4033363_1_2007-08-25.parquet -v {LEAF}"): (
        'the same drive as its CAN log, so idempotent: "0 new"', lambda out, _: "stored 0 new" in out),
    ("README.md", "twinloop can manifest --dbc examples/data/opendbc/ford_lincoln_base_pt_excerpt.dbc > manifest.toml"): (
        "a manifest mapping DBC signals to VSS paths",
        lambda _, d: "[[map]]" in (d / "manifest.toml").read_text()),
    ("README.md", "twinloop vehicle calibrate-lab -v epa2022:nissan_leaf_kwb115_c0 --measured-wh-per-mile 192"): (
        "one EPA test in, highway out ± sd", lambda out, _: re.search(r"hwfet +\d+\.\d ± \d+\.\d Wh/mi", out)),
    ("README.md", f"twinloop twin calibrate {LEAF}"): (
        "a new version", lambda out, _: "v2 physics, champion" in out),
    ("README.md", f"twinloop twin show {LEAF} --health"): (
        "battery capacity, state of health, fade, resistance",
        lambda out, _: all(w in out for w in ("capacity", "state_of_health", "fade", "resistance"))),
    ("README.md", "twinloop battery identify tests/data/battery/calce_a123_dst.csv --flip-current -o cell.toml"): (
        "the cell model cell.toml", lambda _, d: 'format = "twinloop.cell/1"' in (d / "cell.toml").read_text()),
    ("README.md", "twinloop battery rul tests/data/battery/nasa_b0005_capacity.csv --capacity-column y1 "
                  "--threshold-ah 1.2 --plot out/rul.png"): (
        "a forecast and the plot out/rul.png",
        lambda out, d: "median crossing" in out and (d / "out" / "rul.png").stat().st_size > 0),
    ("docs/twins.md", f"twinloop twin show {VIN}"): (
        "record, state, champion, history",
        lambda out, _: all(w in out for w in ("fleet car 7", "state_of_charge", "champion", "models"))),
    ("docs/twins.md", f"twinloop twin show {VIN} --health"): (
        "capacity, SoH, fade, resistance from the trips",
        lambda out, _: all(w in out for w in ("capacity", "state_of_health", "fade", "resistance"))),
    ("docs/vehicle-spec.md", f"twinloop vehicle show {LEAF} > my_car.toml"): (
        "a vehicle file", lambda _, d: (d / "my_car.toml").read_text().startswith(f'name = "{LEAF}"')),
    ("docs/vehicle-spec.md", "twinloop vehicle validate my_car.toml"): (
        "the file is valid", lambda out, _: out.startswith(f"ok: {LEAF}: ")),
}


# ---- running shell examples -------------------------------------------------------------------
def _group_of(command: Command) -> tuple[str, int]:
    """(doc, opening line of the first block) of the folder `command` runs in."""
    block = command.block
    while (block.doc, first := shell_commands(block)[0].text) in CONTINUES:
        earlier = [b for b in SHELL_BLOCKS if b.doc == block.doc and b.line < block.line
                   and shell_commands(b)[0].text == CONTINUES[block.doc, first][0]]
        if not earlier:  # a stale entry: test_tables_name_examples_in_the_docs says so
            break
        block = earlier[-1]
    return block.doc, block.line


GROUPS: dict[tuple[str, int], list[Command]] = {}
for _c in COMMANDS:
    GROUPS.setdefault(_group_of(_c), []).append(_c)
# Round robin over the folders: xdist hands each worker a run of consecutive tests, and a
# worker that gets the middle of a folder another worker is running would wait for it.
INTERLEAVED = [g[k] for k in range(max(map(len, GROUPS.values()))) for g in GROUPS.values() if k < len(g)]


def _bin_dir(shims: Path) -> Path:
    """The folder of the ``twinloop`` console script of this interpreter (else a shim calling it)."""
    here = Path(sys.executable).parent
    if (here / "twinloop").exists():
        return here
    shims.mkdir(parents=True)
    shim = shims / "twinloop"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "from twinloop.cli import main; main()" "$@"\n')
    shim.chmod(0o755)
    (shims / "python").symlink_to(sys.executable)
    return shims


def _lay_out(path: Path) -> None:
    """A folder like the repository root: its data and scripts linked in, nothing made by runs."""
    path.mkdir(parents=True)
    (path / "tests").symlink_to(ROOT / "tests")
    (path / "benchmarks").symlink_to(ROOT / "benchmarks")
    (path / "examples").mkdir()
    (path / "examples" / "data").symlink_to(ROOT / "examples" / "data")
    for script in (ROOT / "examples").glob("*.py"):  # run from here, they write under ./examples
        (path / "examples" / script.name).symlink_to(script)


@contextlib.contextmanager
def _locked(path: Path, wait: bool) -> Iterator[bool]:
    """Hold an exclusive lock on `path` (yields False at once if another process holds it and not `wait`)."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_PG_URL = re.compile(r"postgresql://[^\s'\"]+")


def _run_one(command: Command, ws: Workspace) -> dict[str, Any]:
    key = (command.doc, command.text)
    record: dict[str, Any] = {"line": command.line, "command": command.text}
    if key in SKIP:
        return record | {"skipped": SKIP[key]}
    if key in SAME_AS:
        (same,) = [c for c in COMMANDS if (c.doc, c.text) == (SAME_AS[key], command.text)]
        return record | {"skipped": f"the same command runs as {same.doc}:{same.line}"}
    text = SUBSTITUTE[key][0] if key in SUBSTITUTE else command.text
    if key in GIVEN:
        record["given"] = GIVEN[key][0]
        GIVEN[key][1](ws)
    m = re.fullmatch(r"export ([A-Za-z_][A-Za-z0-9_]*)=(.*)", text)
    if m:
        (value,) = shlex.split(m[2])
        ws.env[m[1]] = value
        return record | {"rc": 0, "stdout": "", "stderr": "", "ran": text}
    schemas = []
    for url in set(_PG_URL.findall(text)):  # the suite's server, if it names another (tests/conftest.py)
        server = os.environ.get("TWINLOOP_TEST_PG", url)
        schemas.append(f"{server}{'&' if '?' in server else '?'}schema=tl_docs_{uuid.uuid4().hex[:10]}")
        text = text.replace(url, schemas[-1])
    start = time.perf_counter()
    try:
        run = subprocess.run(["bash", "-o", "pipefail", "-c", text], cwd=ws.path, env=ws.env,
                             capture_output=True, text=True, timeout=300)
    finally:
        for url in schemas:
            from twinloop.store import PostgresStore

            with contextlib.suppress(Exception):  # the command may have failed before making it
                pg = PostgresStore(url)
                pg.drop_schema()
                pg.close()
    return record | {"rc": run.returncode, "stdout": run.stdout, "stderr": run.stderr, "ran": text,
                     "seconds": round(time.perf_counter() - start, 2)}


def _folder(group: tuple[str, int]) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{group[0]}_{group[1]}")


def _advance(root: Path, group: tuple[str, int], upto: int, wait: bool) -> dict[str, Any] | None:
    """Run the commands of `group` up to index `upto` (those not run yet), in its folder.

    Returns the group's journal (env and one record per command run), or None if
    another worker holds the folder and not `wait`.
    """
    name = _folder(group)
    path, journal = root / name, root / f"{name}.json"
    with _locked(root / f"{name}.lock", wait) as held:
        if not held:
            return None
        if journal.exists():
            state: dict[str, Any] = json.loads(journal.read_text())
        else:
            _lay_out(path)
            env = {k: v for k, v in os.environ.items() if not k.startswith("TWINLOOP_")}
            env.update(PATH=f"{_bin_dir(path / '.bin')}{os.pathsep}{env.get('PATH', '')}", MPLBACKEND="Agg",
                       TWINLOOP_STORE=str(path / "store.duckdb"))
            state = {"env": env, "records": []}
        ws, commands = Workspace(path, state["env"]), GROUPS[group]
        while len(state["records"]) <= min(upto, len(commands) - 1):
            state["records"].append(_run_one(commands[len(state["records"])], ws))
            journal.with_suffix(".tmp").write_text(json.dumps(state))
            journal.with_suffix(".tmp").replace(journal)  # whole, for workers reading it unlocked
        return state


def shell_result(root: Path, command: Command, wanted: set[tuple[str, int]]) -> tuple[dict[str, Any], Path]:
    """The record of `command`, run with the commands before it in its folder, once per run.

    The folder may be busy in another xdist worker; meanwhile this one runs the next
    command of another folder `wanted` by the selected tests (longest first), so that
    neither worker idles.
    """
    group = _group_of(command)
    index = GROUPS[group].index(command)
    while (state := _advance(root, group, index, wait=False)) is None:
        for other in sorted(wanted - {group} - _FAILED, key=lambda g: -len(GROUPS[g])):
            journal = root / f"{_folder(other)}.json"
            done = len(json.loads(journal.read_text())["records"]) if journal.exists() else 0
            if done == len(GROUPS[other]):
                continue
            try:
                if _advance(root, other, done, wait=False) is not None:
                    break
            except Exception:  # a set-up that fails: its own test reports it
                _FAILED.add(other)
        else:  # nothing else to do: wait for the folder
            state = _advance(root, group, index, wait=True)
            assert state is not None
            break
    return {**state["records"][index], "before": state["records"][:index]}, root / _folder(group)


_FAILED: set[tuple[str, int]] = set()  # folders whose set-up failed when run ahead here


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder shared by the xdist workers of this run (the run's own when not distributed)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "docs-examples"
    root.mkdir(exist_ok=True)
    return root


@pytest.fixture(scope="session")
def wanted(request: pytest.FixtureRequest) -> set[tuple[str, int]]:
    """The folders of the shell examples this run selected."""
    return {_group_of(item.callspec.params["command"]) for item in request.session.items  # type: ignore[arg-type]
            if isinstance(item, pytest.Function) and item.originalname == "test_shell_example"}


def _marks(group: object) -> list[pytest.MarkDecorator]:
    return [pytest.mark.xdist_group(re.sub(r"\W+", "_", f"docs_{group}"))]


@pytest.mark.parametrize(
    "command", [pytest.param(c, id=c.id, marks=_marks(_group_of(c))) for c in INTERLEAVED])
def test_shell_example(command: Command, shared_root: Path, wanted: set[tuple[str, int]]) -> None:
    record, path = shell_result(shared_root, command, wanted)
    before = record["before"]
    if "skipped" in record:
        pytest.skip(f"not run: {record['skipped']}")
    failed_before = [f"{command.doc}:{r['line']} {r['command']} (status {r['rc']})"
                     for r in before if r.get("rc", 0) != 0]
    context = (f"ran `{record['ran']}` in {path}\n" + (f"given: {record['given']}\n" if "given" in record else "")
               + (f"earlier commands failed: {failed_before}\n" if failed_before else "")
               + f"--- stdout\n{record['stdout']}--- stderr\n{record['stderr']}")
    assert record["rc"] == 0, context
    assert "Traceback" not in record["stderr"], context
    if command.expected:
        shown = [line for line in command.expected if line.strip()]
        got = [line for line in record["stdout"].splitlines() if line.strip()]
        assert len(got) == len(shown) and all(
            output_pattern(want).fullmatch(line.rstrip()) for want, line in zip(shown, got, strict=True)
        ), "the docs show (numbers aside)\n" + "\n".join(shown) + "\n" + context
    key = (command.doc, command.text)
    if key in EXPECT:
        what, check = EXPECT[key]
        assert check(record["stdout"], path), f"expected {what}\n{context}"


# ---- python -----------------------------------------------------------------------------------
def _calibration_trips() -> list[pd.DataFrame]:
    """Trips as calibrate_from_trips reads them: the simulator's ID.3 (550 W auxiliaries) on three cycles."""
    from twinloop.cycles import load_cycle
    from twinloop.parameters import load_bundled
    from twinloop.sim import Scenario, simulate

    spec = load_bundled("vw_id3_pro_2020").with_changes(auxiliary_power=550.0)
    columns = ["time", "vehicle_speed", "battery_current", "battery_voltage"]
    return [simulate(spec, Scenario(load_cycle(name), hvac="off"), record=True).series_frame()[columns]
            .assign(ambient_temperature=293.15) for name in ("udds", "hwfet", "us06")]


def _trip_features() -> dict[str, Any]:
    """X, y of the Model 3's trips (5-min pieces of bundled cycles), new ones, and a fitted challenger."""
    from twinloop.learn import HybridConsumptionRegressor, simulated_trips
    from twinloop.parameters import resolve_vehicle

    car = resolve_vehicle(TESLA)
    X, y = simulated_trips(car, ["udds", "hwfet", "us06", "wltc_3b"], [283.15, 298.15], segment_duration=300)
    X_new, y_new = simulated_trips(car, ["nrel13", "wltc_3a"], [288.15], segment_duration=300)
    model = HybridConsumptionRegressor.from_spec(car).fit(X, y)
    return {"X": X, "y": y, "X_new": X_new, "y_new": y_new, "model": model}


def _fleet_store() -> dict[str, Any]:
    from twinloop.ingest import Ingester
    from twinloop.store import DuckDBStore

    telemetry_parquet(Path("drives.parquet"), LEAF, 2, 0, "2024-05-01T06:00Z")
    with DuckDBStore("fleet.duckdb") as store:
        report = Ingester(store).ingest(Path("drives.parquet"), VIN)
    assert report.problem is None, report.problem
    return {}


def _my_car() -> dict[str, Any]:
    write_vehicle(Path("my_car.toml"))
    return {}


# (doc, text in the block) -> (the names or files it takes from the user, how the test makes them).
# Run in the block's folder just before it; the names go into the file's namespace.
PY_GIVEN: dict[tuple[str, str], tuple[tuple[str, ...], Callable[[], dict[str, Any]]]] = {
    ("docs/calibration.md", "calibrate_from_trips(trips, prior)"): (("trips",), lambda: {"trips": _calibration_trips()}),
    ("docs/twins.md", "calibrate(twin, X, y)"): (("X", "y", "model", "X_new", "y_new"), _trip_features),
    ("docs/vehicle-spec.md", 'load_vehicle("my_car.toml")'): (("my_car.toml",), _my_car),
    ("docs/profiles.md", 'open_store("fleet.duckdb")'): (("fleet.duckdb",), _fleet_store),
}


@dataclass
class _PythonFile:
    path: Path
    namespace: dict[str, Any] = field(default_factory=lambda: {"__name__": "__docs__"})
    errors: list[BaseException | None] = field(default_factory=list)


_PYTHON: dict[str, _PythonFile] = {}


def _run_python(block: Block, state: _PythonFile) -> None:
    for (doc, text), (_, make) in PY_GIVEN.items():
        if doc == block.doc and text in block.text:
            with contextlib.chdir(state.path):
                state.namespace.update(make())
    # blank lines first, so that tracebacks give the line in the doc
    code = compile("\n" * block.line + block.text, str(ROOT / block.doc), "exec")
    with contextlib.chdir(state.path):
        exec(code, state.namespace)


@pytest.mark.parametrize("block", [
    pytest.param(b, id=f"{b.doc}:{b.line} python", marks=_marks(f"py_{b.doc}")) for b in PYTHON_BLOCKS])
def test_python_example(block: Block, tmp_path_factory: pytest.TempPathFactory) -> None:
    blocks = [b for b in PYTHON_BLOCKS if b.doc == block.doc]
    state = _PYTHON.get(block.doc)
    if state is None:
        state = _PYTHON[block.doc] = _PythonFile(tmp_path_factory.mktemp("python"))
    while len(state.errors) <= blocks.index(block):
        earlier = blocks[len(state.errors)]
        try:
            _run_python(earlier, state)
            state.errors.append(None)
        except Exception as exc:
            state.errors.append(exc)
    failed = [f"{b.doc}:{b.line}" for b, e in zip(blocks, state.errors, strict=False) if e is not None and b != block]
    error = state.errors[blocks.index(block)]
    if error is not None:
        raise AssertionError(f"{block.doc}:{block.line} raised (run in {state.path}"
                             + (f"; earlier blocks failed: {failed}" if failed else "") + ")") from error


# ---- toml and plain blocks --------------------------------------------------------------------
@pytest.mark.parametrize("block", [pytest.param(b, id=f"{b.doc}:{b.line} toml") for b in TOML_BLOCKS])
def test_toml_example_is_a_valid_vehicle(block: Block) -> None:
    from twinloop.parameters import load_vehicle

    assert load_vehicle(block.text).test_mass > 0


def _synopses() -> list[tuple[Block, int, str]]:
    found = []
    for block in PLAIN_BLOCKS:
        lines = list(block.lines)
        for k, line in enumerate(lines):
            if line.startswith("twinloop "):
                text, j = line, k
                while text.rstrip().endswith("\\") and j + 1 < len(lines):
                    j += 1
                    text = text.rstrip()[:-1] + " " + lines[j].strip()
                found.append((block, block.line + 1 + k, text))
    return found


@pytest.mark.parametrize(("block", "line", "text"), [
    pytest.param(b, n, t, id=f"{b.doc}:{n} {t[:60]}") for b, n, t in _synopses()])
def test_synopsis_names_real_options(block: Block, line: int, text: str) -> None:
    """A ``twinloop ...`` line of a plain block (a synopsis): its command and every option exist."""
    import click

    from twinloop.cli import main

    words = text.split()[1:]
    command: click.Command = main
    path = ["twinloop"]
    while isinstance(command, click.Group) and words and words[0] in command.commands:
        path.append(words[0])
        command = command.commands[words.pop(0)]
    assert not isinstance(command, click.Group), f"{block.doc}:{line}: `{' '.join(path)}` has no command {words[:1]}"
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    used = {w.strip("[]|").split("=")[0] for w in words if w.lstrip("[").startswith("-")}
    assert used <= options, f"{block.doc}:{line}: `{' '.join(path)}` has no option {sorted(used - options)}"


# message shown in docs/vehicle-spec.md -> how a file my_car.toml that gives it is made from the Leaf's
SPEC_ERRORS: dict[str, Callable[[str], str]] = {
    "mass.test_mass_kg in my_car.toml:": lambda t: t.replace("test_mass_kg = 1727.0", "test_mass_kg = -1500"),
    "mass.test_mas_kg in my_car.toml:": lambda t: t.replace("test_mass_kg", "test_mas_kg"),
    "line 7 in my_car.toml:": lambda t: "# my car\n" * 3 + t.replace("[mass]", "[mass"),
}


def test_vehicle_spec_error_messages_are_the_real_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twinloop.errors import SpecificationError
    from twinloop.parameters import load_vehicle

    (block,) = [b for b in PLAIN_BLOCKS if b.doc == "docs/vehicle-spec.md" and "received" in b.text]
    shown = [line for line in block.lines if line.strip()]
    assert sorted(p for p in SPEC_ERRORS if any(s.startswith(p) for s in shown)) == sorted(SPEC_ERRORS)
    monkeypatch.chdir(tmp_path)
    write_vehicle(tmp_path / "leaf.toml")
    leaf = (tmp_path / "leaf.toml").read_text()
    for message in shown:
        (make,) = [m for p, m in SPEC_ERRORS.items() if message.startswith(p)]
        Path("my_car.toml").write_text(make(leaf))
        with pytest.raises(SpecificationError) as info:
            load_vehicle("my_car.toml")
        assert str(info.value) == message


# ---- the tables -------------------------------------------------------------------------------
def test_every_block_has_a_rule() -> None:
    known = SHELL | {"python", "toml", "", "text"}
    unknown = [f"{b.doc}:{b.line} ```{b.lang}" for doc in DOCS for b in BLOCKS[doc] if b.lang not in known]
    assert not unknown, f"no rule runs these blocks; teach tests/docs/test_docs_examples.py: {unknown}"
    assert len(COMMANDS) > 40 and len(PYTHON_BLOCKS) >= 6  # the parser still finds the examples


def test_tables_name_examples_in_the_docs() -> None:
    """Every skip, substitute, given and check names a command still in the docs (no stale entries)."""
    commands = {(c.doc, c.text) for c in COMMANDS}
    firsts = {(b.doc, shell_commands(b)[0].text) for b in SHELL_BLOCKS if shell_commands(b)}
    tables = (("SKIP", SKIP), ("SAME_AS", SAME_AS), ("SUBSTITUTE", SUBSTITUTE), ("GIVEN", GIVEN), ("EXPECT", EXPECT))
    for name, table in tables:
        stale = sorted(set(table) - commands)
        assert not stale, f"{name} names commands no longer in the docs: {stale}"
    for (doc, text), other in SAME_AS.items():
        (mine,) = [c for c in COMMANDS if (c.doc, c.text) == (doc, text)]
        group = [c.text for c in GROUPS[_group_of(mine)]]
        before = iter(c.text for c in COMMANDS if c.doc == other)  # a subsequence of it, in order:
        assert all(t in before for t in group[: group.index(text) + 1]), (
            f"SAME_AS: {other} no longer runs {text!r} after the commands {doc} runs before it")
    earlier = {(doc, first) for (doc, _), (first, _) in CONTINUES.items()}
    assert not (set(CONTINUES) | earlier) - firsts, f"CONTINUES names no block's first command: {(set(CONTINUES) | earlier) - firsts}"
    dead = sorted((set(GIVEN) | set(EXPECT) | set(SUBSTITUTE)) & (set(SKIP) | set(SAME_AS)))
    assert not dead, f"GIVEN, EXPECT or SUBSTITUTE entries for commands that are not run: {dead}"
    for (doc, text), (names, _) in PY_GIVEN.items():
        blocks = [b for b in PYTHON_BLOCKS if b.doc == doc and text in b.text]
        assert blocks, f"PY_GIVEN: no python block of {doc} contains {text!r}"
        assert all(n in blocks[0].text for n in names), f"PY_GIVEN: {doc} no longer uses {names}"
    run = [c for c in COMMANDS if (c.doc, c.text) not in SKIP]
    unrun = sorted({c.text.split()[0] for c in run} - {"twinloop", "python", "export"})
    assert not unrun, f"commands other than twinloop, python and export need a SKIP reason: {unrun}"
    heavy = [c.id for c in run if (c.doc, c.text) not in SUBSTITUTE
             and (c.text.startswith("python benchmarks/") or "shared/data" in c.text or "--data" in c.text)]
    assert not heavy, f"benchmarks and the large data sets take minutes: give a SKIP reason or a SUBSTITUTE: {heavy}"
