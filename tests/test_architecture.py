"""The layering the import contract cannot see: nobody outside ``store/`` reaches into a store.

``lint-imports`` (pyproject.toml, run by ``make test``) checks which package
imports which, and that only the store imports a database driver. What it
cannot check is an attribute: ``store._fetchall(...)`` needs no import. The
twin once ran raw SQL that way; this test keeps it from coming back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "twinloop"
OUTSIDE_THE_STORE = sorted(p for p in PACKAGE.rglob("*.py") if PACKAGE / "store" not in p.parents)
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))


def _store_privates(path: Path) -> list[str]:
    """``<something>store._name`` accesses in `path`, as ``line: expression``."""
    hits = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
            continue
        owner = node.value
        name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else ""
        if name.lower().endswith("store"):
            hits.append(f"{node.lineno}: {ast.unparse(node)}")
    return hits


@pytest.mark.parametrize("path", [*OUTSIDE_THE_STORE, *BENCHMARKS], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_outside_the_store_touches_a_store_private_member(path):
    assert _store_privates(path) == []


def test_the_check_finds_what_it_is_for(tmp_path):
    """The scan itself: the twin's old raw SQL would be caught."""
    old = tmp_path / "old.py"
    old.write_text("def f(twin):\n    return twin.store._fetchall('SELECT 1')\n", encoding="utf-8")
    assert _store_privates(old) == ["2: twin.store._fetchall"]


def test_every_layer_of_the_architecture_is_in_the_import_contract():
    """A new top-level package must be placed in a layer of the contract, or it is unchecked."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    top = {f"twinloop.{p.stem if p.is_file() else p.name}" for p in PACKAGE.iterdir()
           if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert top - placed == set(), "place these in a layer of [tool.importlinter] in pyproject.toml"
