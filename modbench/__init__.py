"""modbench: a benchmark for the functional modularity of neural networks.

Method: Csordás, van Steenkiste & Schmidhuber, "Are Neural Nets Modular? Inspecting Functional
Modularity Through Differentiable Weight Masks", ICLR 2021.
"""
from modbench.harness import RunSpec, prepare, run_and_save, run_one
from modbench.provenance import modbench_version

__version__ = modbench_version()
__all__ = ["RunSpec", "prepare", "run_and_save", "run_one", "__version__"]
