"""The identified cell model: equivalent circuit tables per temperature, thermal lump.

Structure (OCV source, R0, RC pairs, lumped thermal mass) is fixed by
:mod:`twinloop.physics.battery`; this module holds the *values*, checks them,
interpolates them in temperature and reads and writes them as TOML (format
``twinloop.cell/1``, documented in ``docs/battery.md``).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import tomli_w

from twinloop.battery import _tables
from twinloop.errors import SpecificationError, ValidationError

__all__ = ["CellModel", "CellParameters", "CellTable", "FitQuality", "ThermalParameters"]

Array = npt.NDArray[np.float64]
FORMAT = "twinloop.cell/1"


@dataclass(frozen=True)
class FitQuality:
    """How well a parameter set reproduces the data it was fitted on.

    Attributes
    ----------
    source : str
        The data (file name) it was fitted on.
    rmse : float
        Root-mean-square voltage error [V] (kelvin for thermal fits).
    max_error : float
        Largest absolute error [V] (kelvin for thermal fits).
    samples : int
        Number of samples fitted.
    """

    source: str
    rmse: float
    max_error: float
    samples: int


@dataclass(frozen=True)
class CellTable:
    """Equivalent-circuit parameters identified at one temperature.

    Attributes
    ----------
    temperature : float
        Test temperature [K].
    open_circuit_voltage : ndarray, shape (k,)
        OCV [V] on the uniform SoC grid ``0 .. 1``.
    ohmic_resistance : ndarray, shape (m,)
        R0 [ohm] on a uniform SoC grid.
    rc_resistance : ndarray, shape (n_rc, m)
        RC-pair resistances [ohm] on a uniform SoC grid.
    rc_time_constant : ndarray, shape (n_rc,)
        RC-pair time constants ``R C`` [s].
    capacity : float
        Charge from full to the cut-off in this test [A s].
    fit : FitQuality or None
        Fit quality on the test data.
    """

    temperature: float
    open_circuit_voltage: Array
    ohmic_resistance: Array
    rc_resistance: Array
    rc_time_constant: Array
    capacity: float
    fit: FitQuality | None = None

    def __post_init__(self) -> None:
        where = f"table at {self.temperature - 273.15:g} degC"
        ocv = np.asarray(self.open_circuit_voltage, dtype=float)
        r0 = np.asarray(self.ohmic_resistance, dtype=float)
        rrc = np.atleast_2d(np.asarray(self.rc_resistance, dtype=float))
        tau = np.atleast_1d(np.asarray(self.rc_time_constant, dtype=float))
        if not 173.15 <= self.temperature <= 373.15:
            raise ValidationError("temperature", "a temperature in [-100, 100] degC", self.temperature - 273.15, where)
        if ocv.ndim != 1 or ocv.size < 2 or not np.all(np.isfinite(ocv)) or np.any(ocv <= 0):
            raise ValidationError("open_circuit_voltage", "at least 2 positive values", ocv.tolist(), where)
        if r0.ndim != 1 or r0.size < 2 or np.any(~np.isfinite(r0)) or np.any(r0 < 0):
            raise ValidationError("ohmic_resistance", "at least 2 values >= 0 ohm", r0.tolist(), where)
        if rrc.ndim != 2 or rrc.shape[0] != tau.size or (rrc.size and rrc.shape[1] < 2):
            raise ValidationError(
                "rc_resistance", f"one row of >= 2 values per time constant ({tau.size})", rrc.tolist(), where
            )
        if np.any(~np.isfinite(rrc)) or np.any(rrc < 0):
            raise ValidationError("rc_resistance", "values >= 0 ohm", rrc.tolist(), where)
        if np.any(~np.isfinite(tau)) or np.any(tau <= 0):
            raise ValidationError("rc_time_constant", "values > 0 s", tau.tolist(), where)
        if not self.capacity > 0:
            raise ValidationError("capacity", "> 0 A s", self.capacity, where)
        object.__setattr__(self, "open_circuit_voltage", ocv)
        object.__setattr__(self, "ohmic_resistance", r0)
        object.__setattr__(self, "rc_resistance", rrc.reshape(tau.size, -1) if tau.size else np.zeros((0, 2)))
        object.__setattr__(self, "rc_time_constant", tau)

    def __eq__(self, other: object) -> bool:
        """Equal when every value is (the tables are arrays, compared element by element)."""
        if not isinstance(other, CellTable):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, f), getattr(other, f))
            for f in ("temperature", "open_circuit_voltage", "ohmic_resistance", "rc_resistance", "rc_time_constant",
                      "capacity")
        ) and self.fit == other.fit


@dataclass(frozen=True)
class ThermalParameters:
    """Lumped thermal model of the cell.

    Attributes
    ----------
    heat_capacity : float
        [J K-1].
    heat_transfer_coefficient : float
        h A to ambient [W K-1].
    fit : FitQuality or None
        Temperature fit [K] on the data named in ``fit.source``.
    """

    heat_capacity: float
    heat_transfer_coefficient: float
    fit: FitQuality | None = None

    def __post_init__(self) -> None:
        if not 1.0 <= self.heat_capacity <= 1e8:
            raise ValidationError("thermal.heat_capacity", "a number in [1, 1e8] J K-1", self.heat_capacity)
        if not 0.0 <= self.heat_transfer_coefficient <= 1e5:
            raise ValidationError(
                "thermal.heat_transfer_coefficient", "a number in [0, 1e5] W K-1", self.heat_transfer_coefficient
            )


@dataclass(frozen=True)
class CellParameters:
    """Parameters interpolated at given temperatures, one row per cell.

    Attributes
    ----------
    open_circuit_voltage : ndarray, shape (n, k)
    ohmic_resistance : ndarray, shape (n, m)
    rc_resistance : ndarray, shape (n, n_rc, m)
    rc_time_constant : ndarray, shape (n, n_rc)
    entropic_coefficient_table : ndarray, shape (n, k)
        dOCV/dT [V K-1] on the SoC grid (zero with one table).
    """

    open_circuit_voltage: Array
    ohmic_resistance: Array
    rc_resistance: Array
    rc_time_constant: Array
    entropic_coefficient_table: Array


@dataclass(frozen=True)
class CellModel:
    """An equivalent-circuit cell model with its provenance.

    Attributes
    ----------
    capacity : float
        Charge capacity [A s] used for SoC.
    tables : tuple of CellTable
        Parameters per test temperature, sorted by temperature; all with the
        same table sizes and number of RC pairs.
    voltage_min, voltage_max : float
        Cut-off voltages [V].
    thermal : ThermalParameters or None
        Lumped thermal model; without it temperature stays at ambient.
    name : str
    provenance : dict of str
        Free-form: data files, software, method, date.

    Examples
    --------
    >>> t = CellTable(298.15, [3.0, 4.0], [0.01, 0.01], [[0.005, 0.005]], [30.0], 3600.0)
    >>> cell = CellModel(3600.0, (t,), 2.5, 4.2)
    >>> CellModel.from_toml(cell.to_toml()).capacity
    3600.0
    """

    capacity: float
    tables: tuple[CellTable, ...]
    voltage_min: float
    voltage_max: float
    thermal: ThermalParameters | None = None
    name: str = "cell"
    provenance: dict[str, str] = field(default_factory=dict)
    diffusion_shift: float = 0.0
    diffusion_time_constant: float = 1000.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.diffusion_shift <= 0.5:
            raise SpecificationError("diffusion.shift_per_c", "a number in [0, 0.5]", self.diffusion_shift)
        if not self.diffusion_time_constant > 0:
            raise SpecificationError("diffusion.time_constant_s", "> 0 s", self.diffusion_time_constant)
        if not self.tables:
            raise SpecificationError("tables", "at least one temperature table", 0)
        tables = tuple(sorted(self.tables, key=lambda t: t.temperature))
        temps = [t.temperature for t in tables]
        if len(set(temps)) != len(temps):
            raise SpecificationError("tables.temperature", "distinct temperatures", [x - 273.15 for x in temps])
        first = tables[0]
        for t in tables[1:]:
            for attr in ("open_circuit_voltage", "ohmic_resistance", "rc_resistance", "rc_time_constant"):
                if np.shape(getattr(t, attr)) != np.shape(getattr(first, attr)):
                    raise SpecificationError(
                        f"tables.{attr}", f"shape {np.shape(getattr(first, attr))} in every table",
                        np.shape(getattr(t, attr)), f"table at {t.temperature - 273.15:g} degC",
                    )
        if not 1.0 <= self.capacity <= 1e7:
            raise SpecificationError("capacity", "a number in [1, 1e7] A s (1 Ah = 3600 A s)", self.capacity)
        if not 0.0 <= self.voltage_min < self.voltage_max <= 10.0:
            raise SpecificationError(
                "voltage_min, voltage_max", "0 <= voltage_min < voltage_max <= 10 V", (self.voltage_min, self.voltage_max)
            )
        object.__setattr__(self, "tables", tables)

    @property
    def temperatures(self) -> Array:
        """Table temperatures [K]."""
        return np.array([t.temperature for t in self.tables])

    @property
    def n_rc(self) -> int:
        """Number of RC pairs."""
        return int(self.tables[0].rc_time_constant.size)

    @cached_property
    def _stacked(self) -> dict[str, Array]:
        return {
            "temperature": self.temperatures,
            "ocv": np.stack([t.open_circuit_voltage for t in self.tables]),
            "log_r0": np.log(np.maximum(np.stack([t.ohmic_resistance for t in self.tables]), 1e-12)),
            "log_rrc": np.log(np.maximum(np.stack([t.rc_resistance for t in self.tables]), 1e-12)),
            "log_tau": np.log(np.stack([t.rc_time_constant for t in self.tables])),
        }

    def with_thermal(self, thermal: ThermalParameters | None) -> CellModel:
        """A copy with another thermal model."""
        return replace(self, thermal=thermal)

    def parameters_at(self, temperature: npt.ArrayLike) -> CellParameters:
        """Parameters at `temperature` [K], shape (n,).

        OCV is linear in 1/T between tables; resistances and time constants
        are log-linear in 1/T (Arrhenius between tables); outside the
        tabulated range the nearest table holds.
        """
        temp = np.atleast_1d(np.asarray(temperature, dtype=float))
        i, w = _tables.temperature_weights(temp, self._stacked["temperature"])
        j = np.minimum(i + 1, len(self.tables) - 1)
        ocv, r0, rrc, tau = (self._stacked[k] for k in ("ocv", "log_r0", "log_rrc", "log_tau"))
        wc = w[:, None]
        if len(self.tables) > 1:
            d_temp = (self.temperatures[j] - self.temperatures[i])[:, None]
            entropic = (ocv[j] - ocv[i]) / np.where(d_temp == 0, 1.0, d_temp)
        else:
            entropic = np.zeros((temp.size, ocv.shape[1]))
        return CellParameters(
            open_circuit_voltage=(1 - wc) * ocv[i] + wc * ocv[j],
            ohmic_resistance=np.exp((1 - wc) * r0[i] + wc * r0[j]),
            rc_resistance=np.exp((1 - w[:, None, None]) * rrc[i] + w[:, None, None] * rrc[j]),
            rc_time_constant=np.exp((1 - wc) * tau[i] + wc * tau[j]),
            entropic_coefficient_table=entropic,
        )

    # ------------------------------------------------------------------ TOML
    def to_toml(self) -> str:
        """The model as TOML text (format ``twinloop.cell/1``)."""
        doc: dict[str, Any] = {
            "format": FORMAT,
            "name": self.name,
            "capacity_ah": _round(self.capacity / 3600.0),
            "voltage_min_v": self.voltage_min,
            "voltage_max_v": self.voltage_max,
            "provenance": dict(self.provenance),
            "tables": [],
        }
        for t in self.tables:
            entry: dict[str, Any] = {
                "temperature_c": _round(t.temperature - 273.15),
                "capacity_ah": _round(t.capacity / 3600.0),
                "ocv_v": [_round(x) for x in t.open_circuit_voltage],
                "ohmic_resistance_ohm": [_round(x) for x in t.ohmic_resistance],
                "rc_resistance_ohm": [[_round(x) for x in row] for row in t.rc_resistance],
                "rc_time_constant_s": [_round(x) for x in t.rc_time_constant],
            }
            if t.fit is not None:
                entry["fit"] = _fit_dict(t.fit, 1000.0, "mv")
            doc["tables"].append(entry)
        if self.thermal is not None:
            thermal: dict[str, Any] = {
                "heat_capacity_j_per_k": _round(self.thermal.heat_capacity),
                "heat_transfer_w_per_k": _round(self.thermal.heat_transfer_coefficient),
            }
            if self.thermal.fit is not None:
                thermal["fit"] = _fit_dict(self.thermal.fit, 1.0, "k")
            doc["thermal"] = thermal
        if self.diffusion_shift > 0:
            doc["diffusion"] = {
                "shift_per_c": _round(self.diffusion_shift),
                "time_constant_s": _round(self.diffusion_time_constant),
            }
        return "# twinloop cell model; format described in docs/battery.md\n" + tomli_w.dumps(doc)

    @classmethod
    def from_toml(cls, text: str, where: str | None = None) -> CellModel:
        """Parse TOML text written by :meth:`to_toml`; errors name the field."""
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecificationError("cell model", "valid TOML", str(exc), where) from None
        if doc.get("format") != FORMAT:
            raise SpecificationError("format", repr(FORMAT), doc.get("format"), where)

        def get(d: dict[str, Any], key: str, path: str) -> Any:
            if key not in d:
                raise SpecificationError(path + key, "a value (field missing)", None, where)
            return d[key]

        try:
            tables = []
            for k, e in enumerate(get(doc, "tables", "")):
                path = f"tables[{k}]."
                fit = e.get("fit")
                tables.append(
                    CellTable(
                        temperature=float(get(e, "temperature_c", path)) + 273.15,
                        open_circuit_voltage=np.array(get(e, "ocv_v", path), dtype=float),
                        ohmic_resistance=np.array(get(e, "ohmic_resistance_ohm", path), dtype=float),
                        rc_resistance=np.array(get(e, "rc_resistance_ohm", path), dtype=float),
                        rc_time_constant=np.array(get(e, "rc_time_constant_s", path), dtype=float),
                        capacity=float(get(e, "capacity_ah", path)) * 3600.0,
                        fit=None if fit is None else _fit_from(fit, 1e-3, "mv"),
                    )
                )
            thermal = None
            if "thermal" in doc:
                th = doc["thermal"]
                fit = th.get("fit")
                thermal = ThermalParameters(
                    heat_capacity=float(get(th, "heat_capacity_j_per_k", "thermal.")),
                    heat_transfer_coefficient=float(get(th, "heat_transfer_w_per_k", "thermal.")),
                    fit=None if fit is None else _fit_from(fit, 1.0, "k"),
                )
            return cls(
                capacity=float(get(doc, "capacity_ah", "")) * 3600.0,
                tables=tuple(tables),
                voltage_min=float(get(doc, "voltage_min_v", "")),
                voltage_max=float(get(doc, "voltage_max_v", "")),
                thermal=thermal,
                name=str(doc.get("name", "cell")),
                provenance={str(k): str(v) for k, v in doc.get("provenance", {}).items()},
                diffusion_shift=float(doc.get("diffusion", {}).get("shift_per_c", 0.0)),
                diffusion_time_constant=float(doc.get("diffusion", {}).get("time_constant_s", 1000.0)),
            )
        except ValidationError as exc:
            if exc.where is None and where is not None:
                raise type(exc)(exc.field, exc.expected, exc.received, where, exc.hint) from None
            raise
        except (TypeError, ValueError) as exc:
            raise SpecificationError("cell model", "numbers and lists of numbers", str(exc), where) from None

    def save(self, path: str | Path) -> None:
        """Write the TOML file."""
        Path(path).write_text(self.to_toml(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> CellModel:
        """Read a TOML file written by :meth:`save`."""
        p = Path(path)
        return cls.from_toml(p.read_text(encoding="utf-8"), where=str(p))


def _round(x: float) -> float:
    """15 significant digits: a model read back simulates as the one written (to ~1e-15 relative),
    while unit conversions (298.15 K - 273.15) do not leave a tail of float noise in the file."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.15g}")


def _fit_dict(fit: FitQuality, scale: float, unit: str) -> dict[str, Any]:
    return {
        "source": fit.source,
        f"rmse_{unit}": _round(fit.rmse * scale),
        f"max_error_{unit}": _round(fit.max_error * scale),
        "samples": int(fit.samples),
    }


def _fit_from(d: dict[str, Any], scale: float, unit: str) -> FitQuality:
    return FitQuality(
        source=str(d.get("source", "")),
        rmse=float(d.get(f"rmse_{unit}", math.nan)) * scale,
        max_error=float(d.get(f"max_error_{unit}", math.nan)) * scale,
        samples=int(d.get("samples", 0)),
    )
