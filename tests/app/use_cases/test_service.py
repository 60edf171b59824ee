"""TranscriptionService on fakes: chunking, stitching, timing, speakers, progress, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.app.app_doubles import RATE, ScriptedRecognizer, reply, tone

from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import (
    AudioClip,
    FinishReason,
    Language,
    ProgressEvent,
    RecognitionOptions,
    Segment,
    Stage,
    find_language,
)
from qasr.errors import AudioError, FeatureUnavailableError, InvalidInputError
from qasr.testing import FakeAligner, FakeAudioSource, FakeDiarizer, FakeRecognizer, text_units

ENGLISH = find_language("English")


def speech(chunks: int) -> np.ndarray:
    """`chunks` x (1.6 s of tone, 0.2 s pause): with 2 s chunks, cut once in every pause."""
    return np.concatenate([np.concatenate([tone(1.6), np.zeros(int(0.2 * RATE))])] * chunks)


def service(recognizer: object = None, **kwargs: object) -> TranscriptionService:
    return TranscriptionService(
        FakeAudioSource(), recognizer or FakeRecognizer(), max_chunk_seconds=2.0, **kwargs
    )  # type: ignore[arg-type]


class Recorder(list[ProgressEvent]):
    def __call__(self, event: ProgressEvent) -> None:
        self.append(event)

    @property
    def stages(self) -> list[Stage]:
        return [event.stage for event in self]


def test_short_audio_is_one_chunk_and_one_call() -> None:
    recognizer = FakeRecognizer()
    clip = AudioClip(tone(1.5), name="short.wav")
    transcript = service(recognizer).transcribe(clip)
    assert len(recognizer.calls) == 1 and recognizer.calls[0] == (clip,)
    [chunk] = transcript.chunks
    assert (chunk.index, chunk.start, chunk.end) == (0, 0.0, pytest.approx(1.5))
    assert transcript.text == chunk.text != ""
    assert transcript.language == ENGLISH
    assert transcript.duration == pytest.approx(1.5)


def test_long_audio_is_recognised_in_one_call_with_contiguous_chunks() -> None:
    recognizer = FakeRecognizer()
    samples = speech(4)
    transcript = service(recognizer).transcribe(samples)
    [clips] = recognizer.calls
    assert len(clips) == len(transcript.chunks) == 4
    assert np.array_equal(np.concatenate([c.samples for c in clips]), samples)
    chunks = transcript.chunks
    assert chunks[0].start == 0.0 and chunks[-1].end == pytest.approx(7.2)
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
    for chunk, clip in zip(chunks, clips, strict=True):
        assert chunk.end - chunk.start == pytest.approx(clip.duration)
        assert chunk.end - chunk.start <= 2.0
    assert [c.index for c in chunks] == [0, 1, 2, 3]


@settings(max_examples=25, deadline=None)
@given(st.floats(0.1, 9.0), st.floats(0.5, 4.0))
def test_chunk_records_tile_the_recording(seconds: float, max_chunk: float) -> None:
    svc = TranscriptionService(FakeAudioSource(), FakeRecognizer(), max_chunk_seconds=max_chunk)
    transcript = svc.transcribe(tone(seconds, rate=RATE))
    chunks = transcript.chunks
    assert chunks[0].start == 0.0
    assert chunks[-1].end == pytest.approx(transcript.duration)
    # Times are sample counts / rate: a chunk of exactly max_chunk seconds may exceed it by an ulp.
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
    assert all(c.end - c.start <= max_chunk + 1e-9 for c in chunks)


def test_the_same_options_go_with_every_chunk() -> None:
    recognizer = ScriptedRecognizer([reply("a"), reply("b"), reply("c"), reply("d")])
    options = RecognitionOptions(language="de", context="Fachbegriffe", max_new_tokens=7)
    service(recognizer).transcribe(speech(4), options)
    [(clips, sent)] = recognizer.calls
    assert sent == (options,) * len(clips)


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        ([reply("hello"), reply("world")], "hello world"),
        ([reply("你好", "zh"), reply("世界", "zh")], "你好世界"),
        ([reply("こんにちは", "ja"), reply("hello")], "こんにちはhello"),
        ([reply("hello "), reply("", None), reply(" world")], "hello world"),
        ([reply("", None), reply("", None)], ""),
    ],
)
def test_chunk_texts_join_by_the_writing_of_their_language(replies: list, expected: str) -> None:
    samples = speech(len(replies))
    assert service(ScriptedRecognizer(replies)).transcribe(samples).text == expected


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        (["en", "zh", "en", None], "English"),
        (["zh", "en"], "Chinese"),  # a tie goes to the language heard first
        ([None, "ja", "ja", "en"], "Japanese"),
        ([None, None], None),
    ],
)
def test_the_language_is_the_most_common_detected_one(
    languages: list[str | None], expected: str | None
) -> None:
    replies = [reply(f"w{i}" if lang else "", lang) for i, lang in enumerate(languages)]
    transcript = service(ScriptedRecognizer(replies)).transcribe(speech(len(replies)))
    assert transcript.language == (find_language(expected) if expected else None)
    assert [c.language for c in transcript.chunks] == [
        find_language(lang) if lang else None for lang in languages
    ]


def test_one_chunk_out_of_tokens_marks_the_whole_transcript_truncated() -> None:
    replies = [reply("a"), reply("b", finish=FinishReason.LENGTH), reply("c")]
    transcript = service(ScriptedRecognizer(replies)).transcribe(speech(3))
    assert transcript.finish_reason is FinishReason.LENGTH and transcript.truncated
    assert [c.finish_reason for c in transcript.chunks] == [
        FinishReason.STOP, FinishReason.LENGTH, FinishReason.STOP
    ]  # fmt: skip


def test_the_fake_reports_length_through_the_service() -> None:
    transcript = service().transcribe(tone(1.5), RecognitionOptions(max_new_tokens=1))
    assert transcript.truncated


def test_a_trimmed_repetition_is_reported_when_nothing_ran_out() -> None:
    replies = [reply("a"), reply("b", finish=FinishReason.REPETITION)]
    transcript = service(ScriptedRecognizer(replies)).transcribe(speech(2))
    assert transcript.finish_reason is FinishReason.REPETITION


def test_return_chunks_false_drops_the_records_only() -> None:
    full = service().transcribe(speech(3))
    bare = service().transcribe(speech(3), return_chunks=False)
    assert bare.chunks == () and bare.text == full.text and bare.language == full.language


class RecordingAligner:
    def __init__(self) -> None:
        self.asked: list[tuple[float, str, Language | None]] = []

    def align(self, clip: AudioClip, text: str, language: Language | None) -> tuple[Segment, ...]:
        self.asked.append((clip.duration, text, language))
        return FakeAligner().align(clip, text, language)


def test_word_times_are_aligned_per_chunk_and_moved_to_the_recording_clock() -> None:
    aligner = RecordingAligner()
    replies = [reply("one two"), reply("", None), reply("三四", "zh")]
    svc = service(ScriptedRecognizer(replies), aligner=aligner)
    transcript = svc.transcribe(speech(3), timestamps=True)
    chunks = transcript.chunks
    # the silent chunk is not aligned; each chunk is aligned with its own language
    assert [(text, lang) for _, text, lang in aligner.asked] == [
        ("one two", ENGLISH), ("三四", find_language("zh"))
    ]  # fmt: skip
    assert [s.text for s in transcript.segments] == ["one", "two", "三", "四"]
    first, second = transcript.segments[:2], transcript.segments[2:]
    assert all(chunks[0].start <= s.start <= s.end <= chunks[0].end for s in first)
    assert all(chunks[2].start <= s.start <= s.end <= chunks[2].end + 1e-9 for s in second)
    assert second[0].start == pytest.approx(chunks[2].start)


def test_no_segments_unless_timestamps_are_asked_for() -> None:
    transcript = service(aligner=FakeAligner()).transcribe(speech(2))
    assert transcript.segments == () and not transcript.has_timestamps


def test_words_are_attributed_to_the_speaker_turn_they_fall_in() -> None:
    svc = service(aligner=FakeAligner(), diarizer=FakeDiarizer(turn_seconds=2.0))
    transcript = svc.transcribe(speech(3), timestamps=True, diarize=True)
    assert [s.speaker for s in transcript.speakers] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]
    for turn in transcript.speakers:
        inside = [
            w.text for w in transcript.segments if turn.start <= (w.start + w.end) / 2 < turn.end
        ]
        assert turn.text == " ".join(inside)
    spoken = " ".join(t.text for t in transcript.speakers if t.text)
    assert spoken.split() == [w.text for w in transcript.segments]


def test_diarization_without_timestamps_still_fills_turns_but_keeps_no_segments() -> None:
    svc = service(aligner=FakeAligner(), diarizer=FakeDiarizer())
    transcript = svc.transcribe(speech(2), diarize=True)
    assert transcript.segments == ()
    assert " ".join(t.text for t in transcript.speakers).split() == text_units(transcript.text)


def test_diarization_without_an_aligner_transcribes_each_turn_on_its_own() -> None:
    samples = speech(2)  # 3.6 s: FakeDiarizer's turns [0, 2) and [2, 3.6)
    recognizer = FakeRecognizer()
    transcript = service(recognizer, diarizer=FakeDiarizer()).transcribe(samples, diarize=True)
    bounds = [(0, 2 * RATE), (2 * RATE, len(samples))]
    alone = [FakeRecognizer().recognize([AudioClip(samples[a:b], RATE)], [RecognitionOptions()])[0]
             for a, b in bounds]  # fmt: skip
    assert [t.speaker for t in transcript.speakers] == ["SPEAKER_00", "SPEAKER_01"]
    assert [t.text for t in transcript.speakers] == [t.text for t in alone]
    assert transcript.text == " ".join(t.text for t in alone)
    assert transcript.segments == ()
    assert [len(c.samples) for call in recognizer.calls for c in call] == [b - a for a, b in bounds]


@pytest.mark.parametrize(
    ("kwargs", "needed"), [({"timestamps": True}, "aligner"), ({"diarize": True}, "diarizer")]
)
def test_asking_for_a_missing_component_fails_before_loading(kwargs: dict, needed: str) -> None:
    source = FakeAudioSource()
    svc = TranscriptionService(source, FakeRecognizer())
    with pytest.raises(FeatureUnavailableError, match=needed):
        svc.transcribe("never-loaded.wav", **kwargs)
    with pytest.raises(FeatureUnavailableError, match=needed):
        svc.transcribe_many(["never-loaded.wav"], **kwargs)
    assert source.loaded == []


def test_progress_events_come_in_order() -> None:
    events = Recorder()
    svc = service(aligner=FakeAligner(), diarizer=FakeDiarizer())
    svc.transcribe(speech(3), timestamps=True, diarize=True, on_progress=events)
    n = 3
    assert events.stages == [
        Stage.AUDIO_LOADED,
        Stage.CHUNKS_PREPARED,
        *[Stage.CHUNK_STARTED] * n,
        *[Stage.CHUNK_COMPLETED] * n,
        Stage.ALIGNED,
        Stage.DIARIZED,
        Stage.COMPLETED,
    ]
    assert events[1].total == n
    completed = [e for e in events if e.stage is Stage.CHUNK_COMPLETED]
    assert [(e.index, e.total) for e in completed] == [(0, n), (1, n), (2, n)]
    assert [e.fraction for e in completed] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert events[-1].fraction == 1.0


def test_small_batches_interleave_chunk_progress() -> None:
    events = Recorder()
    recognizer = FakeRecognizer()
    svc = TranscriptionService(FakeAudioSource(), recognizer, max_chunk_seconds=2.0, batch_size=2)
    svc.transcribe(speech(3), on_progress=events)
    assert [len(call) for call in recognizer.calls] == [2, 1]
    chunk_events = [(e.stage, e.index) for e in events if e.index is not None]
    assert chunk_events == [
        (Stage.CHUNK_STARTED, 0), (Stage.CHUNK_STARTED, 1),
        (Stage.CHUNK_COMPLETED, 0), (Stage.CHUNK_COMPLETED, 1),
        (Stage.CHUNK_STARTED, 2), (Stage.CHUNK_COMPLETED, 2),
    ]  # fmt: skip


def test_many_files_share_one_recognizer_and_survive_a_bad_one() -> None:
    good, broken = ["a.wav", "b.wav"], "broken.wav"
    recognizer = FakeRecognizer()
    events = Recorder()
    svc = TranscriptionService(FakeAudioSource(missing={broken}), recognizer)
    results = list(svc.transcribe_many([good[0], broken, good[1]], on_progress=events))
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, AudioError) and results[1].transcript is None
    assert results[0].transcript == svc.transcribe(good[0])
    assert len(recognizer.calls) == 3  # two files here, one more just above
    files = [
        (e.stage, e.index) for e in events if e.stage in (Stage.FILE_STARTED, Stage.FILE_COMPLETED)
    ]
    assert files == [(s, i) for i in range(3) for s in (Stage.FILE_STARTED, Stage.FILE_COMPLETED)]
    assert events.stages[:3] == [Stage.FILE_STARTED, Stage.AUDIO_LOADED, Stage.CHUNKS_PREPARED]
    failed = [e for e in events if e.stage is Stage.FILE_COMPLETED and e.index == 1]
    assert "broken.wav" in failed[0].message and failed[0].name == broken
    assert [r.name for r in results] == [good[0], broken, good[1]]


@pytest.mark.parametrize("kwargs", [{"max_chunk_seconds": 0}, {"batch_size": 0}])
def test_impossible_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(InvalidInputError):
        TranscriptionService(FakeAudioSource(), FakeRecognizer(), **kwargs)


# --- align: timing a transcript already known ---------------------------------------------------

KNOWN_TEXT = "Hello, world! 你好。"


def test_align_times_the_whole_recording_in_one_aligner_call() -> None:
    aligner, recognizer, events = RecordingAligner(), FakeRecognizer(), Recorder()
    samples = speech(3)  # longer than a chunk: the text cannot be cut to match chunks
    transcript = service(recognizer, aligner=aligner).align(
        samples, KNOWN_TEXT, "en", on_progress=events
    )
    clip = AudioClip(samples)
    assert aligner.asked == [(pytest.approx(clip.duration), KNOWN_TEXT, ENGLISH)]
    assert transcript.segments == FakeAligner().align(clip, KNOWN_TEXT, ENGLISH)
    assert (transcript.text, transcript.language) == (KNOWN_TEXT, ENGLISH)
    assert transcript.duration == pytest.approx(clip.duration) and transcript.chunks == ()
    assert recognizer.calls == []
    assert events.stages == [Stage.AUDIO_LOADED, Stage.ALIGNED, Stage.COMPLETED]


def test_align_without_a_language_passes_none_on() -> None:
    aligner = RecordingAligner()
    transcript = service(aligner=aligner).align(tone(1.0), "one two")
    assert aligner.asked[0][2] is None and transcript.language is None


def test_align_without_an_aligner_says_so() -> None:
    with pytest.raises(FeatureUnavailableError, match="forced aligner"):
        service().align(tone(1.0), "one two")


def test_a_service_built_to_align_only_refuses_to_transcribe() -> None:
    svc = TranscriptionService(FakeAudioSource(), None, FakeAligner())
    assert [s.text for s in svc.align(tone(1.0), "one two").segments] == ["one", "two"]
    with pytest.raises(FeatureUnavailableError, match="recognizer"):
        svc.transcribe(tone(1.0))
    with pytest.raises(FeatureUnavailableError, match="recognizer"):
        list(svc.transcribe_many([tone(1.0)]))


def test_with_aligner_swaps_only_the_aligner() -> None:
    original = service(aligner=FakeAligner(), batch_size=2)
    other = RecordingAligner()
    swapped = original.with_aligner(other)
    assert swapped.aligner is other and original.aligner == FakeAligner()
    assert (swapped.recognizer, swapped.audio_source, swapped.diarizer) == (
        original.recognizer, original.audio_source, original.diarizer
    )  # fmt: skip
    assert (swapped.max_chunk_seconds, swapped.batch_size) == (2.0, 2)
    swapped.transcribe(speech(2), timestamps=True)
    assert len(other.asked) == 2
