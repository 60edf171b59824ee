"""A committed window's text voted among decodings with other lead silence (issue 15)."""

from __future__ import annotations

import numpy as np

from qasr.app.use_cases.streaming import CommittedText, StreamingEngine, StreamSettings
from qasr.app.use_cases.streaming.vote import nearest_to_all, word_edits, words
from qasr.domain import AudioClip, RecognitionOptions, Transcript, find_language

RATE = 16000
ENGLISH = find_language("English")


def test_words_ignore_case_and_punctuation() -> None:
    assert words("The mistake, cost 'em!") == ["the", "mistake", "cost", "'em"]


def test_word_edits_count_substitutions_insertions_and_deletions() -> None:
    assert word_edits(["a", "b", "c"], ["a", "x", "c", "d"]) == 2
    assert word_edits([], ["a", "b"]) == 2
    assert word_edits(["a", "b"], ["a", "b"]) == 0


def test_the_text_nearest_the_others_wins_and_a_tie_keeps_the_first() -> None:
    assert nearest_to_all(["an bottle is", "the bottle is", "the bottle is."]) == 1
    assert nearest_to_all(["one", "two", "three"]) == 0
    # Not a majority vote: the middle one of three different texts is nearest to both others.
    assert nearest_to_all(["a b c d", "a b c", "a b"]) == 1


class LeadSensitive:
    """Says "wrong" for exactly 0.3 s of silence before the tone, "right" otherwise (a model
    whose words change with the padding); notes each call's audio."""

    def __init__(self) -> None:
        self.calls: list[np.ndarray] = []

    def decode(self, clip: AudioClip, options: RecognitionOptions) -> Transcript:
        self.calls.append(clip.samples)
        loud = np.flatnonzero(np.abs(clip.samples) > 0.05)
        lead = loud[0] / RATE if len(loud) else 0.0
        return Transcript("wrong" if abs(lead - 0.3) < 0.03 else "right", language=ENGLISH)


def sentence(lead: float) -> np.ndarray:
    tone = 0.3 * np.sin(2 * np.pi * 200 * np.arange(RATE // 2) / RATE)
    parts = [np.zeros(int(lead * RATE)), tone, np.zeros(RATE)]
    return np.concatenate(parts).astype(np.float32)


def commit(audio: np.ndarray, **settings: object) -> tuple[str, LeadSensitive]:
    model = LeadSensitive()
    engine = StreamingEngine(model.decode, settings=StreamSettings(**settings))  # type: ignore[arg-type]
    engine.feed(audio)
    model.calls.clear()  # the partial steps' calls
    events = engine.finish()
    texts = [event.text for event in events if isinstance(event, CommittedText)]
    return " ".join(texts), model


def test_a_commit_keeps_the_text_that_the_other_paddings_agree_on() -> None:
    text, model = commit(sentence(1.0))
    assert text == "right"  # 0.3 s says "wrong", 0.2 s and 0.4 s say "right"
    assert len(model.calls) == 3


def test_without_vote_margins_a_commit_is_one_decoding() -> None:
    text, model = commit(sentence(1.0), vote_margins=())
    assert (text, len(model.calls)) == ("wrong", 1)


def test_a_margin_that_leaves_the_same_audio_costs_no_call_and_still_votes() -> None:
    # 0.25 s before the speech: 0.3 s and 0.4 s both keep all of it (one decoding, two votes).
    text, model = commit(sentence(0.25), vote_margins=(0.4, 0.2))
    assert len(model.calls) == 2
    assert text == "right"  # 0.25 s of lead is not the 0.3 s the model fails on
