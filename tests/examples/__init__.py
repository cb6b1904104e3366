"""Tests of the embedding examples in examples/: each program runs in-process under mocks."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(folder: str, module: str) -> ModuleType:
    """Import ``examples/FOLDER/MODULE.py`` by its path (the folder names hold dashes)."""
    path = EXAMPLES / folder / f"{module}.py"
    spec = importlib.util.spec_from_file_location(f"examples_{module}", path)
    assert spec is not None and spec.loader is not None, path
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded
    spec.loader.exec_module(loaded)
    return loaded
