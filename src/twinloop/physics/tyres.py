r"""Tyres: how inflation pressure changes rolling resistance.

A tyre that runs below its placard pressure flexes more as it rolls, and
the hysteresis of its rubber turns more of the vehicle's energy into heat.
SAE J2452 [1]_ fits measured rolling resistance to a power of the inflation
pressure, the load and a quadratic in speed,

.. math:: F_{rr} = p^{\alpha}\, Z^{\beta}\, (a + b v + c v^2)

so at a fixed load and speed the rolling resistance scales as
:math:`p^{\alpha}`, with :math:`\alpha` about -0.4 for passenger-car tyres
(-0.3 to -0.5 over the tyres measured [2]_ [3]_).

References
----------
.. [1] SAE J2452 (1999). Stepwise Coastdown Methodology for Measuring Tire
   Rolling Resistance. SAE International. doi:10.4271/J2452_199906
.. [2] Grover, P. S. (1998). Modeling of Rolling Resistance Test Data. SAE
   Technical Paper 980251. doi:10.4271/980251
.. [3] National Research Council (2006). Tires and Passenger Vehicle Fuel
   Economy. Transportation Research Board Special Report 286, ch. 2 and
   appendix. doi:10.17226/11620
"""

from __future__ import annotations

from twinloop._internal.typing import F

__all__ = ["PRESSURE_EXPONENT", "rolling_resistance_pressure_factor"]

PRESSURE_EXPONENT = -0.4
"""Exponent :math:`\\alpha` [1] of the inflation pressure in the SAE J2452 rolling-resistance model.

A typical passenger-car value; the tyres measured for SAE J2452 fits range
from about -0.3 to -0.5.
"""


def rolling_resistance_pressure_factor(tyre_pressure: F, reference_pressure: F,
                                       pressure_exponent: F = PRESSURE_EXPONENT) -> F:
    r"""Rolling resistance at `tyre_pressure` over that at `reference_pressure` [1].

    Parameters
    ----------
    tyre_pressure : array_like
        Inflation pressure [Pa], > 0 (gauge pressure, as on the placard).
    reference_pressure : array_like
        Inflation pressure [Pa] the rolling resistance is known at, > 0.
    pressure_exponent : array_like, default :data:`PRESSURE_EXPONENT`
        :math:`\alpha` [1].

    Returns
    -------
    array_like
        Factor [1] on the rolling-resistance coefficient (or on the
        coast-down A and B terms, which are mostly tyre losses); above 1
        for a tyre below the reference pressure.

    Notes
    -----
    .. math:: \frac{C_{rr}(p)}{C_{rr}(p_{ref})} = \left(\frac{p}{p_{ref}}\right)^{\alpha}

    the pressure term of the SAE J2452 model [1]_ at a fixed load and speed.
    Valid over the pressures the fits span, about 50 % to 130 % of the
    placard pressure; a tyre much flatter than that is no longer rolling as
    designed.

    References
    ----------
    .. [1] SAE J2452 (1999). Stepwise Coastdown Methodology for Measuring
       Tire Rolling Resistance. doi:10.4271/J2452_199906

    Examples
    --------
    A tyre 20 % below its 250 kPa placard pressure rolls with about 9 %
    more resistance; inflating it takes 8.5 % of its rolling resistance off.

    >>> round(float(rolling_resistance_pressure_factor(200e3, 250e3)), 4)
    1.0934
    >>> round(float(rolling_resistance_pressure_factor(250e3, 200e3)), 4)
    0.9146
    """
    return (tyre_pressure / reference_pressure) ** pressure_exponent
