"""What a stream tells its listener, and how it is configured."""

from __future__ import annotations

import attrs

from qasr.domain import Language, Transcript
from qasr.errors import InvalidInputError, QasrError


class StreamClosedError(InvalidInputError):
    """Audio fed to a stream after `finish()`."""


class StreamTooLongError(QasrError):
    """More audio than the stream's `max_seconds`."""


@attrs.frozen
class PartialText:
    """Tentative text of the open window [start, end] (seconds from the stream's start); a later
    partial or the window's commit may change it. `stable` is its start that was forced as the
    prefix of this decode: later partials of the window keep it (a window cut at its limit may
    still move its last words to the next window)."""

    text: str
    start: float
    end: float
    language: Language | None = None
    stable: str = ""


@attrs.frozen
class CommittedText:
    """Final text of the window [start, end]; committed text only grows, window after window."""

    text: str
    start: float
    end: float
    language: Language | None = None
    index: int = 0


@attrs.frozen
class FinalTranscript:
    """The whole stream as a normal `Transcript` (one chunk record per committed window)."""

    transcript: Transcript


StreamEvent = PartialText | CommittedText | FinalTranscript


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise InvalidInputError(f"{attribute.name} must be > 0, got {value}")


@attrs.frozen
class StreamSettings:
    """`step_seconds`: how often the open window is re-decoded. `window_seconds`: the longest
    window; it is committed at the quietest point of its last `search_seconds`.
    `rollback_tokens`: how many tokens of the previous text are decoded again (k; more while the
    cut would fall inside a multi-byte character). `unfixed_steps`: the first steps of a window
    decode with no prefix (too little audio to trust). `commit_after_silence`: commit as soon as
    speech is followed by this much silence (server VAD); None waits for the window limit.
    `silence_level`: RMS below which a 20 ms frame is silence. `free_commit`: a committed window
    is decoded once more without a prefix (its text is the offline decoding of its audio; False:
    the last step's prefixed text is kept, one model call fewer). `silence_margin` and
    `tail_margin`: the silence kept before and after a window's speech (the rest is not decoded;
    None: all of it); a pause commit starts the next window `silence_margin` before the pause's
    end. `vote_margins`: a committed window is also decoded with these lead margins instead of
    `silence_margin`, and the text nearest the others is kept (empty: one decoding; only with
    `free_commit` and a `silence_margin`). `max_seconds`: the longest stream.
    """

    step_seconds: float = attrs.field(default=2.0, validator=_positive)
    window_seconds: float = attrs.field(default=30.0, validator=_positive)
    search_seconds: float = attrs.field(default=6.0, validator=_positive)
    rollback_tokens: int = 5
    unfixed_steps: int = 2
    commit_after_silence: float | None = None
    silence_level: float = 0.01
    free_commit: bool = True
    silence_margin: float | None = 0.3
    tail_margin: float | None = 0.7
    vote_margins: tuple[float, ...] = attrs.field(default=(0.2, 0.4), converter=tuple)
    max_seconds: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.window_seconds < 2 * self.step_seconds:
            raise InvalidInputError(
                f"window_seconds ({self.window_seconds}) must be at least twice step_seconds "
                f"({self.step_seconds})"
            )
        if self.search_seconds > self.window_seconds / 2:
            object.__setattr__(self, "search_seconds", self.window_seconds / 2)
        if self.rollback_tokens < 0 or self.unfixed_steps < 0:
            raise InvalidInputError("rollback_tokens and unfixed_steps must be >= 0")
