"""Make DeepMind's `mathematics_dataset` 1.0.1 (PyPI's final release, 2019) import today.

Why: its `sample/polynomials.py` imports `base_solution_linear` from `sympy.solvers.diophantine`,
which sympy ≥ 1.6 moved into `sympy.solvers.diophantine.diophantine`; it uses `np.object`
(removed in numpy 1.24) and `ndarray.itemset` (removed in numpy 2.0). torch needs sympy ≥ 1.13,
so pinning an old sympy is no option (../shared/reference/environment_notes.md §3).

The fix: before anything imports that one file, load it from its source text with those three
rewrites and register the result as `mathematics_dataset.sample.polynomials`. Every rewrite must
match the expected number of times, else `ModbenchError`: a changed package fails loudly here
instead of generating different questions silently.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from modbench.errors import ModbenchError

PACKAGE = "mathematics_dataset"
PATCHED = f"{PACKAGE}.sample.polynomials"

# (pattern, replacement, expected number of matches in 1.0.1's polynomials.py)
REWRITES: tuple[tuple[str, str, int], ...] = (
    (r"from sympy\.solvers\.diophantine import base_solution_linear",
     "from sympy.solvers.diophantine.diophantine import base_solution_linear", 1),
    (r"dtype=np\.object\b", "dtype=object", 3),
    (r"(\w+)\.itemset\((\w+), (\w+)\)", r"\1[\2] = \3", 2),
)


def patched_source(source: str) -> str:
    """`source` with every rewrite applied; raises if one does not match as expected."""
    for pattern, replacement, expected in REWRITES:
        source, count = re.subn(pattern, replacement, source)
        if count != expected:
            raise ModbenchError(
                f"{PATCHED} no longer matches modbench's compatibility fix ({pattern!r} matched "
                f"{count} times, expected {expected}); install mathematics-dataset==1.0.1"
            )
    return source


@functools.cache
def import_generator_modules() -> ModuleType:
    """`mathematics_dataset.modules.modules` (the per-regime module tables), importable."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModbenchError(
            "the math task's offline generator needs DeepMind's package: "
            "pip install mathematics-dataset==1.0.1 (or give official files with --source dir:PATH)"
        )
    if PATCHED not in sys.modules:
        path = Path(spec.origin).parent / "sample" / "polynomials.py"
        sample_package = importlib.import_module(f"{PACKAGE}.sample")
        module = ModuleType(PATCHED)
        module.__file__ = str(path)
        module.__package__ = f"{PACKAGE}.sample"
        code = compile(patched_source(path.read_text()), str(path), "exec")
        sys.modules[PATCHED] = module
        try:
            exec(code, module.__dict__)  # noqa: S102 - the package's own code, rewritten above
        except Exception:
            del sys.modules[PATCHED]
            raise
        sample_package.polynomials = module
    return importlib.import_module(f"{PACKAGE}.modules.modules")
