"""A batch of raw CAN frames held as arrays, the unit that DBC decoding works on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twinloop.errors import DataError

__all__ = ["MAX_PAYLOAD_BYTES", "FrameBatch"]

#: CAN FD's largest payload; classic CAN frames carry at most 8 bytes.
MAX_PAYLOAD_BYTES = 64


@dataclass(frozen=True)
class FrameBatch:
    """CAN frames as columns (one row per frame).

    Attributes
    ----------
    time : ndarray of float64, shape (n,)
        Receive time [s] since the Unix epoch (UTC).
    frame_id : ndarray of uint32, shape (n,)
        Arbitration id without the extended-frame flag.
    length : ndarray of uint8, shape (n,)
        Payload length [bytes].
    data : ndarray of uint8, shape (n, width)
        Payloads, zero-padded to `width` (8 for classic CAN, up to 64).
    """

    time: npt.NDArray[np.float64]
    frame_id: npt.NDArray[np.uint32]
    length: npt.NDArray[np.uint8]
    data: npt.NDArray[np.uint8]

    def __post_init__(self) -> None:
        n = self.time.shape[0]
        if self.data.ndim != 2 or self.data.shape[1] > MAX_PAYLOAD_BYTES:
            raise DataError(
                f"frame data must be (n, <= {MAX_PAYLOAD_BYTES}) bytes, got {self.data.shape}"
            )
        if not (self.frame_id.shape[0] == self.length.shape[0] == self.data.shape[0] == n):
            raise DataError("frame columns differ in length")

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @classmethod
    def from_frames(
        cls, frames: list[tuple[float, int, bytes]], width: int | None = None
    ) -> FrameBatch:
        """Build a batch from ``(time, frame_id, payload)`` tuples.

        Examples
        --------
        >>> b = FrameBatch.from_frames([(1.0, 0x257, b"\\x01\\x02")])
        >>> b.data.shape, int(b.length[0])
        ((1, 8), 2)
        """
        longest = max((len(p) for _, _, p in frames), default=0)
        if longest > MAX_PAYLOAD_BYTES:
            raise DataError(f"payload of {longest} bytes exceeds {MAX_PAYLOAD_BYTES}")
        width = width or max(8, longest)
        n = len(frames)
        buf = bytearray(n * width)
        for i, (_, _, payload) in enumerate(frames):
            buf[i * width : i * width + len(payload)] = payload
        return cls(
            time=np.fromiter((f[0] for f in frames), dtype=np.float64, count=n),
            frame_id=np.fromiter((f[1] for f in frames), dtype=np.uint32, count=n),
            length=np.fromiter((len(f[2]) for f in frames), dtype=np.uint8, count=n),
            data=np.frombuffer(bytes(buf), dtype=np.uint8).reshape(n, width).copy(),
        )

    def take(self, rows: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> FrameBatch:
        """The frames at `rows` (index array or mask)."""
        return FrameBatch(self.time[rows], self.frame_id[rows], self.length[rows], self.data[rows])

    @classmethod
    def concat(cls, batches: list[FrameBatch]) -> FrameBatch:
        """Concatenate batches (payload width is the widest)."""
        if not batches:
            return cls.from_frames([])
        width = max(b.data.shape[1] for b in batches)
        data = [np.pad(b.data, ((0, 0), (0, width - b.data.shape[1]))) for b in batches]
        return cls(
            np.concatenate([b.time for b in batches]),
            np.concatenate([b.frame_id for b in batches]),
            np.concatenate([b.length for b in batches]),
            np.concatenate(data),
        )
