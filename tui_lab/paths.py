"""Where dllab keeps its files: `DLLAB_HOME`, or the user's data directory. No other imports.

Kept apart from `runs` so that `data` (which needs the data folder) and `runs` (which needs the
store's path) both depend on it and not on each other.
"""

from __future__ import annotations

import os
from pathlib import Path


def dllab_home() -> Path:
    env = os.environ.get("DLLAB_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("dllab", appauthor=False))
