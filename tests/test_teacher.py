"""Teacher-student ground truth (modbench/tasks/teacher.py): the labels come from two disjoint
teachers, and a student of the teacher's layout must recover that decomposition.

The end-to-end run uses 6 input bits (64 inputs per teacher instead of 65,536), so a student
learns both teachers in seconds; network, routing, trainer and scores are the task's own.
"""
import dataclasses

import numpy as np
import pytest

from modbench.archs import ARCHS
from modbench.harness import RunSpec, prepare, run_one
from modbench.tasks import TASKS
from modbench.tasks.teacher import TeacherSpecialize, teacher_labels, teacher_weights
from test_planted import SMALL  # the planted tests' settings: both functions learned, masks settled in seconds


class SmallTeacher(TeacherSpecialize):
    name, n_bits, archs = "small_teacher_specialize", 6, ("small_teacher_split", "fnn")
    contract = dataclasses.replace(TeacherSpecialize.contract, n_in=6 + 2)
    n_columns = 6 + 1 + 2




@pytest.fixture(scope="module")
def small_teacher():
    """The 6-bit task and a planted_split student for it, registered for this module only."""
    TASKS._entries[SmallTeacher.name] = SmallTeacher
    ARCHS._entries["small_teacher_split"] = dataclasses.replace(
        ARCHS.get("planted_split"), name="small_teacher_split", tasks=(SmallTeacher.name,))
    yield
    TASKS._entries.pop(SmallTeacher.name)
    ARCHS._entries.pop("small_teacher_split")


@pytest.fixture(scope="module")
def task():
    return TASKS.get("teacher_specialize")()


def test_each_subfunction_is_labelled_by_its_own_teacher_only(task):
    problems = task._problems["valid"]
    bits, flag, digits = problems[:, :16], problems[:, 16], problems[:, 17:]
    teachers = [teacher_labels(teacher_weights(task.name, task.version, i), bits) for i in range(2)]
    for i in range(2):
        assert (digits[flag == i] == teachers[i][flag == i]).all()
    # The teachers differ on most inputs, so the flag matters: one network per teacher is needed.
    assert (teachers[0] != teachers[1]).any(-1).mean() > 0.8


def test_teachers_are_fixed_by_the_tasks_identity_not_the_run(task):
    again = TASKS.get("teacher_specialize")()
    assert task.fingerprints() == again.fingerprints()
    first, bumped = teacher_weights(task.name, 1, 0), teacher_weights(task.name, 2, 0)
    assert not np.allclose(first[0], bumped[0])  # a new version draws new teachers


def test_labels_are_not_degenerate(task):
    # a teacher that answered one digit everywhere would be learned without modules
    assert max(task.chance("f"), task.chance("g")) < 0.3


def test_a_student_of_the_teachers_layout_recovers_the_decomposition(small_teacher):
    run = prepare(RunSpec("small_teacher_split", SmallTeacher.name, "smoke", 0, SMALL, device="cpu"))
    result, _ = run_one(run)
    assert min(result["accuracy"]["full"].values()) >= 0.95
    s = result["scores"]
    # Answer 1; tolerance 0.1 as in test_planted (500 mask steps leave n(f | M_f) a little short).
    assert s["p_specialize"] >= 0.9
    # Each mask keeps its own teacher's module and none of the other's: IoU 1 (0.1 for the weights
    # of its own module the mask may prune, which lowers IoU but not precision).
    for f in ("f", "g"):
        assert s[f"recovery_precision/{f}"] == 1.0
        assert s[f"recovery_iou/{f}"] >= 0.9
    assert result["details"]["known_answers"] == {"p_specialize": 1.0}


def test_students_without_planted_modules_get_no_recovery_score(small_teacher):
    run = prepare(RunSpec("fnn", SmallTeacher.name, "smoke", 0, SMALL, device="cpu"))
    result, _ = run_one(run)
    assert not any(name.startswith("recovery_") for name in result["scores"])
    assert result["scores"]["p_specialize"] is not None  # the student is scored all the same
