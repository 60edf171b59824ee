"""The README's benchmark tables are the committed JSONs' numbers (scripts/readme_tables.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tables_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_tables", ROOT / "scripts/readme_tables.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("readme_tables", module)
    spec.loader.exec_module(module)
    return module


def test_the_readme_tables_match_the_benchmark_files() -> None:
    readme = (ROOT / "README.md").read_text()
    assert tables_module().rendered(readme) == readme, "run python scripts/readme_tables.py"


def test_a_changed_number_is_put_back_and_missing_markers_are_an_error() -> None:
    module = tables_module()
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- table:h200-0.6b -->")
    row = readme.index("| 0.6B", start)
    stale = readme[:row] + "| 0.6B made up | 1 ms | 2 ms | 2.0x |\n" + readme[row:]
    assert module.rendered(stale) == readme
    with pytest.raises(SystemExit, match=r"no <!-- table:h200-0\.6b --> markers"):
        module.rendered(readme.replace("<!-- table:h200-0.6b -->", ""))
