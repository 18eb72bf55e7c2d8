"""The plausibility checks name fields (`flip_current`, `capacity`), never the command line's flags."""

import re
from pathlib import Path

import numpy as np
import pytest

import twinloop.battery
from twinloop.battery import TimeSeries
from twinloop.battery.checks import check_charge_direction, check_current_scale, check_time_scale
from twinloop.errors import DataError

PACKAGE = Path(twinloop.battery.__file__).parent
FLAGS = re.compile(r"--(flip-current|capacity-ah|soc-start|soc-std|cycle-column|capacity-column|threshold-ah|"
                   r"temperature-c|ambient-c|voltage-noise-mv|horizon|level|rc-pairs|thermal)\b")


@pytest.mark.parametrize("module", sorted(p.name for p in PACKAGE.glob("*.py")))
def test_the_library_names_no_command_line_flag(module):
    # the command line maps fields to its options (cli/_errors.py); a flag in the library would reach
    # a Python caller, or the service, who has no such option
    hits = [f"{module}:{n}: {line.strip()}" for n, line in enumerate((PACKAGE / module).read_text().splitlines(), 1)
            if FLAGS.search(line)]
    assert not hits, "\n".join(hits)


def test_a_current_too_high_for_a_given_capacity_names_the_capacity_field():
    t = np.arange(3.0)
    with pytest.raises(DataError, match=r"2000 C for this 1 Ah cell; .*, or `capacity` is too small"):
        check_current_scale(3600.0, TimeSeries(t, [0.0, 2000.0, 0.0], [3.7, 3.6, 3.7]), "capacity")


def test_the_charge_direction_check_needs_enough_samples_at_one_current_and_charge():
    t = np.arange(0.0, 3600.0, 60.0)
    falling = 4.1 - t / 7200
    # too little charge against the capacity to say anything
    check_charge_direction(TimeSeries(t, -np.ones(t.size), falling), 3600.0 * 100)
    # no voltage, no check
    check_charge_direction(TimeSeries(t, -np.ones(t.size)), 3600.0)
    with pytest.raises(DataError, match=r"voltage_v falls by .* charges the cell by 0.983 Ah .* pass `flip_current`"):
        check_charge_direction(TimeSeries(t, -np.ones(t.size), falling), 3600.0)


def test_a_profile_may_ask_for_more_charge_than_the_cell_holds_but_not_a_thousand_times_more():
    t = np.arange(0.0, 3 * 3600.0, 10.0)  # 3 h at 1 C: three capacities, a run that stops at the cut-off
    check_time_scale(TimeSeries(t, np.ones(t.size)), 3600.0, max_swing=20.0)
    with pytest.raises(DataError, match="time_s looks like milliseconds"):
        check_time_scale(TimeSeries(t, np.ones(t.size)), 3600.0)  # a measured record cannot
