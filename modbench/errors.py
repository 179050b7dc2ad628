"""User-facing errors: one line that names the problem and the fix, never a traceback."""
import traceback
from pathlib import Path


class ModbenchError(Exception):
    """An error caused by the user's input; the CLI prints its message alone and exits 2."""


class TrainingDiverged(RuntimeError):
    """The loss or the mask logits became NaN or infinite. Not a user-input error: the run is
    recorded as failed with this message and a grid goes on (`modbench check` reports it)."""


class FrozenWeightsChanged(RuntimeError):
    """The network changed during mask training (its forward edits its own tensors): the masks
    would describe another network. The run is recorded as failed with this message."""


def one_line(err: BaseException) -> str:
    """`Type: message (at file:line)` of the innermost frame: a reason, never a traceback."""
    frames = traceback.extract_tb(err.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(err).__name__}: {err}{where}"


class RunTimedOut(RuntimeError):
    """A run passed its `--timeout-min`: it is recorded as failed with this reason, and a grid
    goes on (a rerun tries it again)."""


def check_finite(value, what: str) -> None:
    """Raise TrainingDiverged when the tensor `value` holds a NaN or an infinity."""
    import torch

    if not bool(torch.isfinite(value).all()):
        raise TrainingDiverged(f"{what} is not finite (NaN or inf); lower the learning rate or check "
                               "the architecture's initialisation and forward")
