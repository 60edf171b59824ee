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
    "module",
    sorted(str(p.relative_to(APP)) for p in APP.rglob("*.py") if p.name != "bootstrap.py"),
)
def test_only_the_composition_root_imports_adapters(module: str) -> None:
    concrete = [
        name
        for name in imported_modules(APP / module)
        if name.startswith(("qasr.adapters", "qasr.training"))
    ]
    assert concrete == [], f"app/{module} imports {concrete}; go through app/bootstrap.py"


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


# A meta-path finder that makes `import mlx` fail, as on a machine without MLX installed.
NO_MLX = """
import sys
class NoMlx:
    def find_spec(self, name, path=None, target=None):
        if name == "mlx" or name.startswith("mlx."):
            raise ModuleNotFoundError("No module named 'mlx' (blocked by the test)")
sys.meta_path.insert(0, NoMlx())
"""


def test_the_mlx_free_parts_work_without_mlx(tmp_path: Path) -> None:
    """`import qasr`, the domain, the writers, the tokenizer, model resolution and the testing kit
    need no MLX: a server or batch driver process must not (issue 12)."""
    from tests.support.qwen_vocab import write_qwen_tokenizer_files

    folder = write_qwen_tokenizer_files(tmp_path / "model")
    probe = (
        NO_MLX
        + f"""
import qasr, qasr.domain, qasr.testing, qasr.testing.contracts
from qasr.adapters.writers import get_writer, render
from qasr.adapters.mlx.text.tokenizer import Tokenizer
from qasr.adapters.mlx.checkpoint.files import resolve_model_folder
from qasr.domain import Segment, Transcript
folder = resolve_model_folder({str(folder)!r})
ids = Tokenizer.from_folder(folder).encode("hello world")
transcript = Transcript(text="hello", segments=(Segment("hello", 0.0, 0.5),), duration=1.0)
print(len(ids), render(get_writer("srt"), transcript).splitlines()[2])
try:
    import qasr.adapters.mlx.backend
except Exception as error:
    print(type(error).__name__)
"""
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["2", "hello", "MissingExtraError"]
