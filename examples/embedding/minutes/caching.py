"""A recognizer that remembers: the same audio with the same options is decoded once.

Batch jobs re-run on the same files, and recordings share pieces (a jingle that opens every
episode, a chunk of silence): each costs a model call only the first time.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

from qasr.domain import AudioClip, RecognitionOptions, Transcript
from qasr.ports import Recognizer

Key = tuple[bytes, RecognitionOptions]


def request_key(clip: AudioClip, options: RecognitionOptions) -> Key:
    """What a transcript depends on: the samples, their rate and the options (not the name)."""
    digest = hashlib.blake2b(clip.samples.tobytes(), digest_size=16)
    digest.update(clip.sample_rate.to_bytes(4, "little"))
    return digest.digest(), options


class CachingRecognizer:
    """Wraps any `Recognizer`; keeps the `max_entries` most recently used transcripts.

    Requests it has not seen, each once even when a batch repeats it, go to the wrapped
    recognizer in one call, in order; the answers come back in the caller's order. `misses`
    counts requests passed on, `hits` answers served from earlier calls.
    """

    def __init__(self, inner: Recognizer, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.inner = inner
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._cache: OrderedDict[Key, Transcript] = OrderedDict()

    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        if len(clips) != len(options):
            raise ValueError(f"{len(clips)} clips but {len(options)} options; give one each")
        keys = [request_key(clip, option) for clip, option in zip(clips, options, strict=True)]
        answers = {key: self._cache[key] for key in keys if key in self._cache}
        self.hits += sum(key in answers for key in keys)
        first_asked: dict[Key, int] = {}
        for index, key in enumerate(keys):
            if key not in answers:
                first_asked.setdefault(key, index)
        order = list(first_asked.values())
        if order:
            fresh = self.inner.recognize([clips[i] for i in order], [options[i] for i in order])
            answers.update(zip((keys[i] for i in order), fresh, strict=True))
            self.misses += len(order)
        for key in keys:  # newest last, so the oldest are evicted first
            self._cache[key] = answers[key]
            self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return [answers[key] for key in keys]
