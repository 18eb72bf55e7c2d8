"""Standard drive cycles as data, and a loader for a user's own speed traces.

Examples
--------
>>> from twinloop.cycles import load_cycle
>>> udds = load_cycle("udds")
>>> round(udds.distance / 1000, 2), udds.duration
(11.99, 1369.0)
"""

from twinloop.cycles._cycle import (
    MAX_DURATION,
    MAX_GAP,
    Cycle,
    bundled_cycles,
    load_cycle,
    read_trace,
)
from twinloop.cycles._elevation import GRADE_WINDOW, grade_from_elevation

__all__ = ["GRADE_WINDOW", "MAX_DURATION", "MAX_GAP", "Cycle", "bundled_cycles", "grade_from_elevation",
           "load_cycle", "read_trace"]
