"""Mask methods (the analyzer track): the reference trainer and the methods it is compared with.
Importing this package registers the built-ins."""
from modbench.methods.base import METHODS, REFERENCE, MaskMethod, fit_mask, method_of
from modbench.methods import hard_concrete, magnitude, reference, units  # noqa: F401  (registration)

__all__ = ["METHODS", "REFERENCE", "MaskMethod", "fit_mask", "method_of"]
