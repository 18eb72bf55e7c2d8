"""Cut the messages a decoder manifest maps out of a full opendbc DBC file.

    python examples/data/opendbc/excerpt.py [FULL_DBC]

Writes ``ford_lincoln_base_pt_excerpt.dbc`` next to this file from
``ford_lincoln_base_pt.dbc`` of the installed ``opendbc`` package (or
FULL_DBC). The full file is 807 kB (368 messages); the example needs five.
Every line of the excerpt is a line of the full file, in the same order,
unchanged: the file header (VERSION, NS_, BS_, BU_), the BO_ blocks of the
messages the manifest names (all their signals), the comments, attributes
and value tables of those messages and signals, the attribute definitions
and the network attributes. Nothing is edited; the rest is left out.
``tests/examples/test_make_fleet_data.py`` regenerates the excerpt and
compares it byte for byte.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = "ford_lincoln_base_pt.dbc"
EXCERPT = HERE / "ford_lincoln_base_pt_excerpt.dbc"
MANIFEST = HERE / "ford_lincoln_base_pt_manifest.toml"

# statements that belong to one message: (keyword, frame id)
_OWNED = re.compile(
    r'^(?:CM_ (?:BO_|SG_) |BA_ "[^"]*" (?:BO_|SG_) |VAL_ |BO_TX_BU_ |SIG_VALTYPE_ )(\d+)\b'
)
_KEEP_ALWAYS = re.compile(r'^(?:BA_DEF_|BA_DEF_DEF_|BA_ "[^"]*" (?!BO_ |SG_ |BU_ |EV_ ))')


def _statements(lines: list[str]) -> list[list[str]]:
    """Group lines into statements: a BO_ block with its SG_ lines, or one ;-terminated statement."""
    out: list[list[str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stmt = [line]
        if line.startswith("BO_ "):
            while i + 1 < len(lines) and lines[i + 1].lstrip().startswith("SG_ "):
                i += 1
                stmt.append(lines[i])
        elif line.strip() and not line.startswith((" ", "\t")):
            while not stmt[-1].rstrip().endswith(";") and i + 1 < len(lines):
                i += 1
                stmt.append(lines[i])
        out.append(stmt)
        i += 1
    return out


def message_ids(dbc_text: str, names: set[str]) -> set[int]:
    """Frame ids of the messages called `names` (every name must exist)."""
    found = {
        m.group(2): int(m.group(1))
        for m in re.finditer(r"^BO_ (\d+) (\w+):", dbc_text, flags=re.MULTILINE)
    }
    missing = sorted(names - set(found))
    if missing:
        raise KeyError(f"messages not in the DBC: {', '.join(missing)}")
    return {found[n] for n in names}


def excerpt(dbc_text: str, names: set[str]) -> str:
    """The lines of `dbc_text` that define the messages `names` (see the module docstring)."""
    ids = message_ids(dbc_text, names)
    lines = dbc_text.splitlines(keepends=True)
    first = next(i for i, ln in enumerate(lines) if ln.startswith(("VAL_TABLE_ ", "BO_ ")))
    kept = lines[:first]
    previous = False  # whether the statement before was kept: keeps the blank line after it
    for stmt in _statements(lines[first:]):
        head = stmt[0]
        owned = _OWNED.match(head)
        if head.startswith("BO_ "):
            keep = int(head.split()[1]) in ids
        elif owned:
            keep = int(owned.group(1)) in ids
        elif not head.strip():
            keep = previous
        else:
            keep = bool(_KEEP_ALWAYS.match(head))
        if keep:
            kept.extend(stmt)
        previous = keep and bool(head.strip())
    return "".join(kept)


def manifest_messages(manifest: Path = MANIFEST) -> set[str]:
    """DBC message names a decoder manifest maps."""
    doc = tomllib.loads(manifest.read_text(encoding="utf-8"))
    return {str(e["message"]) for e in doc["map"]}


def opendbc_file(name: str = SOURCE) -> Path:
    """`name` in the installed opendbc package's dbc folder."""
    import opendbc  # the dev extra

    return Path(opendbc.__file__).resolve().parent / "dbc" / name


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else opendbc_file()
    text = excerpt(src.read_bytes().decode("utf-8"), manifest_messages())
    EXCERPT.write_bytes(text.encode("utf-8"))
    print(f"{EXCERPT}: {len(text)} bytes from {src} ({src.stat().st_size} bytes)")
