"""The dependency rule of docs/adr/0001: app -> adapters -> ports -> domain, heavy imports late."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "src" / "qasr" / "app"
HEAVY = ("mlx", "torch", "ffmpeg", "huggingface_hub", "transformers", "pyannote", "safetensors")


def test_import_linter_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports")
    if lint_imports is None:
        pytest.skip("import-linter is not installed (pip install 'qasr[dev]')")
    run = subprocess.run(
        [lint_imports], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def imported_modules(path: Path) -> list[str]:
    """Every module a file imports, at any depth (function-local imports included)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and str(node.value).startswith("qasr.adapters"):
            names.append(str(node.value))  # importlib.import_module("qasr.adapters...")
    return names


@pytest.mark.parametrize(
    "module", sorted(p.name for p in APP.glob("*.py") if p.name != "bootstrap.py")
)
def test_only_the_composition_root_imports_adapters(module: str) -> None:
    adapters = [name for name in imported_modules(APP / module) if name.startswith("qasr.adapters")]
    assert adapters == [], f"app/{module} imports {adapters}; go through app/bootstrap.py"


def test_the_ast_check_sees_function_local_imports(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from qasr.adapters.mlx import backend\n", encoding="utf-8")
    assert "qasr.adapters.mlx" in imported_modules(sneaky)


@pytest.mark.parametrize("module", ["qasr", "qasr.app", "qasr.app.entry.cli", "qasr.testing"])
def test_importing_loads_no_heavy_dependency(module: str) -> None:
    probe = (
        f"import sys, {module}; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout.strip() == "[]", f"import {module} loaded {run.stdout.strip()}"
