"""modbench: a benchmark for the functional modularity of neural networks.

Method: Csordás, van Steenkiste & Schmidhuber, "Are Neural Nets Modular? Inspecting Functional
Modularity Through Differentiable Weight Masks", ICLR 2021.

The run API (`RunSpec`, `prepare`, `run_and_save`, `run_one`) is loaded on first use, so that
light modules (`modbench.stats`, the leaderboard's tables) import without torch.
"""
from modbench.provenance import modbench_version

__version__ = modbench_version()
__all__ = ["RunSpec", "prepare", "run_and_save", "run_one", "__version__"]
_RUN_API = ("RunSpec", "prepare", "run_and_save", "run_one")


def __getattr__(name: str):
    if name in _RUN_API:
        from modbench import harness

        return getattr(harness, name)
    raise AttributeError(f"module 'modbench' has no attribute {name!r}")
