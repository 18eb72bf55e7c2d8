"""The kernel's on-disk compile cache follows the physics it inlines."""

import hashlib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

from twinloop.sim import _kernel

PROBE = """
import json, sys
from twinloop.sim import _kernel
_kernel.run_kernel._cache = type("C", (_kernel._KernelCache,), {"digest": sys.argv[1]})(_kernel.run_kernel.py_func)
from twinloop.cycles import load_cycle
from twinloop.parameters import resolve_vehicle
from twinloop.sim import Scenario, simulate
simulate(resolve_vehicle("nissan_leaf_40kwh_2018"), Scenario(load_cycle("udds")))
stats = _kernel.run_kernel.stats
print(json.dumps([sum(stats.cache_hits.values()), sum(stats.cache_misses.values())]))
"""


def test_the_cache_key_holds_a_digest_of_every_inlined_physics_module():
    expected = hashlib.sha256()
    for module in _kernel._INLINED:
        expected.update(Path(inspect.getfile(module)).read_bytes())
    assert _kernel._KernelCache.digest == expected.hexdigest()
    assert isinstance(_kernel.run_kernel._cache, _kernel._KernelCache)
    names = {m.__name__ for m in _kernel._INLINED}
    assert {"twinloop.physics.road_load", "twinloop.physics.drivetrain", "twinloop.physics.cabin"} <= names


def test_an_edit_of_the_physics_alone_recompiles_the_kernel(tmp_path):
    # numba checks only the kernel's own file: without the digest, an edited
    # physics function kept running as it was compiled before the edit
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}

    def run(digest: str) -> list[int]:
        out = subprocess.run([sys.executable, "-c", PROBE, digest], env=env, capture_output=True, text=True,
                             check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    assert run("physics as it was") == [0, 1]  # compiled and saved
    assert run("physics as it was") == [1, 0]  # loaded from the cache
    assert run("physics edited") == [0, 1]  # compiled again
