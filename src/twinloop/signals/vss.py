"""The VSS paths that several layers read by name: one home for each.

The store finds trips by :data:`IGNITION` and :data:`SPEED`, the twin builds
its trip tables, state and battery health from the rest. Every path here is
in the bundled catalog (:func:`twinloop.signals.default_catalog`), which
gives its quantity and SI unit.

Examples
--------
>>> from twinloop.signals import default_catalog
>>> default_catalog()[SPEED].si_unit
'm s-1'
"""

from __future__ import annotations

__all__ = [
    "ALTITUDE",
    "AMBIENT",
    "BATTERY_TEMPERATURE",
    "CABIN_TEMPERATURE",
    "CURRENT",
    "GRADE",
    "IGNITION",
    "LATITUDE",
    "LONGITUDE",
    "ODOMETER",
    "SOC",
    "SOH",
    "SPEED",
    "VOLTAGE",
]

#: Vehicle speed [m s-1].
SPEED = "Vehicle.Speed"
#: Key on (1) or off (0): the low-voltage system state; trips start and end with it.
IGNITION = "Vehicle.LowVoltageSystemState"
#: Traction battery current [A], positive when discharging (the store's sign).
CURRENT = "Vehicle.Powertrain.TractionBattery.CurrentCurrent"
#: Traction battery voltage [V].
VOLTAGE = "Vehicle.Powertrain.TractionBattery.CurrentVoltage"
#: Ambient air temperature [K].
AMBIENT = "Vehicle.Exterior.AirTemperature"
#: Altitude [m] of the GNSS antenna above the WGS 84 ellipsoid.
ALTITUDE = "Vehicle.CurrentLocation.Altitude"
#: Latitude [deg] of the GNSS antenna, WGS 84.
LATITUDE = "Vehicle.CurrentLocation.Latitude"
#: Longitude [deg] of the GNSS antenna, WGS 84.
LONGITUDE = "Vehicle.CurrentLocation.Longitude"
#: Road grade [1], rise over run.
GRADE = "Vehicle.Private.Twinloop.RoadGrade"
#: Odometer [m].
ODOMETER = "Vehicle.TraveledDistance"
#: Traction battery state of charge [1].
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
#: Traction battery state of health [1].
SOH = "Vehicle.Powertrain.TractionBattery.StateOfHealth"
#: Mean cell temperature of the traction battery [K].
BATTERY_TEMPERATURE = "Vehicle.Powertrain.TractionBattery.Temperature.Average"
#: Cabin air temperature [K].
CABIN_TEMPERATURE = "Vehicle.Cabin.HVAC.AmbientAirTemperature"
