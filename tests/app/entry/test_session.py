"""Session and the top-level functions: batching with per-item options, async use, worker
threads, model info, and mlx-qwen3-asr's argument names meaning what that project documents."""

from __future__ import annotations

import asyncio
import inspect
import shutil
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qasr
from qasr import RecognitionOptions, Session
from qasr.adapters.audio import write_wav
from qasr.app import bootstrap
from qasr.app.entry import session as session_module
from qasr.domain import AudioClip, ProgressEvent, Stage, find_language
from qasr.errors import FeatureUnavailableError, InvalidInputError
from qasr.testing import FakeAligner, FakeAudioSource, FakeDiarizer, FakeRecognizer, text_units

RATE = 16_000


def tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def speech(pieces: int) -> np.ndarray:
    """`pieces` x (1.6 s tone, 0.2 s pause): with 2 s chunks, one chunk per piece."""
    pause = np.zeros(int(0.2 * RATE), dtype=np.float32)
    return np.concatenate([np.concatenate([tone(1.6, 200 + 50 * i), pause]) for i in range(pieces)])


@attrs.define(eq=False)
class RecordingRecognizer:
    """FakeRecognizer's answers; records the options of every clip and reports a model_info."""

    inner: FakeRecognizer = attrs.field(factory=FakeRecognizer)
    options: list[RecognitionOptions] = attrs.field(factory=list)

    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[qasr.Transcript]:
        self.options.extend(options)
        return self.inner.recognize(clips, options)

    def model_info(self) -> dict[str, Any]:
        return {"model": "fake/asr", "path": "/m/fake", "dtype": "float32", "languages": ["en"]}


class Recorder(list[ProgressEvent]):
    def __call__(self, event: ProgressEvent) -> None:
        self.append(event)


@pytest.fixture
def session() -> Session:
    return Session(FakeRecognizer())


@pytest.fixture(autouse=True)
def fresh_default_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "_default_sessions", {})
    monkeypatch.setattr(session_module, "_latest_object_session", None)


@pytest.fixture
def loaded_aligners(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    """Every aligner the composition root is asked to load; each is a FakeAligner."""
    asked: list[tuple[str, str | None]] = []

    def build_aligner(model: str, *, dtype: str | None = None) -> FakeAligner:
        asked.append((model, dtype))
        return FakeAligner()

    monkeypatch.setattr(bootstrap, "build_aligner", build_aligner)
    return asked


# --- qasr's own use -----------------------------------------------------------------------------


def test_batch_equals_one_by_one_with_per_item_options(session: Session) -> None:
    audios = [tone(1.0, 220), tone(2.5, 330), tone(0.7, 440)]
    languages = ["English", None, "zh"]
    contexts = ["a", "", "c"]
    together = session.transcribe_batch(audios, language=languages, context=contexts)
    alone = [
        session.transcribe(audio, language=lang, context=ctx)
        for audio, lang, ctx in zip(audios, languages, contexts, strict=True)
    ]
    assert together == alone
    assert together[2].language is not None and together[2].language.name == "Chinese"


def test_batch_rejects_lists_of_the_wrong_length(session: Session) -> None:
    with pytest.raises(InvalidInputError, match="2 inputs but 3 values for language"):
        session.transcribe_batch([tone(1, 100)] * 2, language=["en", "en", "en"])


def test_async_matches_sync(session: Session) -> None:
    audio = tone(1.5, 250)

    async def both() -> list[object]:
        one = await session.transcribe_async(audio, language="English")
        many = await session.transcribe_batch_async([audio, audio])
        return [one, many]

    one, many = asyncio.run(both())
    assert one == session.transcribe(audio, language="English")
    assert many == session.transcribe_batch([audio, audio])


def test_worker_threads_give_the_same_result(session: Session) -> None:
    audio = tone(2.0, 300)
    expected = session.transcribe(audio)
    threads: set[int] = set()

    def work(_: int) -> object:
        threads.add(threading.get_ident())
        return session.transcribe(audio)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(work, range(6)))
    assert all(result == expected for result in results)
    assert threading.get_ident() not in threads


def test_model_info_of_a_plain_recognizer(session: Session) -> None:
    assert session.model_info() == {"recognizer": "FakeRecognizer"}


# --- mlx-qwen3-asr's names: transcribe(audio, *, model, context, language, ...) ------------------


def test_context_language_and_token_budget_reach_every_chunk() -> None:
    recognizer = RecordingRecognizer()
    audio = tone(2.0, 300)
    qasr.transcribe(audio, model=recognizer, context="MLX", language="English", max_new_tokens=7)
    assert recognizer.options == [RecognitionOptions("English", "MLX", 7)]
    qasr.transcribe(audio, model=recognizer, context=None, language="")  # type: ignore[arg-type]
    assert recognizer.options[-1] == RecognitionOptions()  # the seed reads both as "not given"


@settings(max_examples=20, deadline=None)
@given(pieces=st.integers(1, 4), timestamps=st.booleans(), chunks=st.booleans())
def test_chunks_and_word_times_come_only_when_asked(
    pieces: int, timestamps: bool, chunks: bool
) -> None:
    session = Session(FakeRecognizer(), aligner=FakeAligner(), max_chunk_seconds=2.0)
    audio = speech(pieces)
    plain = session.transcribe(audio)
    asked = session.transcribe(audio, return_timestamps=timestamps, return_chunks=chunks)
    assert plain.chunks == () and plain.segments == ()
    assert attrs.evolve(asked, chunks=(), segments=()) == plain
    assert bool(asked.chunks) is chunks and bool(asked.segments) is timestamps
    if chunks:
        assert len(asked.chunks) == pieces
        assert asked.chunks[0].start == 0 and asked.chunks[-1].end == pytest.approx(1.8 * pieces)
        assert " ".join(chunk.text for chunk in asked.chunks) == asked.text
    if timestamps:
        assert [word.text for word in asked.segments] == text_units(asked.text)
        assert all(0 <= word.start <= word.end <= 1.8 * pieces + 1e-6 for word in asked.segments)


def test_forced_aligner_names_load_once_each_with_the_session_dtype(loaded_aligners: list) -> None:
    session = Session(FakeRecognizer(), dtype="bfloat16")
    audio = tone(1.0, 300)
    session.transcribe(audio)
    assert loaded_aligners == []  # no timestamps asked: no aligner loaded
    for _ in range(2):
        session.transcribe(audio, return_timestamps=True)
        session.transcribe(audio, return_timestamps=True, forced_aligner="my/aligner")
    assert loaded_aligners == [(bootstrap.DEFAULT_ALIGNER, "bfloat16"), ("my/aligner", "bfloat16")]


def test_a_forced_aligner_object_times_only_its_call() -> None:
    class LateAligner:
        def align(self, clip: AudioClip, text: str, language: object) -> tuple:
            return tuple(
                attrs.evolve(w, start=w.end, end=w.end)
                for w in FakeAligner().align(clip, text, None)
            )

    session = Session(FakeRecognizer(), aligner=FakeAligner())
    audio = tone(2.0, 300)
    usual = session.transcribe(audio, return_timestamps=True)
    late = session.transcribe(audio, return_timestamps=True, forced_aligner=LateAligner())
    assert [w.end for w in late.segments] == [w.end for w in usual.segments]
    assert [w.start for w in late.segments] == [w.end for w in usual.segments]
    assert session.transcribe(audio, return_timestamps=True) == usual


def test_an_mlx_dtype_is_taken_by_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    mx = pytest.importorskip("mlx.core")
    loads: list[tuple[str, str | None]] = []

    def build_recognizer(model: str, *, dtype: str | None = None, **_: Any) -> FakeRecognizer:
        loads.append((model, dtype))
        return FakeRecognizer()

    monkeypatch.setattr(bootstrap, "build_recognizer", build_recognizer)
    assert isinstance(qasr.load_model("some/asr", dtype=mx.float16), FakeRecognizer)
    for _ in range(2):  # the default session for (model, dtype) is loaded once
        qasr.transcribe(tone(1.0, 200), model="other/asr", dtype=mx.bfloat16)
    assert Session("third/asr", dtype=mx.float32).dtype == "float32"
    assert loads == [("some/asr", "float16"), ("other/asr", "bfloat16"), ("third/asr", "float32")]


def test_verbose_prints_each_progress_event_and_still_calls_on_progress(
    session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    events = Recorder()
    session.transcribe(tone(1.0, 200), verbose=True, on_progress=events)
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and len(lines) == len(events) > 0
    assert all(
        line.startswith(f"qasr: {event.stage.value}")
        for line, event in zip(lines, events, strict=True)
    )
    assert events[-1].stage is Stage.COMPLETED
    session.transcribe(tone(1.0, 200), on_progress=events)
    assert capsys.readouterr() == ("", "")


def test_top_level_transcribe_batch_takes_per_item_context_and_language() -> None:
    recognizer = RecordingRecognizer()
    audios = [tone(1.0, 220), tone(1.5, 330)]
    together = qasr.transcribe_batch(
        audios, model=recognizer, context=["EBITDA", "交易"], language=["en", "Chinese"]
    )
    assert recognizer.options == [
        RecognitionOptions("English", "EBITDA"),
        RecognitionOptions("Chinese", "交易"),
    ]
    alone = [
        qasr.transcribe(audios[0], model=recognizer, context="EBITDA", language="en"),
        qasr.transcribe(audios[1], model=recognizer, context="交易", language="Chinese"),
    ]
    assert together == alone
    assert qasr.transcribe_batch([], model=recognizer) == []


def test_top_level_async_functions_match_the_sync_ones() -> None:
    recognizer = FakeRecognizer()
    audio = tone(1.2, 310)

    async def both() -> tuple[Any, Any]:
        one = await qasr.transcribe_async(audio, model=recognizer, language="en")
        many = await qasr.transcribe_batch_async([audio, audio], model=recognizer)
        return one, many

    one, many = asyncio.run(both())
    assert one == qasr.transcribe(audio, model=recognizer, language="en")
    assert many == qasr.transcribe_batch([audio, audio], model=recognizer)


def test_transcribe_async_runs_on_the_given_executor(session: Session) -> None:
    seen: list[str] = []

    def on_progress(event: ProgressEvent) -> None:
        seen.append(threading.current_thread().name)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-owner") as pool:
        coroutine = session.transcribe_async(tone(1.0, 200), executor=pool, on_progress=on_progress)
        asyncio.run(coroutine)
    assert seen and all(name.startswith("model-owner") for name in seen)


def test_a_recognizer_object_keeps_its_aligner_across_top_level_calls(
    loaded_aligners: list,
) -> None:
    recognizer = FakeRecognizer()
    for _ in range(3):
        qasr.transcribe(tone(1.0, 200), model=recognizer, return_timestamps=True)
    assert loaded_aligners == [(bootstrap.DEFAULT_ALIGNER, None)]


def test_diarize_uses_the_session_diarizer_and_fills_speaker_segments() -> None:
    session = Session(FakeRecognizer(), aligner=FakeAligner(), diarizer=FakeDiarizer(1.0))
    transcript = session.transcribe(speech(2), diarize=True)
    assert transcript.speaker_segments == transcript.speakers
    assert [turn.speaker for turn in transcript.speakers][:2] == ["SPEAKER_00", "SPEAKER_01"]
    assert " ".join(turn.text for turn in transcript.speakers if turn.text) == transcript.text
    assert transcript.segments == ()  # word times only with return_timestamps, as in the seed


LATER_WORK = [
    ("diarization_device", "cpu"),
]


@pytest.mark.parametrize(("name", "value"), LATER_WORK)
def test_arguments_of_later_work_say_not_yet(name: str, value: object) -> None:
    recognizer = RecordingRecognizer()
    session = Session(recognizer)
    calls = [
        lambda: qasr.transcribe(tone(1.0, 200), model=recognizer, **{name: value}),
        lambda: qasr.transcribe_batch([tone(1.0, 200)], model=recognizer, **{name: value}),
        lambda: session.transcribe(tone(1.0, 200), **{name: value}),
        lambda: session.transcribe_batch([tone(1.0, 200)], **{name: value}),
    ]
    for call in calls:
        with pytest.raises(FeatureUnavailableError, match=f"{name}.*not in qasr yet"):
            call()
    assert recognizer.options == []  # refused before any work


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"draft_model": "Qwen/Qwen3-ASR-0.6B"}, "does not decode speculatively"),
        ({"num_draft_tokens": 8}, "needs a draft_model"),
    ],
)
def test_speculative_arguments_that_cannot_work_fail_before_any_work(
    arguments: dict[str, object], message: str
) -> None:
    recognizer = RecordingRecognizer()  # not an MLX model: it has no `with_draft`
    session = Session(recognizer)
    for call in (
        lambda: qasr.transcribe(tone(1.0, 200), model=recognizer, **arguments),
        lambda: session.transcribe_batch([tone(1.0, 200)], **arguments),
    ):
        with pytest.raises(InvalidInputError, match=message):
            call()
    assert recognizer.options == []


def test_the_seed_defaults_of_later_work_ask_for_nothing(session: Session) -> None:
    audio = tone(1.0, 200)
    defaults = dict(
        diarize=False,
        draft_model=None,
        num_draft_tokens=4,
        diarization_num_speakers=None,
        diarization_min_speakers=1,
        diarization_max_speakers=8,
        diarization_device="auto",
    )
    assert session.transcribe(audio, **defaults) == session.transcribe(audio)
    with pytest.raises(TypeError, match="unexpected keyword argument 'langauge'"):
        session.transcribe(audio, langauge="en")


@pytest.mark.parametrize("name", ["transcribe", "transcribe_batch"])
def test_the_top_level_functions_take_the_session_methods_arguments(name: str) -> None:
    # They spell the keywords out again, for help() and type checkers; the copies must agree.
    top_level = dict(inspect.signature(getattr(qasr, name)).parameters)
    method = dict(inspect.signature(getattr(Session, name)).parameters)
    del method["self"]
    defaults = [top_level.pop("model").default, top_level.pop("dtype").default]
    assert defaults == [qasr.DEFAULT_MODEL, None]
    assert top_level == method


def test_every_public_name_resolves_and_the_entry_points_are_public() -> None:
    assert [name for name in qasr.__all__ if not hasattr(qasr, name)] == []
    assert set(session_module.__all__) <= set(qasr.__all__)


def test_the_seed_streaming_names_work(session: Session) -> None:
    # Streaming itself is tested in tests/app/use_cases/streaming; these are its seed names.
    state = session.init_streaming(chunk_size_sec=1.0)
    for _ in range(3):
        state = session.feed_audio(np.zeros(16000, dtype=np.float32), state)
    state = session.finish_streaming(state)
    assert state.finished and state.text == ""
    assert session.streaming_metrics(state)["audio_seconds"] == 3.0


def test_model_info_is_a_call_and_a_mapping_with_both_key_names() -> None:
    session = Session(RecordingRecognizer())
    info = session.model_info
    assert info() == info and info["dtype"] == "float32"
    assert (info["model_id"], info["resolved_model_path"], info["support_languages"]) == (
        info["model"],
        info["path"],
        info["languages"],
    )


def test_load_audio_gives_16k_mono_float32(tmp_path: Path) -> None:
    stereo = np.stack([tone(0.5, 220)[::2], tone(0.5, 440)[::2]], axis=1)  # 8 kHz, 2 channels
    write_wav(tmp_path / "clip.wav", stereo, 8_000)
    samples = qasr.load_audio(tmp_path / "clip.wav")
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - 8_000) <= 2


def test_align_times_a_known_text_without_recognising(loaded_aligners: list) -> None:
    recognizer = FakeRecognizer()
    source = FakeAudioSource({"talk.wav": (tone(2.0, 300), RATE)})
    session = Session(recognizer, audio_source=source)
    transcript = session.align("talk.wav", "hello there 你好", language="en")
    assert [w.text for w in transcript.segments] == ["hello", "there", "你", "好"]
    assert transcript.language == find_language("English") and recognizer.calls == []
    assert loaded_aligners == [(bootstrap.DEFAULT_ALIGNER, None)]


# --- once through the real MLX recognizer on a tiny random checkpoint ---------------------------


@pytest.fixture(scope="module")
def tiny_asr_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from tests.support.official import build_official_model, save_official_checkpoint
    from tests.support.qwen_vocab import write_qwen_tokenizer_files

    folder = tmp_path_factory.mktemp("tiny-asr")
    save_official_checkpoint(build_official_model(seed=0), folder)
    write_qwen_tokenizer_files(folder)
    yield str(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_the_seed_names_on_the_mlx_recognizer(
    tiny_asr_checkpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    mx = pytest.importorskip("mlx.core")
    audio = np.random.default_rng(0).normal(0, 0.1, 2 * RATE).astype(np.float32)
    model = qasr.load_model(tiny_asr_checkpoint, dtype=mx.float32)
    asked = dict(context="MLX Qwen", language="English", max_new_tokens=3)
    full = qasr.transcribe(audio, model=model, return_chunks=True, verbose=True, **asked)
    assert "qasr: completed" in capsys.readouterr().err
    [chunk] = full.chunks
    assert chunk.text == full.text and (chunk.start, chunk.end) == (0.0, 2.0)
    assert full.truncated is (chunk.finish_reason is qasr.FinishReason.LENGTH)
    by_name = qasr.transcribe(audio, model=tiny_asr_checkpoint, dtype=mx.float32, **asked)
    assert attrs.evolve(full, chunks=()) == by_name and by_name.chunks == ()
    info = Session(model).model_info
    assert info["model_id"] == tiny_asr_checkpoint and info()["dtype"] == "float32"
    # Speculative decoding (the seed's names): the same transcript, draft by name or object.
    plain = qasr.transcribe(audio, model=model, max_new_tokens=12)
    drafted = qasr.transcribe(
        audio, model=model, max_new_tokens=12, draft_model=tiny_asr_checkpoint, num_draft_tokens=3
    )
    assert drafted == plain
    assert Session(model).transcribe_batch([audio], max_new_tokens=12, draft_model=model) == [plain]


@pytest.mark.parametrize("at_hand", [True, False])
def test_speakers_without_an_aligner_at_hand_are_transcribed_turn_by_turn(
    loaded_aligners: list[tuple[str, str | None]], monkeypatch: pytest.MonkeyPatch, at_hand: bool
) -> None:
    from qasr.testing import FakeDiarizer

    monkeypatch.setattr(bootstrap, "model_at_hand", lambda name: at_hand)
    session = Session(FakeRecognizer(), diarizer=FakeDiarizer(turn_seconds=1.0))
    transcript = session.transcribe(tone(3.0, 220), diarize=True)
    assert [t.speaker for t in transcript.speakers] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]
    assert all(turn.text for turn in transcript.speakers)
    # Word times (and the aligner) only when it is at hand; turn by turn otherwise.
    assert bool(loaded_aligners) is at_hand
