"""`modbench data export`: each dataset's exporter, by name (the CLI's registry)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

Writable = Callable[[Path], Path]  # makes sure a folder can be written, returns it


def _export_scan(split: str, out: Path, source: str, writable: Writable) -> tuple[Path, Path]:
    from modbench.data.scan_source import check_split, export_scan, parse_source

    check_split(split), parse_source(source)  # before the output folder is created
    return export_scan(split, writable(out), source=source)


def _export_math(module: str, out: Path, source: str, writable: Writable) -> list[Path]:
    from modbench.data.math_generate import check_module
    from modbench.data.math_source import export_math, parse_source

    check_module(module), parse_source(source)
    return export_math(module, writable(out), source=source)


# name -> (the CLI option naming what to export, exporter(name, out, source, writable))
DATASETS = {"scan": ("split", _export_scan), "math": ("module", _export_math)}
