"""Vectorised decoding of CAN frames through a DBC file.

cantools parses the DBC; decoding does not call cantools per frame. Frames
are grouped by arbitration id and every signal of a message is extracted
from all frames of that id at once with numpy bit operations: an 8-byte
window that holds the signal is read as one little- or big-endian 64-bit
integer, shifted and masked. The result is the same number cantools'
``Message.decode(data, decode_choices=False)`` gives, frame by frame
(``tests/signals/test_dbc.py`` checks this on real opendbc files).

Supported: Intel (little-endian) and Motorola (big-endian) signals, signed
and unsigned, IEEE float32/float64 signals, scale and offset, simple and
nested multiplexing, classic CAN and CAN FD payloads.
Not supported: signals whose bits span more than an 8-byte window (over 57
bits at an unaligned position; such signals are listed in
:attr:`DbcDecoder.unsupported` and skipped), AUTOSAR container frames, and
J1939 PGN matching (ids are matched exactly).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cantools
import cantools.database
import numpy as np
import numpy.typing as npt

from twinloop.errors import DataError
from twinloop.signals.frames import FrameBatch

__all__ = ["DbcDecoder", "DecodeResult", "DecodedSignal", "load_dbc"]

#: A DBC file larger than this is refused (the largest opendbc file is ~1 MB).
MAX_DBC_BYTES = 20_000_000

_U64 = np.uint64


def load_dbc(path: str | Path, *, strict: bool = False) -> cantools.database.can.Database:
    """Parse a DBC file with cantools; every parse failure becomes a :class:`DataError`.

    Parameters
    ----------
    path : str or Path
        The DBC file.
    strict : bool
        Passed to cantools: refuse overlapping signals and similar.
    """
    p = Path(path)
    size = p.stat().st_size
    if size > MAX_DBC_BYTES:
        raise DataError(f"{p}: DBC file of {size} bytes exceeds the limit of {MAX_DBC_BYTES}")
    try:
        db = cantools.database.load_file(str(p), database_format="dbc", strict=strict)
    except (cantools.database.UnsupportedDatabaseFormatError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        # a binary file would put its bytes in the message: keep it short and printable
        first = "".join(c if c.isprintable() else "?" for c in first[:200])
        raise DataError(f"{p}: not a valid DBC file: {first}") from None
    if not isinstance(db, cantools.database.can.Database):
        raise DataError(f"{p}: not a CAN database")
    return db


@dataclass(frozen=True)
class DecodedSignal:
    """Values of one DBC signal over the frames that carried it.

    Attributes
    ----------
    time : ndarray of float64
        Frame times [s since epoch].
    value : ndarray of float64
        Scaled values in the DBC unit (``raw * scale + offset``).
    unit : str
        The DBC unit ('' when none).
    """

    time: npt.NDArray[np.float64]
    value: npt.NDArray[np.float64]
    unit: str = ""


@dataclass
class DecodeResult:
    """What decoding a batch produced, and what it could not use.

    Attributes
    ----------
    signals : dict
        ``{(message, signal): DecodedSignal}`` for every decoded signal.
    unknown_ids : dict
        ``{frame_id: count}`` of frames whose id is not in the DBC.
    wrong_length : dict
        ``{(message, received_length): count}`` of frames whose payload
        length differs from the DBC's.
    bad_multiplexer : dict
        ``{message: count}`` of frames whose multiplexer value selects no
        signals in the DBC.
    frames : int
        Frames offered.
    """

    signals: dict[tuple[str, str], DecodedSignal] = field(default_factory=dict)
    unknown_ids: dict[int, int] = field(default_factory=dict)
    wrong_length: dict[tuple[str, int], int] = field(default_factory=dict)
    bad_multiplexer: dict[str, int] = field(default_factory=dict)
    frames: int = 0


@dataclass(frozen=True)
class _Field:
    """One signal compiled to window position, shift and mask."""

    name: str
    byte: int  # first byte of the 8-byte window
    big_endian: bool
    shift: int
    length: int
    signed: bool
    float_bits: int  # 0, 32 or 64
    scale: float
    offset: float
    unit: str
    mux_signal: str | None
    mux_ids: tuple[int, ...]


@dataclass(frozen=True)
class _CompiledMessage:
    name: str
    length: int
    fields: tuple[_Field, ...]
    # selector -> values that cantools accepts (ids of its signals, and its choices)
    selector_values: dict[str, tuple[int, ...]]


def _compile_signal(sig: cantools.database.can.Signal) -> _Field | None:
    start, length = int(sig.start), int(sig.length)
    if sig.byte_order == "little_endian":
        byte, shift = start // 8, start % 8
        ok = shift + length <= 64
        big = False
    else:
        # cantools keeps the DBC (sawtooth) start bit of the most significant bit.
        byte, bit = start // 8, start % 8
        shift = 57 + bit - length
        ok = shift >= 0
        big = True
    if not ok:
        return None
    return _Field(
        name=sig.name,
        byte=byte,
        big_endian=big,
        shift=shift,
        length=length,
        signed=bool(sig.is_signed),
        float_bits=length if sig.is_float else 0,
        scale=float(sig.scale),
        offset=float(sig.offset),
        unit=sig.unit or "",
        mux_signal=sig.multiplexer_signal,
        mux_ids=tuple(int(i) for i in (sig.multiplexer_ids or ())),
    )


def _raw(field_: _Field, padded: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    """Unsigned raw bits of `field_` for every row of `padded` (n, width + 8)."""
    window = np.ascontiguousarray(padded[:, field_.byte : field_.byte + 8])
    words = window.view(">u8" if field_.big_endian else "<u8")[:, 0].astype(_U64)
    if field_.shift:
        words = words >> _U64(field_.shift)
    if field_.length < 64:
        words = words & _U64((1 << field_.length) - 1)
    return words


def _scaled(field_: _Field, raw: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
    if field_.float_bits == 32:
        with np.errstate(invalid="ignore"):  # signalling NaN payloads
            value = raw.astype(np.uint32).view(np.float32).astype(np.float64)
    elif field_.float_bits == 64:
        value = raw.view(np.float64)
    elif field_.signed:
        if field_.length == 64:
            value = raw.view(np.int64).astype(np.float64)
        else:
            signed = raw.astype(np.int64)
            negative = (raw >> _U64(field_.length - 1)).astype(np.int64) & 1
            value = (signed - (negative << field_.length)).astype(np.float64)
    else:
        value = raw.astype(np.float64)
    if field_.scale == 1.0 and field_.offset == 0.0:
        return value
    return value * field_.scale + field_.offset


class DbcDecoder:
    """Decode :class:`FrameBatch` es through one DBC database, vectorised per id.

    Parameters
    ----------
    database : cantools.database.can.Database
        A parsed DBC (see :func:`load_dbc`).
    only : iterable of (message, signal), optional
        Decode only these signals (all when None).

    Examples
    --------
    >>> import cantools
    >>> from twinloop.signals.frames import FrameBatch
    >>> db = cantools.database.load_string('''VERSION ""
    ... BO_ 256 Speed: 2 ECU
    ...  SG_ VehicleSpeed : 0|16@1+ (0.01,0) [0|655.35] "km/h" Vector__XXX
    ... ''', database_format="dbc")
    >>> dec = DbcDecoder(db)
    >>> res = dec.decode(FrameBatch.from_frames([(0.0, 256, bytes([0x10, 0x27]))]))
    >>> res.signals["Speed", "VehicleSpeed"].value.tolist()
    [100.0]
    """

    def __init__(
        self,
        database: cantools.database.can.Database,
        only: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        wanted = set(only) if only is not None else None
        self.unsupported: list[str] = []
        self._messages: dict[int, _CompiledMessage] = {}
        for msg in database.messages:
            fields = []
            needed = {s.name for s in msg.signals if wanted is None or (msg.name, s.name) in wanted}
            # multiplexer selectors are always needed by the signals they select
            for s in msg.signals:
                if s.name in needed and s.multiplexer_signal:
                    sel: str | None = s.multiplexer_signal
                    while sel:
                        needed.add(sel)
                        sel = msg.get_signal_by_name(sel).multiplexer_signal
            for s in msg.signals:
                if s.name not in needed:
                    continue
                compiled = _compile_signal(s)
                if compiled is None:
                    self.unsupported.append(f"{msg.name}.{s.name}")
                else:
                    fields.append(compiled)
            if fields:
                selectors: dict[str, set[int]] = {}
                for s in msg.signals:
                    if s.multiplexer_signal:
                        selectors.setdefault(s.multiplexer_signal, set()).update(
                            s.multiplexer_ids or ()
                        )
                for name, ids in selectors.items():
                    ids.update(int(k) for k in (msg.get_signal_by_name(name).choices or {}))
                self._messages[int(msg.frame_id)] = _CompiledMessage(
                    msg.name,
                    int(msg.length),
                    tuple(fields),
                    {k: tuple(sorted(v)) for k, v in selectors.items() if k in needed},
                )
        self._known_ids = {int(m.frame_id) for m in database.messages}

    @property
    def frame_ids(self) -> list[int]:
        """Arbitration ids that this decoder extracts signals from."""
        return sorted(self._messages)

    def decode(self, frames: FrameBatch) -> DecodeResult:
        """Decode every frame of `frames`; see :class:`DecodeResult`."""
        result = DecodeResult(frames=len(frames))
        if len(frames) == 0:
            return result
        order = np.argsort(frames.frame_id, kind="stable")
        ids_sorted = frames.frame_id[order]
        ids, starts, counts = np.unique(ids_sorted, return_index=True, return_counts=True)
        for fid, start, count in zip(ids.tolist(), starts.tolist(), counts.tolist(), strict=True):
            msg = self._messages.get(fid)
            if msg is None:
                if fid not in self._known_ids:
                    result.unknown_ids[fid] = count
                continue
            rows = order[start : start + count]
            lengths = frames.length[rows]
            good = lengths == msg.length
            if not good.all():
                bad_lengths, bad_counts = np.unique(lengths[~good], return_counts=True)
                for ln, c in zip(bad_lengths.tolist(), bad_counts.tolist(), strict=True):
                    result.wrong_length[(msg.name, ln)] = c
                rows = rows[good]
                if rows.size == 0:
                    continue
            self._decode_message(msg, frames, rows, result)
        return result

    def _decode_message(
        self,
        msg: _CompiledMessage,
        frames: FrameBatch,
        rows: npt.NDArray[np.intp],
        result: DecodeResult,
    ) -> None:
        width = frames.data.shape[1]
        padded = np.zeros((rows.size, width + 8), dtype=np.uint8)
        padded[:, :width] = frames.data[rows]
        times = frames.time[rows]
        raws = {f.name: _raw(f, padded) for f in msg.fields}
        present: dict[str, npt.NDArray[np.bool_]] = {}
        by_name = {f.name: f for f in msg.fields}

        def mask_of(f: _Field) -> npt.NDArray[np.bool_] | None:
            """Rows in which `f` is present (None: all rows)."""
            if f.mux_signal is None:
                return None
            if f.name not in present:
                sel = by_name[f.mux_signal]
                own = np.isin(raws[sel.name], np.array(f.mux_ids, dtype=np.uint64))
                outer = mask_of(sel)
                present[f.name] = own if outer is None else own & outer
            return present[f.name]

        # frames whose selector value matches no multiplexed signal fail in cantools
        bad_mux = np.zeros(rows.size, dtype=bool)
        for sel_name, ids in msg.selector_values.items():
            sel_mask = mask_of(by_name[sel_name])
            miss = ~np.isin(raws[sel_name], np.array(ids, dtype=np.uint64))
            bad_mux |= miss if sel_mask is None else (miss & sel_mask)
        if bad_mux.any():
            result.bad_multiplexer[msg.name] = int(bad_mux.sum())

        for f in msg.fields:
            m = mask_of(f)
            m = ~bad_mux if m is None else (m & ~bad_mux)
            if m.all():
                value = _scaled(f, raws[f.name])
                t = times
            else:
                value = _scaled(f, raws[f.name][m])
                t = times[m]
            if value.size:
                result.signals[(msg.name, f.name)] = DecodedSignal(t, value, f.unit)
