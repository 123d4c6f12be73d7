"""Exception classes of the I/O layer; every message names the file and the remedy."""

from __future__ import annotations

from llb_core.errors import LLBError


class LlbIoError(LLBError):
    """Base class of all I/O errors raised by `llb_core.io` and `llb_core.workspace`."""


class FrameSourceError(LlbIoError):
    """A video file or image folder cannot be opened or decoded."""


class MaskFileError(LlbIoError):
    """A mask file is unreadable, has the wrong size or holds unexpected values."""


class ExportError(LlbIoError):
    """An export could not be written (bad options, encoder failure, disk full)."""


class CancelledError(LlbIoError):
    """A long operation was cancelled by its caller; partial output has been removed."""


class WriteError(LlbIoError, OSError):
    """A file could not be written (disk full, permissions); the previous version is intact.

    Also an `OSError`, so callers that catch OS errors keep working.

    Attributes:
        dest: the file that could not be written.
        reason: the operating system's message.
    """

    dest: object = None
    reason: str = ""
