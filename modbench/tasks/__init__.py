"""Benchmark tasks. Importing this package registers the built-ins."""
from modbench.tasks.base import TASKS, TIERS, Task
from modbench.tasks import arithmetic, dm_math, planted, scan, teacher, vision  # noqa: F401  (registration side effect)

__all__ = ["TASKS", "TIERS", "Task"]
