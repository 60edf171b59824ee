"""What every contract suite shares: drawn examples, and running the checks without pytest.

A suite is a class of `test_*` methods whose arguments are pytest fixtures the suite defines
itself (the adapter, and for audio sources a sample file). pytest runs a subclass named `Test...`
like any test class; `run_suite` calls the same methods directly, for a one-line check.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings


class ContractViolation(AssertionError):
    """An adapter broke its port's contract; the message lists every failed check."""


class ContractSuite:
    """Base of the shipped suites. `max_examples` is how many drawn examples each property
    check runs: lower it for an adapter that is slow per call (a real model)."""

    max_examples: ClassVar[int] = 20

    def for_all(self, **strategies: Any) -> Callable[[Callable[..., None]], Callable[[], None]]:
        """Turn a check of drawn values into one hypothesis run of `max_examples` examples.

        Built per call, not at class definition, so a subclass's `max_examples` counts and a
        slow adapter's examples are never cut short by hypothesis's deadline.
        """

        def decorate(check: Callable[..., None]) -> Callable[[], None]:
            run: Callable[[], None] = settings(max_examples=self.max_examples, deadline=None)(
                given(**strategies)(check)
            )
            return run

        return decorate


def run_suite(suite: type[ContractSuite], fixtures: Mapping[str, Any]) -> None:
    """Run every `test_*` of `suite` with arguments taken from `fixtures` by name.

    Raises `ContractViolation` naming each failed check; a check that skips itself
    (`pytest.skip`) is not a failure. A check set to None in a subclass is waived.
    """
    instance = suite()
    failures: list[str] = []
    for name in sorted(name for name in dir(suite) if name.startswith("test_")):
        check = getattr(instance, name)
        if check is None:
            continue
        arguments = {
            parameter: fixtures[parameter] for parameter in inspect.signature(check).parameters
        }
        try:
            check(**arguments)
        except pytest.skip.Exception:
            continue
        # pytest.fail (a failed pytest.raises) is no Exception; every failure is reported.
        except (Exception, pytest.fail.Exception) as error:
            failures.extend(f"{name}: {problem}" for problem in _describe(error))
    if failures:
        raise ContractViolation(
            f"{len(failures)} check(s) of {suite.__name__} failed:\n" + "\n".join(failures)
        )


def _describe(error: BaseException) -> list[str]:
    """One line per failure, with hypothesis's falsifying example indented below it; a group
    (hypothesis found several distinct failures) gives each of its failures."""
    group = getattr(error, "exceptions", None)
    if group:
        return [problem for part in group for problem in _describe(part)]
    notes = "".join(
        f"\n    {line}" for note in getattr(error, "__notes__", ()) for line in note.splitlines()
    )
    return [f"{type(error).__name__}: {error}".rstrip() + notes]
