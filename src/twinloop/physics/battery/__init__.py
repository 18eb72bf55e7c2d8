"""Battery physics: open-circuit voltage, equivalent circuit, lumped thermal model."""

from twinloop.physics.battery import ecm, ocv, thermal

__all__ = ["ecm", "ocv", "thermal"]
