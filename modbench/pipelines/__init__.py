"""What a run does after its configuration is resolved: one module per task kind, each
registering its pipeline and paper-style table in PIPELINES (modbench.pipelines.base).

`modularity` (kinds "specialize", "reuse"), `sysgen`, `class_removal`, `stability`, `transfer`;
their shared steps (train, freeze, a mask per stage) are in `common`.
"""
from modbench.pipelines.base import PIPELINES, KindPipeline, Phases, RunOutput, Tick, registers
from modbench.pipelines import class_removal, modularity, stability, sysgen, transfer  # noqa: F401  (registration)

__all__ = ["PIPELINES", "KindPipeline", "Phases", "RunOutput", "Tick", "registers"]
