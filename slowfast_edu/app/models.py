"""Renamed `menu.py` (it clashed with the `slowfast_edu.models` package). This alias stays only
until notebook 10 imports `slowfast_edu.app.menu`; new code should not use it."""

from .menu import DEFAULT_LABEL, KINETICS_LABEL, AppModel, available_models

__all__ = ["DEFAULT_LABEL", "KINETICS_LABEL", "AppModel", "available_models"]
