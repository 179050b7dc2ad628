"""User-facing errors: one line that names the problem and the fix, never a traceback."""


class ModbenchError(Exception):
    """An error caused by the user's input; the CLI prints its message alone and exits 2."""
