"""What the operating system refuses ends in one line, never a traceback: names too long, files as folders, a full disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from twinloop.cli import main

LONG = "A" * 300  # one path component over the 255 characters Linux allows


@pytest.mark.parametrize("args", [
    ["simulate", "-v", LONG, "-c", "udds"],
    ["simulate", "-v", "nissan_leaf_40kwh_2018", "-c", LONG],
    ["simulate", "-v", "nissan_leaf_40kwh_2018", "-c", "udds", "--plot", f"{LONG}.png"],
    ["vehicle", "show", LONG],
    ["twin", "create", "zz", "--vehicle", LONG, "--store", "x.duckdb"],
    ["twin", "show", "x", "--store", f"{LONG}.duckdb"],
    ["battery", "identify", f"{LONG}.csv"],
], ids=["vehicle", "cycle", "plot", "vehicle-show", "twin-create", "store", "battery"])
def test_a_path_name_too_long_is_one_line_not_a_traceback(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert "too long" in r.output and LONG not in r.output  # the name is cut


def test_an_output_below_a_file_is_refused_before_the_fit(tmp_path):
    """`-o q.csv/cell.toml` with q.csv a file used to fail with NotADirectoryError after the whole fit."""
    (tmp_path / "q.csv").write_text("x\n")
    r = CliRunner().invoke(main, ["battery", "identify", "whatever.csv", "-o", str(tmp_path / "q.csv" / "cell.toml")])
    assert r.exit_code == 2 and "is a file, not a folder" in r.output and "Traceback" not in r.output


def test_a_full_disk_is_one_line():
    """Standard output on a full device (/dev/full: every write fails with ENOSPC)."""
    twinloop = Path(sys.executable).with_name("twinloop")
    with open("/dev/full", "w") as full:
        r = subprocess.run([str(twinloop), "vehicle", "show", "nissan_leaf_40kwh_2018"], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "error: cannot write the output: no space left on the device"


def test_a_closed_pipe_ends_quietly_as_before():
    """`twinloop simulate ... --format csv | head -1`: no error line for the reader that stopped reading."""
    twinloop = Path(sys.executable).with_name("twinloop")
    producer = subprocess.Popen([str(twinloop), "simulate", "-v", "nissan_leaf_40kwh_2018", "-c", "udds",
                                 "--format", "csv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert producer.stdout is not None
    producer.stdout.readline()
    producer.stdout.close()
    _, err = producer.communicate(timeout=120)
    assert b"Traceback" not in err and b"error:" not in err
