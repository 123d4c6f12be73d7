"""The base of every user-facing error: its message names the file or setting and the remedy."""


class LLBError(Exception):
    """An error a person can act on; the CLI prints it as one line and the GUI as a dialog."""


def new_file_mode() -> int:
    """Permissions an ordinary new file gets under the current umask (mkstemp's files are 0600)."""
    import os

    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
