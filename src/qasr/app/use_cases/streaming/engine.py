"""The streaming engine: audio in pieces of any size in, partial and committed text out.

Every `step_seconds` the open window is decoded again from its start, with the text of the
previous step minus its last `rollback_tokens` tokens forced as a prefix (the official Qwen3-ASR
recipe: the model rewrites only the tentative tail, so it keeps the context of a whole window
while the shown text stays stable). A window is committed at the quietest point of its last
`search_seconds` before `window_seconds`, or, with `commit_after_silence`, at the first long
pause; the next window starts there with the language carried over. Decode points depend only
on the audio, never on how it was cut into pieces, and each update decodes at most one window
(plus the commit's), so the work per update is bounded however long the stream runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs
import numpy as np
import numpy.typing as npt

from qasr.app.use_cases.merging import join_chunk_texts, vote_language, worst_finish
from qasr.app.use_cases.streaming.events import (
    CommittedText,
    FinalTranscript,
    PartialText,
    StreamClosedError,
    StreamEvent,
    StreamSettings,
    StreamTooLongError,
)
from qasr.app.use_cases.streaming.pieces import as_piece
from qasr.app.use_cases.streaming.vad import has_speech, last_pause, quietest_point, trim_silence
from qasr.app.use_cases.streaming.vote import nearest_to_all
from qasr.domain import (
    SAMPLE_RATE,
    AudioClip,
    ChunkRecord,
    FinishReason,
    Language,
    RecognitionOptions,
    Transcript,
    find_language,
)
from qasr.ports import ContinuationOptions, PrefixRecognizer

Decode = Callable[[AudioClip, RecognitionOptions], Transcript]


@attrs.frozen
class UpdateCost:
    """One recognizer call: where the audio decoded ended (s), how much audio, how long it took."""

    audio_end: float
    audio_seconds: float
    compute_seconds: float


@attrs.frozen
class _Hypothesis:
    end: int  # window-relative sample the decoded audio ended at
    text: str
    language: Language | None
    finish_reason: FinishReason = FinishReason.STOP
    prefix: str = ""


class StreamingEngine:
    """Not thread-safe: one feeder at a time (the session's handle serialises).

    `reuse_work`: the recognizer may reuse the work its steps share (the encoder output of
    complete windows, the KV cache of the prompt's shared rows); the events are the same.
    """

    def __init__(
        self,
        decode: Decode,
        *,
        tokens: PrefixRecognizer | None = None,
        settings: StreamSettings | None = None,
        language: str | Language | None = None,
        context: str = "",
        clock: Callable[[], float] = time.perf_counter,
        reuse_work: bool = True,
    ) -> None:
        self.settings = settings or StreamSettings()
        self._reuse = reuse_work
        self._decode_clip = decode
        self._tokens = tokens if getattr(tokens, "continues_prefix", False) else None
        self._context = context
        self._forced = find_language(language) if language else None
        self._language = self._forced
        self._clock = clock
        self._step = round(self.settings.step_seconds * SAMPLE_RATE)
        self._limit = round(self.settings.window_seconds * SAMPLE_RATE)
        self._search = round(self.settings.search_seconds * SAMPLE_RATE)
        self._window: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self._window_start = 0
        self._pending: list[npt.NDArray[np.float32]] = []
        self._pending_samples = 0
        self._next_at = self._step
        self._history: list[_Hypothesis] = []
        self._records: list[ChunkRecord] = []
        self._received = 0
        self.closed = False
        self.costs: list[UpdateCost] = []

    @property
    def received_seconds(self) -> float:
        return self._received / SAMPLE_RATE

    @property
    def committed_text(self) -> str:
        return join_chunk_texts(self._records)

    def feed(self, samples: object) -> list[StreamEvent]:
        """Take one piece (16 kHz mono); return the events its audio completed."""
        if self.closed:
            raise StreamClosedError("this stream is finished; start a new one to feed more audio")
        piece = as_piece(samples)
        limit = self.settings.max_seconds
        if limit is not None and (self._received + len(piece)) / SAMPLE_RATE > limit:
            raise StreamTooLongError(f"the stream is longer than its limit of {limit:g} s")
        self._received += len(piece)
        if len(piece):
            self._pending.append(piece)
            self._pending_samples += len(piece)
        if len(self._window) + self._pending_samples < self._next_at:
            return []  # pieces wait in a list: tiny pieces must not copy the window each time
        self._gather()
        events: list[StreamEvent] = []
        while len(self._window) >= self._next_at:
            events += self._update(self._next_at)
        return events

    def _gather(self) -> None:
        if self._pending:
            self._window = np.concatenate([self._window, *self._pending])
            self._pending, self._pending_samples = [], 0

    def flush(self) -> list[StreamEvent]:
        """Commit the open window now (a client's commit, or the end of the audio)."""
        if self.closed:
            raise StreamClosedError("this stream is finished")
        self._gather()
        end = len(self._window)
        if end == 0:
            return []
        last = self._history[-1] if self._history else None
        reusable = last is not None and last.end == end and not self.settings.free_commit
        hypothesis = last if reusable and last is not None else self._decode(end, final=True)
        committed = self._commit(end, hypothesis)
        self._next_at = self._step
        return [committed]

    def discard(self) -> None:
        """Drop the open window's audio and text uncommitted (a client's buffer clear)."""
        self._gather()
        self._window_start += len(self._window)
        self._window = np.zeros(0, dtype=np.float32)
        self._history = []
        self._next_at = self._step

    @property
    def pending_seconds(self) -> float:
        """Audio of the open window, not committed yet."""
        return (len(self._window) + self._pending_samples) / SAMPLE_RATE

    def finish(self) -> list[StreamEvent]:
        """Commit what is left and end the stream with the whole transcript."""
        events = self.flush()
        self.closed = True
        return [*events, FinalTranscript(self.transcript())]

    def transcript(self) -> Transcript:
        records = tuple(self._records)
        return Transcript(
            text=join_chunk_texts(records),
            language=vote_language([record.language for record in records]),
            chunks=records,
            finish_reason=worst_finish([record.finish_reason for record in records]),
            duration=self.received_seconds,
        )

    def _update(self, end: int) -> list[StreamEvent]:
        if end > self._limit:
            return self._commit_at_limit(end)
        hypothesis = self._decode(end)
        self._next_at = end + self._step
        events: list[StreamEvent] = [self._partial(hypothesis)]
        pause = self.settings.commit_after_silence
        if pause is not None and hypothesis.text:
            found = last_pause(self._window[:end], self.settings.silence_level, pause)
            if found is not None:
                cut, seen = self._pause_cut(*found)
                events += self._commit_then_continue(cut, end, hypothesis, seen)
        return events

    def _pause_cut(self, start: int, stop: int) -> tuple[int, int]:
        """Where a pause [start, stop) ends the window, and how much of it the commit decodes.

        The model learnt from single utterances with their own silence around them (about
        0.3 s before, 0.7 s after the speech): the next window starts `silence_margin` before
        the pause's end, so its speech has that much silence before it, and the committed window
        is decoded with the pause up to its end (trimmed to `tail_margin`), not cut at its middle
        where the words' tail may still be (a slight overlap of the two windows' silence)."""
        middle = (start + stop) // 2
        lead = self.settings.silence_margin
        if lead is None:
            return middle, middle
        return max(middle, stop - round(lead * SAMPLE_RATE)), stop

    def _commit_at_limit(self, end: int) -> list[StreamEvent]:
        cut = quietest_point(self._window, self._limit - self._search, self._limit)
        return self._commit_then_continue(cut, end, None)

    def _commit_then_continue(
        self, cut: int, end: int, decoded: _Hypothesis | None, seen: int | None = None
    ) -> list[StreamEvent]:
        """Commit [0, cut), decoded from the audio up to `seen` (default `cut`: silence only
        lies between them), and decode the audio after `cut`, which opens the next window."""
        seen = cut if seen is None else seen
        reusable = decoded is not None and decoded.end == seen and not self.settings.free_commit
        final = decoded if reusable and decoded is not None else self._decode(seen, final=True)
        events: list[StreamEvent] = [self._commit(cut, final)]
        rest = end - cut
        if rest > 0:
            events.append(self._partial(self._decode(rest)))
        self._next_at = rest + self._step
        return events

    def _partial(self, hypothesis: _Hypothesis) -> PartialText:
        return PartialText(
            hypothesis.text,
            self._window_start / SAMPLE_RATE,
            (self._window_start + hypothesis.end) / SAMPLE_RATE,
            hypothesis.language,
            hypothesis.prefix,
        )

    def _commit(self, cut: int, hypothesis: _Hypothesis) -> CommittedText:
        start = self._window_start / SAMPLE_RATE
        end = (self._window_start + cut) / SAMPLE_RATE
        record = ChunkRecord(
            index=len(self._records),
            start=start,
            end=end,
            text=hypothesis.text,
            language=hypothesis.language,
            finish_reason=hypothesis.finish_reason,
        )
        self._records.append(record)
        self._window = self._window[cut:].copy()
        self._window_start += cut
        self._history = []
        return CommittedText(hypothesis.text, start, end, hypothesis.language, record.index)

    def _decode(self, end: int, *, final: bool = False) -> _Hypothesis:
        audio = self._window[:end]
        if not has_speech(audio, self.settings.silence_level):
            hypothesis = _Hypothesis(end, "", None)  # no model call for silence
            self._history.append(hypothesis)
            return hypothesis
        # A commit decodes its window afresh (`free_commit`): the text kept is then exactly the
        # offline decoding of that audio, not one steered by a guess made on less of it.
        prefix = "" if final and self.settings.free_commit else self._prefix(end)
        trimmed = self._trim(audio, self.settings.silence_margin, final)
        result = self._call(trimmed, prefix, end)
        margins = self.settings.vote_margins
        if final and not prefix and margins and self.settings.silence_margin is not None:
            result = self._vote(audio, trimmed, result, end)
        if self._language is None and result.language is not None:
            # Carried over: later steps and windows force it, so a prefix is plain text.
            self._language = result.language
        language = result.language or self._language if result.text else None
        kept = prefix if result.text.startswith(prefix) else ""
        hypothesis = _Hypothesis(end, result.text, language, result.finish_reason, kept)
        self._history.append(hypothesis)
        return hypothesis

    def _trim(
        self, audio: npt.NDArray[np.float32], lead: float | None, final: bool
    ) -> npt.NDArray[np.float32]:
        settings = self.settings
        return trim_silence(
            audio, settings.silence_level, lead, settings.tail_margin, relative=final
        )

    def _call(self, audio: npt.NDArray[np.float32], prefix: str, end: int) -> Transcript:
        # `reuse_work` lets the recognizer keep what the next step shares (ADR 0020).
        options = ContinuationOptions(
            language=self._language, context=self._context, prefix=prefix, reuse_work=self._reuse
        )
        started = self._clock()
        result = self._decode_clip(AudioClip(audio, SAMPLE_RATE, "stream"), options)
        self.costs.append(
            UpdateCost(
                (self._window_start + end) / SAMPLE_RATE,
                end / SAMPLE_RATE,
                self._clock() - started,
            )
        )
        return result

    def _vote(
        self,
        audio: npt.NDArray[np.float32],
        trimmed: npt.NDArray[np.float32],
        first: Transcript,
        end: int,
    ) -> Transcript:
        """A commit's text voted among decodings with each of `vote_margins` before its speech
        (issue 15: one padding is one draw of the demo model's words). A margin that leaves the
        same audio (the window has no more silence before its speech) repeats that decoding's
        text without a model call, and still counts as a vote for it."""
        if self._language is None and first.language is not None:
            self._language = first.language  # the votes decode in the language of the first
        seen: list[tuple[npt.NDArray[np.float32], Transcript]] = [(trimmed, first)]
        results = [first]
        for margin in self.settings.vote_margins:
            candidate = self._trim(audio, margin, True)
            same = next((done for clip, done in seen if np.array_equal(clip, candidate)), None)
            result = same if same is not None else self._call(candidate, "", end)
            seen.append((candidate, result))
            results.append(result)
        return results[nearest_to_all([result.text for result in results])]

    def _prefix(self, end: int) -> str:
        """The latest text of audio ending at or before `end`, minus its last k tokens."""
        if self._tokens is None or self._language is None:
            return ""
        if len(self._history) < self.settings.unfixed_steps:
            return ""
        earlier = [hypothesis for hypothesis in self._history if hypothesis.end <= end]
        if not earlier or not earlier[-1].text:
            return ""
        ids = self._tokens.encode_text(earlier[-1].text)
        back = self.settings.rollback_tokens
        while len(ids) - back > 0:
            prefix = self._tokens.decode_tokens(ids[: len(ids) - back])
            if "\ufffd" not in prefix:  # the cut fell between whole characters
                return prefix
            back += 1
        return ""
