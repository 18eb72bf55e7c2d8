"""The twin apps: what a twin is for (range, energy, profiles, health, design).

Each app composes a twin, the simulator and the store into one typed result
(numbers with units and intervals, the inputs it used, the model version);
no printing and no file I/O inside. The command line and the service are
thin adapters over them.

Modules:

- :mod:`~twinloop.apps.range_forecast`: trip energy, end state of charge and
  range of a drive, with an interval calibrated on the twin's own trips;
  :mod:`~twinloop.apps.route` turns route segments into a speed trace in the
  driver's style.
- :mod:`~twinloop.apps.energy`: where a trip's energy went, and what the
  driver could have saved (each saving re-simulated).
- :mod:`~twinloop.apps.profiles` (driving metrics of a trip or cycle) and the
  profile database: :mod:`~twinloop.apps.profile_store` (per trip),
  :mod:`~twinloop.apps.profile_drivers`, :mod:`~twinloop.apps.profile_roads`
  and :mod:`~twinloop.apps.profile_stretches` (per driver and road stretch),
  :mod:`~twinloop.apps.profile_styles` (driving-style clusters),
  :mod:`~twinloop.apps.profile_database` (builds them all).
- :mod:`~twinloop.apps.health`: battery health trend, remaining life and alerts.
- :mod:`~twinloop.apps.design`: battery, motor and gear ratio for a fleet's usage.

The database functions load on first use: `twinloop profile metrics` must
not pay for pandas and the store drivers.
"""

from __future__ import annotations

from twinloop._internal.lazy import lazy_exports

# public name -> the module that defines it
_EXPORTS = {
    "METRIC_NAMES": "twinloop.apps.profiles",
    "TripMetrics": "twinloop.apps.profiles",
    "cycle_metrics": "twinloop.apps.profiles",
    "metrics_frame": "twinloop.apps.profiles",
    "trip_metrics": "twinloop.apps.profiles",
    "PROFILE_SCHEMA": "twinloop.apps.profile_store",
    "ProfileBuild": "twinloop.apps.profile_store",
    "build_trip_profiles": "twinloop.apps.profile_store",
    "trip_profiles": "twinloop.apps.profile_store",
    "assign_driver": "twinloop.apps.profile_store",
    "ProfileDatabaseBuild": "twinloop.apps.profile_database",
    "build_profiles": "twinloop.apps.profile_database",
    "driver_profiles": "twinloop.apps.profile_drivers",
    "pool_trips": "twinloop.apps.profile_drivers",
    "road_profiles": "twinloop.apps.profile_roads",
    "stretch_tallies": "twinloop.apps.profile_stretches",
    "DrivingStyleClusterer": "twinloop.apps.profile_styles",
    "style_profiles": "twinloop.apps.profile_styles",
    "DrivingStyle": "twinloop.apps.route",
    "Route": "twinloop.apps.route",
    "default_style": "twinloop.apps.route",
    "driving_style": "twinloop.apps.route",
    "load_route": "twinloop.apps.route",
    "route_from_trace": "twinloop.apps.route",
    "synthesise_trace": "twinloop.apps.route",
    "Interval": "twinloop.apps.range_forecast",
    "RangeForecast": "twinloop.apps.range_forecast",
    "TwinHistory": "twinloop.apps.range_forecast",
    "conformal_quantiles": "twinloop.apps.range_forecast",
    "forecast_range": "twinloop.apps.range_forecast",
    "hvac_energy": "twinloop.apps.range_forecast",
    "twin_history": "twinloop.apps.range_forecast",
    "BREAKDOWN_LINES": "twinloop.apps.energy",
    "EnergyDrive": "twinloop.apps.energy",
    "WHAT_IF_NAMES": "twinloop.apps.energy",
    "EnergyBreakdown": "twinloop.apps.energy",
    "EnergyReport": "twinloop.apps.energy",
    "ModelCalibration": "twinloop.apps.energy",
    "WhatIf": "twinloop.apps.energy",
    "WhatIfOptions": "twinloop.apps.energy",
    "WhatIfs": "twinloop.apps.energy",
    "calibrated_spec": "twinloop.apps.energy",
    "energy_breakdown": "twinloop.apps.energy",
    "energy_report": "twinloop.apps.energy",
    "stored_trip_drive": "twinloop.apps.energy",
    "twin_energy_report": "twinloop.apps.energy",
    "what_ifs": "twinloop.apps.energy",
    "DesignProblem": "twinloop.apps.design",
    "DesignResult": "twinloop.apps.design",
    "FleetDays": "twinloop.apps.design",
    "OBJECTIVES": "twinloop.apps.design",
    "design_vehicle": "twinloop.apps.design",
    "driven_day": "twinloop.apps.design",
    "evaluate_designs": "twinloop.apps.design",
    "optimise_design": "twinloop.apps.design",
    "read_days": "twinloop.apps.design",
    "ALERT_KINDS": "twinloop.apps.health",
    "EXPECTED_FADE": "twinloop.apps.health",
    "FadeExpectation": "twinloop.apps.health",
    "HealthAlert": "twinloop.apps.health",
    "HealthReport": "twinloop.apps.health",
    "HealthThresholds": "twinloop.apps.health",
    "RemainingLife": "twinloop.apps.health",
    "ResistanceTrend": "twinloop.apps.health",
    "SohPoint": "twinloop.apps.health",
    "TemperatureCheck": "twinloop.apps.health",
    "monitor_health": "twinloop.apps.health",
    "write_alerts": "twinloop.apps.health",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
