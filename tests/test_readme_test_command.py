"""The README's test command is what CI runs on a fresh machine, so following it gives CI's result:
the system tools the tests look for, both official references, and the reference-BLAS lane."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
# Debian's package for each program the tests look up with shutil.which.
PACKAGE_OF = {"ffmpeg": "ffmpeg", "espeak-ng": "espeak-ng", "sox": "sox"}


def ci_commands() -> list[str]:
    """.ci/run's commands, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", CI)
    return [line.split("#", 1)[0].strip() for line in joined.splitlines() if line.strip()]


def test_the_readme_test_command_is_the_ci_script() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    top_block = readme.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert top_block[1].split("#", 1)[0].strip() == "bash .ci/run"


def test_ci_installs_every_program_the_tests_look_for() -> None:
    looked_up = set()
    for path in (ROOT / "tests").rglob("*.py"):
        looked_up |= set(re.findall(r'which\("([\w-]+)"\)', path.read_text(encoding="utf-8")))
    looked_up -= {"lint-imports"}  # a Python tool of the dev extra
    assert looked_up <= set(PACKAGE_OF), f"add the Debian package of {looked_up - set(PACKAGE_OF)}"
    [install] = [c for c in ci_commands() if "apt-get install" in c]
    packages = set(install.split("apt-get install", 1)[1].split()) - {"-y", "-qq", ">/dev/null"}
    assert {PACKAGE_OF[name] for name in looked_up} | {"libopenblas0-pthread"} <= packages


def test_ci_installs_qasr_and_both_references_then_runs_every_test() -> None:
    commands = ci_commands()
    [install] = [c for c in commands if c.startswith('python3 -m pip install -q -e ".[')]
    extras = install.split("[", 1)[1].split("]", 1)[0].split(",")
    assert {"cpu", "dev"} <= set(extras), install  # and the extras whose tests need packages
    for step in (
        "bash scripts/install-reference.sh",  # qwen-asr: tests/parity
        "bash scripts/install-reference-hf.sh",  # transformers 5: tests/parity_hf
        "python3 -m pytest",
    ):
        assert step in commands, step
    assert commands.index("python3 -m pytest") > commands.index(
        "bash scripts/install-reference-hf.sh"
    )


def test_ci_runs_the_training_equality_tests_under_the_reference_blas() -> None:
    [lane] = [c for c in ci_commands() if c.startswith("QASR_BLAS=none ")]
    tested = [word for word in lane.split() if word.startswith("tests/")]
    assert "tests/training/test_compact_vocab.py" in tested
    assert all((ROOT / path).is_file() for path in tested)


def test_ci_runs_the_long_lane_after_the_default_run() -> None:
    commands = ci_commands()
    assert commands.index("python3 -m pytest -m lane") > commands.index("python3 -m pytest")
    marked = [
        path
        for path in (ROOT / "tests").rglob("test_*.py")
        if "@pytest.mark.lane" in path.read_text(encoding="utf-8")
    ]
    assert marked, "no test is in the lane: drop its CI step or the marker"
