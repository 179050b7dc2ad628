"""Reference architectures. Importing this package registers the built-ins."""
from modbench.archs.base import ARCHS, ArchSpec, build_model, io_parameter_names
from modbench.archs import fnn, lstm  # noqa: F401  (registration side effect)

__all__ = ["ARCHS", "ArchSpec", "build_model", "io_parameter_names"]
