"""Write CAN frames to log files (candump ``.log``, Vector ``.asc``, ``.blf``) via python-can.

The counterpart of the readers in :mod:`twinloop.ingest.sources`; used to
produce example data and test logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import can

from twinloop.errors import ValidationError
from twinloop.signals.frames import FrameBatch

__all__ = ["WRITERS", "write_can_log"]

#: Suffix -> python-can writer class.
WRITERS: dict[str, Any] = {
    ".log": can.CanutilsLogWriter,
    ".asc": can.ASCWriter,
    ".blf": can.BLFWriter,
}


def write_can_log(path: str | Path, frames: FrameBatch, channel: str = "can0") -> int:
    """Write `frames` to `path`, the format chosen by suffix; return the frame count."""
    p = Path(path)
    try:
        writer_cls = WRITERS[p.suffix.lower()]
    except KeyError:
        raise ValidationError("suffix", f"one of {sorted(WRITERS)}", p.suffix, str(p)) from None
    kwargs = {"channel": channel} if writer_cls is can.CanutilsLogWriter else {}
    with writer_cls(str(p), **kwargs) as writer:
        for i in range(len(frames)):
            n = int(frames.length[i])
            fid = int(frames.frame_id[i])
            writer.on_message_received(
                can.Message(
                    timestamp=float(frames.time[i]),
                    arbitration_id=fid,
                    is_extended_id=fid > 0x7FF,
                    data=frames.data[i, :n].tobytes(),
                    is_fd=n > 8,
                    channel=0 if writer_cls is not can.CanutilsLogWriter else channel,
                )
            )
    return len(frames)
