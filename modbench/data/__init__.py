"""Datasets built by modbench itself, with no file shipped or downloaded by default.

SCAN (Lake & Baroni 2018; template splits from Loula, Baroni & Lake 2018) is generated from its
grammar: `scan_grammar` (words, commands, meaning), `scan_splits` (the train/test splits),
`scan_files` (upstream's .txt format) and `scan_source` (sources, cache, export).
DeepMind Mathematics comes from DeepMind's generator or the release's files: `math_compat` (the
import fix), `math_generate` (seeded generation), `math_source` (sources, splits, cache, export).
`cache` holds the Arrow cache both use.
`datasets` is imported only when a DatasetDict is made, so exporting files stays light.
"""
from modbench.data.exports import DATASETS
from modbench.data.scan_grammar import INPUT_WORDS, OUTPUT_TOKENS, all_commands, interpret, verb_phrases_of
from modbench.data.scan_source import export_scan, load_scan, scan_fingerprint, scan_pairs
from modbench.data.scan_splits import SPLITS, build_split

__all__ = ["DATASETS", "INPUT_WORDS", "OUTPUT_TOKENS", "SPLITS", "all_commands", "build_split",
           "export_scan", "interpret", "load_scan", "scan_fingerprint", "scan_pairs", "verb_phrases_of"]
