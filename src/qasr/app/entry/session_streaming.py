"""`Session.stream` and the seed's streaming names (`init_streaming`, `feed_audio`,
`finish_streaming`, `streaming_metrics`), over the streaming engine (docs/adr/0020)."""

from __future__ import annotations

import itertools
from typing import Any

import attrs

from qasr.app import bootstrap
from qasr.app.use_cases.service import TranscriptionService
from qasr.app.use_cases.streaming import (
    CommittedText,
    PartialText,
    Stream,
    StreamEvent,
    StreamingEngine,
    StreamSettings,
)
from qasr.domain import SAMPLE_RATE, AudioClip, Language, RecognitionOptions, Transcript
from qasr.errors import InvalidInputError
from qasr.ports import Recognizer


def open_stream(
    service: TranscriptionService,
    recognizer: Recognizer,
    *,
    language: str | Language | None = None,
    context: str = "",
    step: float = 2.0,
    window: float = 30.0,
    sample_rate: int = SAMPLE_RATE,
    commit_after_silence: float | None = None,
    rollback_tokens: int = 5,
    max_seconds: float | None = None,
    silence_margin: float | None = 0.3,
    tail_margin: float | None = 0.7,
    vote_margins: tuple[float, ...] = (0.2, 0.4),
    free_commit: bool = True,
    reuse_work: bool = True,
) -> Stream:
    """A stream decoding on the calling thread through `service` (the model is usable from any
    thread); pieces at `sample_rate` are resampled to 16 kHz. `reuse_work=False` recomputes
    what consecutive steps share (the same events, more work: for measuring it)."""
    if not isinstance(sample_rate, int) or sample_rate <= 0:
        raise InvalidInputError(f"sample_rate must be a positive whole number, got {sample_rate}")

    def decode(clip: AudioClip, options: RecognitionOptions) -> Transcript:
        return service.transcribe(clip, options, return_chunks=False)

    settings = StreamSettings(
        step_seconds=step,
        window_seconds=window,
        commit_after_silence=commit_after_silence,
        rollback_tokens=rollback_tokens,
        max_seconds=max_seconds,
        silence_margin=silence_margin,
        tail_margin=tail_margin,
        vote_margins=vote_margins,
        free_commit=free_commit,
    )
    engine = StreamingEngine(
        decode,
        tokens=recognizer,  # type: ignore[arg-type]  # used only if it continues prefixes
        settings=settings,
        language=language,
        context=context,
        reuse_work=reuse_work,
    )
    resampler = (
        None if sample_rate == SAMPLE_RATE else bootstrap.build_stream_resampler(sample_rate)
    )
    return Stream(engine, resampler)


@attrs.define
class StreamingState:
    """What `init_streaming` returns and `feed_audio` / `finish_streaming` take and return:
    `text` is the committed text and the open window's partial, `language` the latest one."""

    stream: Stream
    text: str = ""
    committed: str = ""
    language: str = ""
    events: list[StreamEvent] = attrs.field(factory=list)
    finished: bool = False

    def absorb(self, events: list[StreamEvent]) -> StreamingState:
        partial = ""
        for event in events:
            self.events.append(event)
            if isinstance(event, CommittedText) and event.text:
                self.committed = f"{self.committed} {event.text}".strip()
            if isinstance(event, PartialText):
                partial = event.text
            if isinstance(event, (CommittedText, PartialText)) and event.language:
                self.language = event.language.name
        if any(isinstance(event, CommittedText) for event in events) and not partial:
            self.text = self.committed
        elif partial:
            self.text = f"{self.committed} {partial}".strip()
        return self


def streaming_metrics(state: StreamingState) -> dict[str, Any]:
    """Audio seconds taken, model calls, compute per call, real-time factor, and how often a
    shown partial was later changed."""
    engine = state.stream.engine
    costs = engine.costs
    compute = sum(cost.compute_seconds for cost in costs)
    audio = engine.received_seconds
    partials = [e.text for e in state.events if isinstance(e, PartialText)]
    changed = sum(1 for shown, later in itertools.pairwise(partials) if not later.startswith(shown))
    return {
        "audio_seconds": audio,
        "updates": len(costs),
        "compute_seconds": compute,
        "mean_update_seconds": compute / len(costs) if costs else 0.0,
        "max_update_seconds": max((cost.compute_seconds for cost in costs), default=0.0),
        "real_time_factor": compute / audio if audio else 0.0,
        "partials": len(partials),
        "partials_changed": changed,
    }
