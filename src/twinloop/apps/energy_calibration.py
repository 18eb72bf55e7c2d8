r"""How a twin's champion model enters the energy app's simulation.

:func:`calibrated_spec` updates a twin's specification with what its
champion learned from measured trips (auxiliary load, road-load scale,
drivetrain efficiency) and says so in a :class:`ModelCalibration`, with the
error the champion states.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from twinloop.parameters.spec import VehicleSpec

if TYPE_CHECKING:
    from twinloop.twin.registry import ModelVersion

__all__ = ["ModelCalibration", "calibrated_spec"]


@dataclass(frozen=True)
class ModelCalibration:
    """How the twin's champion model entered the simulation, and the error it states.

    Attributes
    ----------
    calibrated : bool
        Whether the champion was calibrated on measured trips (it carries a
        residual band); False for a twin built from its specification alone,
        or for a library vehicle without a twin.
    version : int or None
        The champion's version; None without a twin.
    kind : str or None
        The champion's model family (``physics``, ``learned``, ``hybrid``).
    applied : dict of str to float
        Specification fields set from the champion's parameters (SI).
    model_error : float or None
        The champion's error per distance [J m-1]: its validation RMSE, else
        the standard deviation of its residual band; None when not calibrated.
    error_source : str or None
        ``"validation_error"`` or ``"residual_band"``.
    notes : tuple of str
        What could not be carried over, and why.
    """

    calibrated: bool
    version: int | None = None
    kind: str | None = None
    applied: dict[str, float] = field(default_factory=dict)
    model_error: float | None = None
    error_source: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every attribute by name."""
        return {"calibrated": self.calibrated, "version": self.version, "kind": self.kind,
                "applied": dict(self.applied), "model_error_j_per_m": self.model_error,
                "error_source": self.error_source, "notes": list(self.notes)}


_MOTOR_LOSSES = ("copper_loss", "iron_loss", "windage_loss", "constant_loss")


def calibrated_spec(spec: VehicleSpec, champion: ModelVersion | None) -> tuple[VehicleSpec, ModelCalibration]:
    r"""`spec` updated with what the twin's champion learned from its trips.

    A calibrated :class:`~twinloop.twin.PhysicsConsumptionModel` carries three
    parameters the simulator's specification can take:

    * ``auxiliary_power`` [W], as it is;
    * ``road_load_scale`` :math:`s`: the coast-down A, B and C times
      :math:`s` (the specification in coast-down form when :math:`s \ne 1`);
    * ``drivetrain_efficiency`` :math:`\eta`: the motor and inverter loss
      coefficients times :math:`k = (1 - \eta/\eta_g) / (1 - \eta_0/\eta_g)`,
      where :math:`\eta_g` is the gearbox efficiency and :math:`\eta_0` the
      uncalibrated model's efficiency (:math:`0.9\,\eta_g`), so that an
      efficiency equal to the prior leaves the losses as specified.

    ``regen_efficiency`` is an effective coefficient of the trip-level model
    (rotating inertia and the road load of decelerations fold into it); no
    one field of the specification matches it, and it is left out.

    Parameters
    ----------
    spec : VehicleSpec
        The twin's specification (``twin.record.spec``).
    champion : ModelVersion or None
        The twin's champion (``twin.registry.champion()``); None for a
        vehicle without a twin.

    Returns
    -------
    spec : VehicleSpec
        The specification to simulate with.
    calibration : ModelCalibration
        What was applied, whether the champion was calibrated, its error.

    Examples
    --------
    >>> from twinloop.parameters import resolve_vehicle
    >>> leaf = resolve_vehicle("nissan_leaf_40kwh_2018")
    >>> same, calibration = calibrated_spec(leaf, None)
    >>> same is leaf, calibration.calibrated
    (True, False)
    """
    if champion is None:
        return spec, ModelCalibration(False, notes=("no twin: the specification as it is",))
    calibrated = champion.residual_band is not None
    error, source = None, None
    if champion.validation_error is not None and champion.validation_error > 0:
        error, source = float(champion.validation_error), "validation_error"
    elif champion.residual_band is not None:
        error, source = float(champion.residual_band.std), "residual_band"
    base = ModelCalibration(calibrated, champion.version, champion.kind, {}, error if calibrated else None,
                            source if calibrated else None)
    if not calibrated:
        return spec, replace(base, notes=(f"champion v{champion.version} was built from the specification alone",))
    if champion.model_type != "PhysicsConsumptionModel":
        return spec, replace(base, notes=(f"champion v{champion.version} is a {champion.kind} model: its parameters"
                                          " do not map onto the simulator, the specification is used as it is",))
    from twinloop.twin.consumption import PhysicsConsumptionModel

    model = champion.model()
    prior = PhysicsConsumptionModel.from_spec(spec)
    changes: dict[str, float] = {}
    notes = ["regen_efficiency not applied: an effective coefficient of the trip model, no field of the"
             " specification matches it"]
    if not math.isclose(model.auxiliary_power, spec.auxiliary_power, rel_tol=1e-12):
        changes["auxiliary_power"] = float(model.auxiliary_power)
    scale = float(model.road_load_scale)
    if not math.isclose(scale, 1.0, rel_tol=1e-12):
        a, b, c = spec.effective_coastdown
        changes.update(coastdown_a=scale * a, coastdown_b=scale * b, coastdown_c=scale * c)
    eta, eta0, gearbox = float(model.drivetrain_efficiency), prior.drivetrain_efficiency, spec.gearbox_efficiency
    if not math.isclose(eta, eta0, rel_tol=1e-12):
        k = max(1.0 - eta / gearbox, 0.0) / (1.0 - eta0 / gearbox)
        largest = max(getattr(spec, n) for n in _MOTOR_LOSSES)
        if largest > 0 and k * largest > 0.5:
            k = 0.5 / largest
            notes.append(f"drivetrain_efficiency {eta:.3f}: motor losses capped at 0.5 of the rated power")
        if eta >= gearbox:
            notes.append(f"drivetrain_efficiency {eta:.3f} is at or above the gearbox efficiency {gearbox:.3f}:"
                         " no motor losses left")
        changes.update({n: getattr(spec, n) * k for n in _MOTOR_LOSSES})
    physical = {"drag_coefficient": None, "frontal_area": None, "rolling_resistance_coefficient": None}
    updated = spec.with_changes(**changes, **(physical if "coastdown_a" in changes else {})) if changes else spec
    return updated, replace(base, applied=changes, notes=tuple(notes))
