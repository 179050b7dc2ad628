"""Make DeepMind's `mathematics_dataset` 1.0.1 (PyPI's final release, 2019) import today, and
generate the same questions in every Python process.

Why: its `sample/polynomials.py` imports `base_solution_linear` from `sympy.solvers.diophantine`,
which sympy ≥ 1.6 moved into `sympy.solvers.diophantine.diophantine`; it uses `np.object`
(removed in numpy 1.24) and `ndarray.itemset` (removed in numpy 2.0). torch needs sympy ≥ 1.13,
so pinning an old sympy is no option (../shared/reference/environment_notes.md §3).
`util/composition.py` picks a fresh variable letter with `random.choice(list(a_set))`: a set of
strings iterates in an order set by PYTHONHASHSEED, so linear_1d's questions changed from one
process to the next (seen as different data fingerprints between two baseline runs).

The fix: before anything imports those files, load each from its source text with its rewrites
and register the result under the module's name. Every rewrite must match the expected number
of times, else `ModbenchError`: a changed package fails loudly here instead of generating
different questions silently.
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
# module -> its rewrites: (pattern, replacement, expected number of matches in 1.0.1). In import
# order: composition imports polynomials.
PATCHES: dict[str, tuple[tuple[str, str, int], ...]] = {
    f"{PACKAGE}.sample.polynomials": (
        (r"from sympy\.solvers\.diophantine import base_solution_linear",
         "from sympy.solvers.diophantine.diophantine import base_solution_linear", 1),
        (r"dtype=np\.object\b", "dtype=object", 3),
        (r"(\w+)\.itemset\((\w+), (\w+)\)", r"\1[\2] = \3", 2),
    ),
    f"{PACKAGE}.util.composition": (
        (r"random\.choice\(list\(allowed\)\)", "random.choice(sorted(allowed))", 1),
    ),
}


def patched_source(source: str, module: str) -> str:
    """`source` of `module` with every rewrite applied; raises if one does not match as expected."""
    for pattern, replacement, expected in PATCHES[module]:
        source, count = re.subn(pattern, replacement, source)
        if count != expected:
            raise ModbenchError(
                f"{module} no longer matches modbench's compatibility fix ({pattern!r} matched "
                f"{count} times, expected {expected}); install mathematics-dataset==1.0.1"
            )
    return source


def _load_patched(root: Path, module_name: str) -> None:
    """Compile `module_name` from its patched source and install it in sys.modules and its package."""
    package_name, _, short = module_name.rpartition(".")
    path = root.joinpath(*module_name.split(".")[1:]).with_suffix(".py")
    package = importlib.import_module(package_name)
    module = ModuleType(module_name)
    module.__file__ = str(path)
    module.__package__ = package_name
    code = compile(patched_source(path.read_text(), module_name), str(path), "exec")
    sys.modules[module_name] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - the package's own code, rewritten above
    except Exception:
        del sys.modules[module_name]
        raise
    setattr(package, short, module)


@functools.cache
def import_generator_modules() -> ModuleType:
    """`mathematics_dataset.modules.modules` (the per-regime module tables), importable."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModbenchError(
            "the math task's offline generator needs DeepMind's package: "
            "pip install mathematics-dataset==1.0.1 (or give official files with --source dir:PATH)"
        )
    for module_name in PATCHES:
        if module_name not in sys.modules:
            _load_patched(Path(spec.origin).parent, module_name)
    return importlib.import_module(f"{PACKAGE}.modules.modules")
