"""Datasets built by modbench itself, with no file shipped or downloaded by default.

SCAN (Lake & Baroni 2018; template splits from Loula, Baroni & Lake 2018) is generated from its
grammar: `scan_grammar` (words, commands, meaning), `scan_splits` (the train/test splits),
`scan_files` (upstream's .txt format) and `scan_source` (sources, cache, export).
`datasets` is imported only when a DatasetDict is made, so exporting files stays light.
"""
from modbench.data.scan_grammar import INPUT_WORDS, OUTPUT_TOKENS, all_commands, interpret, verb_phrases_of
from modbench.data.scan_source import export_scan, load_scan, scan_fingerprint, scan_pairs
from modbench.data.scan_splits import SPLITS, build_split

DATASETS = ("scan",)

__all__ = ["DATASETS", "INPUT_WORDS", "OUTPUT_TOKENS", "SPLITS", "all_commands", "build_split",
           "export_scan", "interpret", "load_scan", "scan_fingerprint", "scan_pairs", "verb_phrases_of"]
