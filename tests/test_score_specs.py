"""Declared scores (modbench.score_specs): one declaration per score, read by validation, the
tables and the README; a new task kind touches only its own module and one registry line."""
import re
from pathlib import Path

import pytest

from modbench.errors import ModbenchError
from modbench.score_specs import SCORES, markdown_table, spec

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_score_table_is_the_generated_one():
    text = README.read_text()
    block = re.search(r"<!-- scores:[^>]*-->\n(.*?)\n<!-- end scores -->", text, re.S)
    assert block and block.group(1) == markdown_table()


def test_families_match_their_instances_only():
    assert spec("sysgen", "combination_dependence/jump").higher_is_better is False
    assert spec("class_removal", "relative_drop/3").ranked is False
    assert spec("class_removal", "relative_drop").ranked is True
    with pytest.raises(ModbenchError, match="not declared for task kind 'sysgen'"):
        spec("sysgen", "combination_dependence/")
    with pytest.raises(ModbenchError, match="'p_reuse' is not declared for task kind 'specialize'"):
        spec("specialize", "p_reuse")


def test_every_kind_with_a_pipeline_declares_its_scores():
    from modbench.pipelines import PIPELINES

    assert set(PIPELINES.names()) == set(SCORES.names())
