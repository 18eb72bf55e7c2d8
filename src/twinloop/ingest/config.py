"""Limits and options of ingestion, as one dataclass."""

from __future__ import annotations

from dataclasses import dataclass

from twinloop.errors import ValidationError
from twinloop.ingest._echo import shown

__all__ = ["HEADER_LIMIT", "IngestConfig"]

#: Longest CSV header row [bytes] a config may allow: Python's csv module refuses a field of
#: 131072 characters (``csv.field_size_limit()``), and one name may fill a whole header.
HEADER_LIMIT = 131_072


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
        Block size of the streaming CSV reader. A row longer than a block
        may stop the ingest (Arrow reads a row across one block boundary,
        not two), with an error naming this limit.
    max_header_bytes : int
        Longest CSV header row (column names), read before anything else;
        at most 131072, Python's limit on one CSV field.
    """

    max_file_bytes: int = 20 * 1024**3
    batch_samples: int = 4_000_000
    max_batch_rows: int = 2_000_000
    max_quarantine_rows: int = 1000
    csv_block_bytes: int = 16 * 1024**2
    max_header_bytes: int = 128 * 1024

    def __post_init__(self) -> None:
        for name in (
            "max_file_bytes", "batch_samples", "max_batch_rows", "csv_block_bytes", "max_header_bytes"
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValidationError(name, "a positive integer", shown(value))
        if self.max_header_bytes > HEADER_LIMIT:
            raise ValidationError(
                "max_header_bytes", f"at most {HEADER_LIMIT} (one CSV field)", shown(self.max_header_bytes)
            )
        if not isinstance(self.max_quarantine_rows, int) or self.max_quarantine_rows < 0:
            raise ValidationError("max_quarantine_rows", "an integer >= 0", shown(self.max_quarantine_rows))
