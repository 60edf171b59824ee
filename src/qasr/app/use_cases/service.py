"""The use cases: turn audio into a transcript, or time a transcript already known, whatever
recogniser, aligner or diarizer does it.

The service composes the ports it is given and imports no adapter (docs/adr/0001); long audio is
cut by `qasr.domain.chunking`, decoded chunk by chunk, and stitched back together.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence

import attrs

from qasr.app.use_cases.by_turn import speech_turns, turn_spans, turn_texts
from qasr.app.use_cases.merging import (
    attribute_words,
    join_chunk_texts,
    shift_segments,
    vote_language,
    worst_finish,
)
from qasr.domain import (
    AudioClip,
    ChunkRecord,
    Language,
    ProgressCallback,
    ProgressEvent,
    RecognitionOptions,
    Segment,
    SpeakerSpan,
    Stage,
    Transcript,
    find_language,
    ignore_progress,
)
from qasr.domain.chunking import ChunkSpan, plan_chunks
from qasr.errors import FeatureUnavailableError, InvalidInputError, QasrError
from qasr.ports import Aligner, AudioInput, AudioSource, Diarizer, Recognizer

_DEFAULT_OPTIONS = RecognitionOptions()


@attrs.frozen
class FileResult:
    """One input of `transcribe_many`: its transcript, or the user-facing error that stopped it."""

    source: AudioInput = attrs.field(eq=False)
    name: str
    transcript: Transcript | None = None
    error: QasrError | None = attrs.field(default=None, eq=False)

    @property
    def ok(self) -> bool:
        return self.error is None


def source_name(source: AudioInput) -> str:
    """How messages name an input before it is loaded: its path, a clip's name, or ""."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, AudioClip):
        return source.name
    return ""


class TranscriptionService:
    """Load, chunk, recognise, and optionally time words and attribute them to speakers; or time
    the words of a known text (`align`).

    `batch_size` bounds how many chunks go to one `recognize` call (None: all chunks of a file in
    one call, the fastest on a GPU); smaller batches give finer progress and bound memory.
    `recognizer` may be None for a service that only aligns known text.
    """

    def __init__(
        self,
        audio_source: AudioSource,
        recognizer: Recognizer | None,
        aligner: Aligner | None = None,
        diarizer: Diarizer | None = None,
        *,
        max_chunk_seconds: float = 30.0,
        batch_size: int | None = None,
    ) -> None:
        if not max_chunk_seconds > 0:
            raise InvalidInputError(f"max_chunk_seconds must be > 0, got {max_chunk_seconds}")
        if batch_size is not None and batch_size < 1:
            raise InvalidInputError(f"batch_size must be at least 1 or None, got {batch_size}")
        self.audio_source = audio_source
        self.recognizer = recognizer
        self.aligner = aligner
        self.diarizer = diarizer
        self.max_chunk_seconds = max_chunk_seconds
        self.batch_size = batch_size

    def with_aligner(self, aligner: Aligner) -> TranscriptionService:
        """This service with another aligner (a per-call choice; this one stays as it is)."""
        return TranscriptionService(
            self.audio_source,
            self.recognizer,
            aligner,
            self.diarizer,
            max_chunk_seconds=self.max_chunk_seconds,
            batch_size=self.batch_size,
        )

    def align(
        self,
        source: AudioInput,
        text: str,
        language: str | Language | None = None,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Time the words of `text`, already known to be what `source` says (no recognition).

        The transcript's `segments` are the aligner's units (punctuation dropped, one per CJK
        character), in seconds; subtitle writers put the punctuation of `text` back.
        """
        if self.aligner is None:
            raise FeatureUnavailableError(
                "aligning a known text needs a forced aligner, and this service has none; "
                "build it with an aligner"
            )
        report = ignore_progress if on_progress is None else on_progress
        clip = self.audio_source.load(source)
        report(ProgressEvent(Stage.AUDIO_LOADED, name=clip.name, message=f"{clip.duration:.2f} s"))
        chosen = find_language(language) if language else None
        # One aligner call for the whole clip: the text cannot be cut to match chunks of audio.
        # Qwen3-ForcedAligner names times up to 400 s; the official pipeline aligns <= 180 s.
        segments = self.aligner.align(clip, text, chosen)
        report(ProgressEvent(Stage.ALIGNED, fraction=1.0, name=clip.name))
        transcript = Transcript(
            text=text, language=chosen, segments=segments, duration=clip.duration
        )
        report(ProgressEvent(Stage.COMPLETED, fraction=1.0, name=clip.name))
        return transcript

    def transcribe(
        self,
        source: AudioInput,
        options: RecognitionOptions = _DEFAULT_OPTIONS,
        *,
        timestamps: bool = False,
        diarize: bool = False,
        return_chunks: bool = True,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        """Transcribe one recording of any length.

        `timestamps` fills `segments` with word times (needs an aligner); `diarize` fills
        `speakers` (needs a diarizer; their `text` is filled when an aligner can time the words).
        """
        (transcript,) = self.transcribe_batch(
            [source],
            [options],
            timestamps=timestamps,
            diarize=diarize,
            return_chunks=return_chunks,
            on_progress=on_progress,
        )
        return transcript

    def transcribe_batch(
        self,
        sources: Sequence[AudioInput],
        options: Sequence[RecognitionOptions],
        *,
        timestamps: bool = False,
        diarize: bool = False,
        return_chunks: bool = True,
        on_progress: ProgressCallback | None = None,
    ) -> list[Transcript]:
        """Transcribe several recordings, each with its own options, decoding the chunks of all
        of them together (the recognizer batches them). Results come in input order; the first
        unreadable input raises."""
        if len(sources) != len(options):
            raise InvalidInputError(f"{len(sources)} inputs but {len(options)} option sets")
        self._check_features(timestamps=timestamps, diarize=diarize)
        report = ignore_progress if on_progress is None else on_progress
        clips = []
        for source in sources:
            clip = self.audio_source.load(source)
            report(
                ProgressEvent(Stage.AUDIO_LOADED, name=clip.name, message=f"{clip.duration:.2f} s")
            )
            clips.append(clip)
        # With speakers wanted and no aligner to time words, each speaker turn is transcribed on
        # its own, so the turns get their text and subtitles their times (turn by turn).
        by_turn = diarize and self.aligner is None
        if by_turn:
            turns = [self._diarize(clip, report) for clip in clips]
            cuts = [
                turn_spans(clip, clip_turns, self.max_chunk_seconds)
                for clip, clip_turns in zip(clips, turns, strict=True)
            ]
            plans = [spans for spans, _ in cuts]
        else:
            plans = [
                plan_chunks(clip.samples, clip.sample_rate, self.max_chunk_seconds)
                for clip in clips
            ]
        pieces = [
            [
                AudioClip(clip.samples[span.as_slice()], clip.sample_rate, clip.name)
                for span in spans
            ]
            for clip, spans in zip(clips, plans, strict=True)
        ]
        report(ProgressEvent(Stage.CHUNKS_PREPARED, total=sum(map(len, plans))))
        flat = [
            (piece, option)
            for file_pieces, option in zip(pieces, options, strict=True)
            for piece in file_pieces
        ]
        answers = iter(self._recognize(flat, report))
        transcripts = []
        for index, (clip, spans, file_pieces) in enumerate(zip(clips, plans, pieces, strict=True)):
            records = _chunk_records(clip, spans, [next(answers) for _ in spans])
            speakers = turn_texts(turns[index], cuts[index][1], records) if by_turn else None
            transcripts.append(
                self._finish(
                    clip, file_pieces, records, timestamps, diarize, return_chunks, report, speakers
                )
            )
        return transcripts

    def _diarize(self, clip: AudioClip, report: ProgressCallback) -> tuple[SpeakerSpan, ...]:
        assert self.diarizer is not None  # _check_features made sure
        turns = speech_turns(self.diarizer.diarize(clip), clip.duration)
        report(ProgressEvent(Stage.DIARIZED, fraction=1.0, name=clip.name))
        return turns

    def _finish(
        self,
        clip: AudioClip,
        pieces: Sequence[AudioClip],
        records: tuple[ChunkRecord, ...],
        timestamps: bool,
        diarize: bool,
        return_chunks: bool,
        report: ProgressCallback,
        speakers: tuple[SpeakerSpan, ...] | None = None,
    ) -> Transcript:
        """One file's transcript from its chunk records; `speakers`, when given, are its turns
        already transcribed one by one (by_turn.py), else diarizing attributes timed words."""
        language = vote_language([record.language for record in records])
        words: tuple[Segment, ...] = ()
        if self.aligner is not None and (timestamps or diarize):
            words = self._align(pieces, records, language)
            report(ProgressEvent(Stage.ALIGNED, fraction=1.0, name=clip.name))
        if speakers is None:
            speakers = ()
            if diarize:
                assert self.diarizer is not None  # _check_features made sure
                speakers = attribute_words(self.diarizer.diarize(clip), words, language)
                report(ProgressEvent(Stage.DIARIZED, fraction=1.0, name=clip.name))
        transcript = Transcript(
            text=join_chunk_texts(records),
            language=language,
            segments=words if timestamps else (),
            chunks=records if return_chunks else (),
            speakers=speakers,
            finish_reason=worst_finish([record.finish_reason for record in records]),
            duration=clip.duration,
        )
        report(ProgressEvent(Stage.COMPLETED, fraction=1.0, name=clip.name))
        return transcript

    def transcribe_many(
        self,
        sources: Iterable[AudioInput],
        options: RecognitionOptions = _DEFAULT_OPTIONS,
        *,
        timestamps: bool = False,
        diarize: bool = False,
        return_chunks: bool = True,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[FileResult]:
        """Transcribe several recordings with the same loaded model, yielding as each finishes.

        A `QasrError` for one input (unreadable file...) is carried in its `FileResult` and the
        others still run; a missing aligner or diarizer fails at once, before any file.
        """
        self._check_features(timestamps=timestamps, diarize=diarize)
        inputs = list(sources)
        report = ignore_progress if on_progress is None else on_progress
        return self._each_file(inputs, options, timestamps, diarize, return_chunks, report)

    def _each_file(
        self,
        inputs: Sequence[AudioInput],
        options: RecognitionOptions,
        timestamps: bool,
        diarize: bool,
        return_chunks: bool,
        report: ProgressCallback,
    ) -> Iterator[FileResult]:
        total = len(inputs)
        for index, source in enumerate(inputs):
            name = source_name(source)
            report(ProgressEvent(Stage.FILE_STARTED, index / total, index, total, name))
            try:
                transcript = self.transcribe(
                    source,
                    options,
                    timestamps=timestamps,
                    diarize=diarize,
                    return_chunks=return_chunks,
                    on_progress=report,
                )
            except QasrError as error:
                result = FileResult(source, name, error=error)
            else:
                result = FileResult(source, name, transcript)
            done = ProgressEvent(
                Stage.FILE_COMPLETED, (index + 1) / total, index, total, name,
                message="" if result.ok else str(result.error),
            )  # fmt: skip
            report(done)
            yield result

    def _check_features(self, *, timestamps: bool, diarize: bool) -> None:
        if self.recognizer is None:
            raise FeatureUnavailableError(
                "transcribing needs a recognizer, and this service was built to align known "
                "text only; build it with a recognizer"
            )
        if timestamps and self.aligner is None:
            raise FeatureUnavailableError(
                "word timestamps need a forced aligner, and this service has none; "
                "build it with an aligner or ask without timestamps"
            )
        if diarize and self.diarizer is None:
            raise FeatureUnavailableError(
                "speaker diarization needs a diarizer, and this service has none; "
                "build it with a diarizer or ask without diarization"
            )

    def _recognize(
        self, items: Sequence[tuple[AudioClip, RecognitionOptions]], report: ProgressCallback
    ) -> list[Transcript]:
        total = len(items)
        size = self.batch_size or max(total, 1)
        results: list[Transcript] = []
        for first in range(0, total, size):
            batch = items[first : first + size]
            for i, (piece, _) in enumerate(batch, start=first):
                report(ProgressEvent(Stage.CHUNK_STARTED, i / total, i, total, piece.name))
            assert self.recognizer is not None  # _check_features made sure
            answers = self.recognizer.recognize(
                [piece for piece, _ in batch], [option for _, option in batch]
            )
            if len(answers) != len(batch):
                raise RuntimeError(
                    f"the recognizer returned {len(answers)} transcripts for {len(batch)} clips"
                )
            results.extend(answers)
            for i, (piece, _) in enumerate(batch, start=first):
                report(ProgressEvent(Stage.CHUNK_COMPLETED, (i + 1) / total, i, total, piece.name))
        return results

    def _align(
        self,
        pieces: Sequence[AudioClip],
        records: Sequence[ChunkRecord],
        language: Language | None,
    ) -> tuple[Segment, ...]:
        assert self.aligner is not None
        words: list[Segment] = []
        for piece, record in zip(pieces, records, strict=True):
            if not record.text.strip():
                continue  # the official pipeline also skips silent chunks
            chunk_language = record.language or language
            segments = self.aligner.align(piece, record.text, chunk_language)
            words.extend(shift_segments(segments, record.start))
        return tuple(words)


def _chunk_records(
    clip: AudioClip, spans: Sequence[ChunkSpan], results: Sequence[Transcript]
) -> tuple[ChunkRecord, ...]:
    rate = clip.sample_rate
    return tuple(
        ChunkRecord(
            index=i,
            start=span.start / rate,
            end=span.end / rate,
            text=result.text,
            language=result.language,
            finish_reason=result.finish_reason,
        )
        for i, (span, result) in enumerate(zip(spans, results, strict=True))
    )
