"""Files twinloop writes: which plot formats it can write, and whether a path can be written at all.

Light on purpose (standard library only): the command line checks its
output paths before any work, at start-up, and benchmarks do the same.

Examples
--------
>>> "png" in PLOT_FORMATS
True
>>> unwritable_reason(Path("/"))
'it is a folder; give a file name inside it'
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

__all__ = ["PLOT_FORMATS", "unwritable_reason"]

#: File formats matplotlib's Agg backend writes (``FigureCanvasBase.get_supported_filetypes``).
PLOT_FORMATS = ("png", "pdf", "svg", "svgz", "jpg", "jpeg", "tif", "tiff", "webp", "eps", "ps", "pgf", "raw", "rgba")


def unwritable_reason(path: Path) -> str | None:
    """Why `path` cannot be written, or None. Creates missing parent folders, as the commands do.

    Only writing tells for sure (read-only mounts, ``/proc``, another user's
    folders), so a new file is created and removed again as a probe.
    """
    if path.is_dir():
        return "it is a folder; give a file name inside it"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return f"{path.parent} is a file, not a folder"
    except OSError as exc:
        return f"cannot create the folder {path.parent} ({exc.strerror or exc})"
    if path.exists():
        return None if os.access(path, os.W_OK) else "the file is not writable"
    try:  # a probe: only writing tells (/proc, read-only mounts, root's special folders)
        with open(path, "xb"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno in (errno.ENOENT, errno.EACCES, errno.EROFS, errno.EPERM):
            reason = f"{path.parent} does not accept new files ({reason})"
        return reason
    path.unlink()
    return None
