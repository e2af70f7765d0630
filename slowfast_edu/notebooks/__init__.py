"""The course notebooks: the student version without solutions, and the clips they show."""

from .clips import data_samples_dir, lesson_clip, real_clips_dir, sample_clip
from .student import (BEGIN, END, SolutionMarkerError, add_notebooks_arguments, clear_outputs,
                      is_exercise_cell, list_notebooks, make_student_version, strip_solution,
                      student_notebook)

__all__ = [
    "BEGIN", "END", "SolutionMarkerError", "add_notebooks_arguments", "clear_outputs",
    "data_samples_dir", "is_exercise_cell", "lesson_clip", "list_notebooks",
    "make_student_version", "real_clips_dir", "sample_clip", "strip_solution", "student_notebook",
]
