"""Make the repository's packages importable when the project is not installed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]

if importlib.util.find_spec("domain") is None:
    sys.path.insert(0, str(_ROOT))
