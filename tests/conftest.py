"""Session guard: the tests must exercise the checkout they belong to.

qasr is usually installed editable from some checkout. Run from a copy of the repository (a
second worktree, the mutation lane's temporary copy), `python3 -m pytest` would import whichever
checkout is installed unless `src` comes first on the path (pyproject's `pythonpath`), and every
test would pass against code it never looked at. This hook stops the run instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

REPOSITORY = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    import qasr

    expected = REPOSITORY / "src" / "qasr"
    imported = Path(qasr.__file__).resolve().parent
    if imported != expected:
        raise pytest.UsageError(
            f"these tests belong to {REPOSITORY} but imported qasr from {imported}; put "
            "'src' first on the path (pyproject's pytest `pythonpath`) or reinstall from here"
        )


# Timing belongs to the benchmark-style tests that say so; on a shared 2-core machine hypothesis'
# default 200 ms deadline per example fails correct code at random.
settings.register_profile("qasr", deadline=None)
settings.load_profile("qasr")
