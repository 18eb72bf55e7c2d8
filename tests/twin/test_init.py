"""The twin package's public names, and what importing its battery tools costs."""

import subprocess
import sys

import twinloop.twin


def test_every_public_name_loads():
    for name in twinloop.twin.__all__:
        assert getattr(twinloop.twin, name) is not None, name


def test_battery_tools_do_not_load_the_store_drivers_or_scikit_learn():
    code = ("import sys, twinloop.battery; "
            "print(sorted(m for m in ('sklearn', 'duckdb', 'psycopg') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
