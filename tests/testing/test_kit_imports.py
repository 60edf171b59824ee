"""The testing kit imports where MLX and torch cannot be: a server's or a user's test process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
BLOCKED = ("mlx", "torch")
HEAVY = (*BLOCKED, "ffmpeg", "huggingface_hub", "transformers", "safetensors", "qwen_asr")

# A finder first on sys.meta_path that fails every import of a blocked package, as on a machine
# where it is not installed (or is broken).
PROBE = f"""
import sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError(f"No module named {{name!r}} (blocked by the test)")
sys.meta_path.insert(0, Absent())
try:
    import mlx
except ImportError:
    pass
else:
    raise SystemExit("the block did not work")
import qasr
import qasr.testing
import qasr.testing.contracts
import qasr.testing.strategies
from qasr.testing.contracts import check_writer
from qasr.adapters.writers import writers_for
for writer in writers_for("all"):
    check_writer(writer, max_examples=5)
print(sorted({{name.split(".")[0] for name in sys.modules}} & set({HEAVY!r})))
"""


def test_the_kit_imports_and_runs_with_mlx_and_torch_absent() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", f"the kit loaded {run.stdout.strip()}"


def test_without_pytest_the_kit_says_what_to_install() -> None:
    probe = (
        "import sys\n"
        "class Absent:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'pytest':\n"
        "            raise ImportError(name=name)\n"
        "sys.meta_path.insert(0, Absent())\n"
        "import qasr.testing\n"  # the fakes need neither pytest nor hypothesis
        "import qasr.testing.contracts\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert run.returncode != 0
    assert 'pip install "qasr[dev]"' in run.stderr and "pytest is missing" in run.stderr, run.stderr
