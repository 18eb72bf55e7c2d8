"""Pure, vectorised physics: one module per physical domain.

Every function takes scalars or arrays (a leading vehicle axis is the
convention) and returns the same shape. Functions use only NumPy ufuncs and
arithmetic, so that :mod:`twinloop.sim` compiles the very same code with numba
for its time-stepping kernel.
"""

from twinloop.conventions import STANDARD_GRAVITY  # re-exported [m s-2]
from twinloop.physics import battery, cabin, charging, drivetrain, performance, road_load, tyres

__all__ = ["STANDARD_GRAVITY", "battery", "cabin", "charging", "drivetrain", "performance", "road_load",
           "tyres"]
