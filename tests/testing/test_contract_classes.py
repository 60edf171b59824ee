"""A user's test module that subclasses a shipped suite, run by pytest as a user would run it."""

from __future__ import annotations

import pytest

USER_TESTS = '''
import numpy as np
from qasr.domain import AudioClip
from qasr.testing import FakeRecognizer, is_silent
from qasr.testing.contracts import RecognizerContract


class Deaf(FakeRecognizer):
    """Hears only whether there is sound, not what it is."""

    def recognize(self, clips, options):
        flat = [AudioClip(np.full(c.num_samples, 0.1 * (not is_silent(c)))) for c in clips]
        return super().recognize(flat, options)


class TestDeaf(RecognizerContract):
    max_examples = 5

    def make_recognizer(self):
        return Deaf()


class TestDeafWithAWaiver(RecognizerContract):
    max_examples = 5
    test_different_audio_gives_different_text = None  # waived: this one cannot tell tones apart

    def make_recognizer(self):
        return Deaf()
'''


def test_a_subclass_is_collected_run_and_explained(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=16, failed=1)  # 9 checks, and 8 after the waiver
    result.stdout.fnmatch_lines(
        [
            "E * every sample clip gave the same text*",
            "E *where 1 = len(*",  # pytest's rewritten assert explains the suite's failure
            "FAILED *TestDeaf::test_different_audio_gives_different_text*",
        ]
    )


def test_a_suite_that_is_not_subclassed_runs_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="from qasr.testing.contracts import RecognizerContract\n")
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes()
