"""The benchmarks use twinloop's public API only.

A benchmark is what a user could have written: a figure it reaches through a
private module or name (``twinloop.sim._layout``, ``_writable``) is one no
user can reproduce, and it breaks silently when the private part changes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))
# Still private, with the reason; strict, so the mark must go once the import does.
KNOWN: dict[str, str] = {}


def private_imports(source: str, filename: str = "<benchmark>") -> list[str]:
    """Every ``import`` of a twinloop module or name with a leading underscore, as ``line: what``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            modules = [(alias.name, alias.name.split(".")) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            parts = node.module.split(".")
            modules = [(f"{node.module}.{alias.name}", [*parts, alias.name]) for alias in node.names]
        else:
            continue
        for dotted, parts in modules:
            if parts[0] == "twinloop" and any(p.startswith("_") for p in parts[1:]):
                found.append(f"{node.lineno}: {dotted}")
    return found


def test_there_are_benchmarks_to_check() -> None:
    assert len(SCRIPTS) >= 10, SCRIPTS


@pytest.mark.parametrize("script", [
    pytest.param(s, marks=pytest.mark.xfail(reason=KNOWN[s.name], strict=True)) if s.name in KNOWN else s
    for s in SCRIPTS
], ids=[s.name for s in SCRIPTS])
def test_benchmark_imports_no_private_twinloop_name(script: Path) -> None:
    assert private_imports(script.read_text(), str(script)) == []


@pytest.mark.parametrize(("source", "expected"), [
    ("from twinloop.sim._layout import P", ["1: twinloop.sim._layout.P"]),
    ("from twinloop.cli._paths import PLOT_FORMATS", ["1: twinloop.cli._paths.PLOT_FORMATS"]),
    ("from twinloop.calibrate import FORMS, _model", ["1: twinloop.calibrate._model"]),
    ("import twinloop._internal.numbers as n", ["1: twinloop._internal.numbers"]),
    ("def f():\n    from twinloop.cli._paths import _writable", ["2: twinloop.cli._paths._writable"]),
    ("from twinloop.sim import PARAMETER_NAMES, Scenario", []),
    ("import twinloop.sim", []),
    ("from _common import output_path", []),  # the benchmarks' own helpers are not twinloop's
    ("from numpy import _globals", []),
])
def test_private_imports_are_found_wherever_they_are(source: str, expected: list[str]) -> None:
    assert private_imports(source) == expected
