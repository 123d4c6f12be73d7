"""The base of every user-facing error: its message names the file or setting and the remedy."""


class LLBError(Exception):
    """An error a person can act on; the CLI prints it as one line and the GUI as a dialog."""
