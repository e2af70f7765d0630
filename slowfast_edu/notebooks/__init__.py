"""The course notebooks: their structure, the student version, grading, and the clips they show.

Importing this package is light; the parts that need nbformat or IPython load them when used.
`slowfast-edu notebooks ...` is parsed in `commands.py` (the CLI; nothing else imports it).
"""

from __future__ import annotations

from .clips import data_samples_dir, lesson_clip, real_clips_dir, sample_clip
from .course import (ANSWER, BEGIN, END, Exercise, Question, SolutionMarkerError, exercises,
                     is_answer_cell, is_exercise_cell, list_notebooks, numbering_errors,
                     questions, renumber)
from .scratch import scratch_folder
from .student import (STUDENT_DIR, answer_texts, clear_outputs, is_student_notebook,
                      make_student_version, strip_solution, student_notebook)

__all__ = [
    "ANSWER", "BEGIN", "END", "STUDENT_DIR", "Exercise", "Question", "SolutionMarkerError",
    "answer_texts", "clear_outputs", "data_samples_dir", "exercises",
    "is_answer_cell", "is_exercise_cell", "is_student_notebook", "lesson_clip", "list_notebooks",
    "make_student_version", "numbering_errors", "questions", "real_clips_dir", "renumber",
    "sample_clip", "scratch_folder", "strip_solution", "student_notebook",
]
