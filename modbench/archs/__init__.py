"""Reference architectures. Importing this package registers the built-ins."""
from modbench.archs.base import ARCHS, ArchSpec, build_model
from modbench.archs.declared import (input_parameter_names, io_parameter_names, output_parameter_name,
                                     output_parameter_names, validate_declarations)
from modbench.archs import cnn, fnn, lstm, lstm_seq2seq, planted, resnet, transformer_seq2seq  # noqa: F401  (registration)

__all__ = ["ARCHS", "ArchSpec", "build_model", "input_parameter_names", "io_parameter_names", "output_parameter_name",
           "output_parameter_names", "validate_declarations"]
