"""Renamed `analysis.py` (it clashed with `slowfast_edu.models.inference`). This alias stays only
until notebook 10 imports `slowfast_edu.app.analysis`; new code should not use it."""

from .analysis import MAX_SECONDS, Result, analyse

__all__ = ["MAX_SECONDS", "Result", "analyse"]
