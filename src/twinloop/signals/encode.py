"""Encode SI time series into CAN frames through a DBC and a decoder manifest.

The inverse of decoding, used to write example logs and test data: SI ->
VSS unit (catalog) -> DBC value (manifest) -> frame (cantools, per frame).
Multiplexed messages send one frame per multiplexer value at each time.
"""

from __future__ import annotations

from collections.abc import Mapping

import cantools.database
import numpy as np
import numpy.typing as npt

from twinloop.errors import ValidationError
from twinloop.signals.catalog import SignalCatalog
from twinloop.signals.frames import FrameBatch
from twinloop.signals.manifest import DecoderManifest

__all__ = ["encode_series"]


def encode_series(
    database: cantools.database.can.Database,
    manifest: DecoderManifest,
    catalog: SignalCatalog,
    time: npt.NDArray[np.float64],
    series: Mapping[str, npt.NDArray[np.float64]],
) -> FrameBatch:
    """Frames carrying `series` at `time`.

    Parameters
    ----------
    database, manifest, catalog
        The DBC, the mapping to VSS, and the signal catalog.
    time : ndarray, shape (n,)
        Times [s since epoch].
    series : mapping of VSS path to ndarray, shape (n,)
        SI values (enumerated signals as their codes).

    Returns
    -------
    FrameBatch
        Every message of the manifest at every time step, in time order.
    """
    t = np.asarray(time, dtype=np.float64)
    by_message: dict[str, dict[str, npt.NDArray[np.float64] | list[str]]] = {}
    for e in manifest.entries:
        if e.vss not in series:
            continue
        si = np.asarray(series[e.vss], dtype=np.float64)
        if si.shape != t.shape:
            raise ValidationError(e.vss, f"an array of shape {t.shape}", si.shape)
        sig = catalog[e.vss]
        if e.values:
            labels = {v: k for k, v in e.values.items()}
            codes = [labels[sig.allowed[int(c)]] for c in si.astype(int)]
            by_message.setdefault(e.message, {})[e.signal] = np.array(codes, dtype=float)
        else:
            vss = sig.from_si(si)
            by_message.setdefault(e.message, {})[e.signal] = (vss - e.offset) / e.scale
    frames: list[tuple[float, int, bytes]] = []
    for name, signals in by_message.items():
        msg = database.get_message_by_name(name)
        selectors: list[dict[str, int]] = [{}]
        muxed = {s.name: s for s in msg.signals if s.multiplexer_ids}
        if muxed:
            sel_name = next(iter(muxed.values())).multiplexer_signal
            ids = sorted(
                {i for s in muxed.values() if s.name in signals for i in s.multiplexer_ids or ()}
            )
            selectors = [{str(sel_name): i} for i in ids]
        for sel in selectors:
            wanted = [
                s
                for s in msg.signals
                if s.name not in muxed
                or (sel and set(muxed[s.name].multiplexer_ids or ()) & set(sel.values()))
            ]
            for i in range(t.size):
                data: dict[str, float] = {s.name: 0.0 for s in wanted if s.name not in sel}
                data.update(sel)
                for sname, arr in signals.items():
                    if sname in data:
                        sg = msg.get_signal_by_name(sname)
                        lo = sg.minimum if sg.minimum is not None else -np.inf
                        hi = sg.maximum if sg.maximum is not None else np.inf
                        data[sname] = float(np.clip(arr[i], lo, hi))
                payload = msg.encode(data, scaling=True, strict=False)
                frames.append((float(t[i]), int(msg.frame_id), bytes(payload)))
    frames.sort(key=lambda f: f[0])
    return FrameBatch.from_frames(frames)
