"""Battery physics: open-circuit voltage, equivalent circuit, lumped thermal model."""

from twinloop.physics.battery import aging, ecm, ocv, thermal

__all__ = ["aging", "ecm", "ocv", "thermal"]
