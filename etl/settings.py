"""ETL limits read from the app config inside the app, else from the environment (scripts)."""
from __future__ import annotations

import os


def configured(name: str):
    """The setting's value from the app config or the environment; None when set in neither."""
    value = None
    try:
        from flask import current_app, has_app_context

        if has_app_context():
            value = current_app.config.get(name)
    except ImportError:  # used outside the app (scripts): the environment decides
        pass
    if value in (None, ""):
        value = os.environ.get(name)
    return None if value in (None, "") else value
