"""CachingRecognizer against qasr's fake recognizer: the same answers, fewer model calls."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qasr.domain import AudioClip, RecognitionOptions
from qasr.testing import FakeRecognizer, noisy_tone_clip
from qasr.testing import strategies as qs

from minutes import CachingRecognizer

Request = tuple[AudioClip, RecognitionOptions]
# Few distinct clips, so batches repeat requests as real jobs do.
requests = st.lists(
    st.tuples(st.sampled_from([noisy_tone_clip(0.5, seed=seed) for seed in range(4)]),
              qs.recognition_options(max_new_tokens=3)),
    max_size=6,
)  # fmt: skip
PLAIN = RecognitionOptions()


def split(batch: list[Request]) -> tuple[list[AudioClip], list[RecognitionOptions]]:
    return [clip for clip, _ in batch], [option for _, option in batch]


@given(batches=st.lists(requests, max_size=4), room=st.integers(1, 8))
def test_answers_are_the_wrapped_recognizers_whatever_was_asked_before(
    batches: list[list[Request]], room: int
) -> None:
    plain, cached = FakeRecognizer(), CachingRecognizer(FakeRecognizer(), max_entries=room)
    for batch in batches:
        assert cached.recognize(*split(batch)) == plain.recognize(*split(batch))


@given(batch=requests)
def test_each_distinct_request_reaches_the_model_once(batch: list[Request]) -> None:
    model = FakeRecognizer()
    cached = CachingRecognizer(model)
    clips, options = split(batch)
    cached.recognize(clips + clips, options + options)
    cached.recognize(clips, options)
    asked = [clip for call in model.calls for clip in call]
    assert len(asked) == cached.misses == len(set(batch))
    assert cached.hits == len(batch)


def test_a_full_cache_forgets_the_least_recently_used() -> None:
    cached = CachingRecognizer(FakeRecognizer(), max_entries=2)
    first, second, third = (noisy_tone_clip(0.5, seed=seed) for seed in range(3))
    for clip in (first, second, first, third):  # `second` is now the least recently used
        cached.recognize([clip], [PLAIN])
    assert cached.misses == 3
    cached.recognize([first], [PLAIN])
    assert cached.misses == 3
    cached.recognize([second], [PLAIN])
    assert cached.misses == 4


def test_the_options_are_part_of_the_request() -> None:
    cached = CachingRecognizer(FakeRecognizer())
    clip = noisy_tone_clip(2.0)
    [full] = cached.recognize([clip], [PLAIN])
    [cut] = cached.recognize([clip], [RecognitionOptions(max_new_tokens=1)])
    assert cut != full and cached.misses == 2


def test_mismatched_options_are_refused() -> None:
    with pytest.raises(ValueError, match="2 clips but 1 options"):
        CachingRecognizer(FakeRecognizer()).recognize([noisy_tone_clip(0.5)] * 2, [PLAIN])
