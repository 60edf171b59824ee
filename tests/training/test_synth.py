"""The synthetic corpus: held-out voices and sentences, determinism, parallel and resumed runs."""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import pytest
from tests.training.test_speech import BACKENDS

from qasr.adapters.audio import load_audio
from qasr.domain import SAMPLE_RATE
from qasr.errors import FeatureUnavailableError, InvalidInputError
from qasr.training import corpus_plan, synth
from qasr.training.augment import random_effects
from qasr.training.corpus_render import MAX_SECONDS, render_clip
from qasr.training.english import EverydayEnglish
from qasr.training.lexicon import everyday_lexicon
from qasr.training.manifest import read_manifest
from qasr.training.speech import ACCENTS, Utterance, Voice, open_speaker

VARIANTS = ("m1", "m2", "f1", "f3", "m4", "croak")


@pytest.fixture(scope="module")
def english() -> EverydayEnglish:
    return EverydayEnglish()


def test_held_out_voices_and_sentences_never_reach_training(english: EverydayEnglish) -> None:
    plan = corpus_plan.plan_corpus(english, VARIANTS, train=400, valid=20, test=40, seed=3)
    held = [*plan.valid, *plan.test]
    train_variants = {clip.utterance.voice.variant for clip in plan.train}
    assert train_variants.isdisjoint({clip.utterance.voice.variant for clip in held})
    assert {clip.utterance.voice.variant for clip in held} <= set(corpus_plan.HELD_OUT_VARIANTS)
    assert {clip.text for clip in plan.train}.isdisjoint({clip.text for clip in held})
    assert len({clip.text for clip in held}) == len(held)  # held-out sentences are distinct
    assert {clip.utterance.voice.accent for clip in plan.train} == set(ACCENTS)


def test_the_plan_is_a_function_of_the_seed(english: EverydayEnglish) -> None:
    def make(seed: int, train: int = 50) -> corpus_plan.CorpusPlan:
        return corpus_plan.plan_corpus(english, VARIANTS, train=train, valid=5, test=5, seed=seed)

    assert make(1) == make(1)
    assert make(1) != make(2)
    larger = make(1, train=80)  # a larger --train appends; valid and test stay the same
    assert larger.train[:50] == make(1).train
    assert (larger.valid, larger.test) == (make(1).valid, make(1).test)


def _corpus(folder: Path, backend: str, jobs: int = 1, **sizes: int) -> dict[str, Path]:
    counts = {"train": 4, "valid": 1, "test": 2} | sizes
    return synth.make_corpus(folder, seed=5, backend=backend, jobs=jobs, **counts)


def _clip_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((folder / "clips").glob("*.wav"))}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_corpus_is_written_and_reproducible(tmp_path: Path, backend: str) -> None:
    first = _corpus(tmp_path / "a", backend)
    _corpus(tmp_path / "b", backend)
    assert _clip_bytes(tmp_path / "a") == _clip_bytes(tmp_path / "b")
    for split, size in (("train", 4), ("valid", 1), ("test", 2)):
        examples = read_manifest(first[split])
        assert len(examples) == size
        for example in examples:
            samples = load_audio(example.audio)
            seconds = samples.size / SAMPLE_RATE
            assert 0.8 < seconds <= MAX_SECONDS and abs(samples).max() > 0.05
            assert example.language is not None and example.language.name == "English"
    description = json.loads((tmp_path / "a" / "corpus.json").read_text())
    assert description["sizes"] == {"train": 4, "valid": 1, "test": 2}
    assert description["settings"]["espeak"].endswith(f"({backend})")


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_parallel_workers_write_the_same_bytes(tmp_path: Path, backend: str) -> None:
    _corpus(tmp_path / "one", backend, jobs=1, train=6)
    _corpus(tmp_path / "two", backend, jobs=2, train=6)
    assert _clip_bytes(tmp_path / "one") == _clip_bytes(tmp_path / "two")


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_interrupted_corpus_continues_where_it_stopped(tmp_path: Path, backend: str) -> None:
    manifests = _corpus(tmp_path, backend)
    clips = [example.audio for example in read_manifest(manifests["train"])]
    kept = clips[0].stat().st_mtime_ns
    lost = clips[1].read_bytes()
    clips[1].unlink()
    (tmp_path / "clips" / "train-000002.wav.part").write_bytes(b"half a clip")
    _corpus(tmp_path, backend, train=6)  # resumed, and grown
    assert clips[0].stat().st_mtime_ns == kept  # not rendered again
    assert clips[1].read_bytes() == lost
    assert len(read_manifest(tmp_path / "train.jsonl")) == 6
    with pytest.raises(InvalidInputError, match="other settings"):
        synth.make_corpus(tmp_path, train=6, valid=1, test=2, seed=6, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_long_sentence_is_spoken_faster_to_fit(tmp_path: Path, backend: str) -> None:
    speaker = open_speaker(backend)
    text = " ".join(["the quick brown fox jumps over the lazy dog"] * 3)
    utterance = Utterance(text, Voice("en-us", "m1"), 130, 50, word_gap=2)
    effects = random_effects(random.Random(0))
    seconds = render_clip(speaker, corpus_plan.ClipPlan(utterance, effects), tmp_path / "a.wav")
    assert seconds <= MAX_SECONDS


def test_missing_espeak_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    with pytest.raises(FeatureUnavailableError, match="espeak-ng"):
        synth.make_corpus(tmp_path / "c", train=1, valid=1, test=1)
    assert synth.main([str(tmp_path / "c"), "--train", "1"]) == 2


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_bad_sizes_are_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synth.main([str(tmp_path), "--train", "-1", "--espeak", "program"]) == 2
    assert synth.main([str(tmp_path), "--words", "10", "--espeak", "program"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and all(line.startswith("synth: error: --") for line in errors)


def test_vocabulary_counts_say_what_held_out_words_train_lacks(english: EverydayEnglish) -> None:
    plan = corpus_plan.plan_corpus(english, VARIANTS, train=300, valid=10, test=10, seed=0)
    counts = corpus_plan.vocabulary_counts(plan, everyday_lexicon().words)
    assert counts["frequent_words"] == 5000
    assert 0 < counts["frequent_words_in_train"] <= counts["distinct_train_words"]
    assert counts["held_out_words_not_in_train"] > 0  # 300 sentences cannot cover 5,000 words
