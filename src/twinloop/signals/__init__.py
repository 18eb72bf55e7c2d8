"""Vehicle signals: the VSS catalog, unit conversion at the boundary, DBC decoding of CAN.

See ``docs/data.md`` for the catalog, the decoder manifest and what DBC
features the vectorised decoder supports.
"""

from twinloop.signals.catalog import Signal, SignalCatalog, default_catalog
from twinloop.signals.dbc import DbcDecoder, DecodedSignal, DecodeResult, load_dbc
from twinloop.signals.encode import encode_series
from twinloop.signals.frames import FrameBatch
from twinloop.signals.manifest import DecoderManifest, ManifestEntry, starter_manifest
from twinloop.signals.units import UNITS, UnitConversion, unit_conversion

__all__ = [
    "UNITS",
    "DbcDecoder",
    "DecodeResult",
    "DecodedSignal",
    "DecoderManifest",
    "FrameBatch",
    "ManifestEntry",
    "Signal",
    "SignalCatalog",
    "UnitConversion",
    "default_catalog",
    "encode_series",
    "load_dbc",
    "starter_manifest",
    "unit_conversion",
]
