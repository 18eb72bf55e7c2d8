"""Limits and options of ingestion, as one dataclass."""

from __future__ import annotations

from dataclasses import dataclass

from twinloop.errors import ValidationError

__all__ = ["IngestConfig"]


@dataclass(frozen=True)
class IngestConfig:
    """How much ingestion accepts, and in what pieces.

    Attributes
    ----------
    max_file_bytes : int
        Larger input files are refused before reading.
    batch_samples : int
        Target number of samples per committed batch (one transaction).
    max_batch_rows : int
        Most source rows (or CAN frames) read into memory at once.
    max_quarantine_rows : int
        Per reason and batch, refused samples stored one by one; the rest
        are stored as one summary row with their count (still counted).
    csv_block_bytes : int
        Block size of the streaming CSV reader.
    """

    max_file_bytes: int = 20 * 1024**3
    batch_samples: int = 4_000_000
    max_batch_rows: int = 2_000_000
    max_quarantine_rows: int = 1000
    csv_block_bytes: int = 16 * 1024**2

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "batch_samples", "max_batch_rows", "csv_block_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValidationError(name, "a positive integer", value)
        if self.max_quarantine_rows < 0:
            raise ValidationError("max_quarantine_rows", ">= 0", self.max_quarantine_rows)
