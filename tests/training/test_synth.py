"""The synthetic corpus: spoken numbers, held-out voices and sentences, deterministic audio."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qasr.adapters.audio import load_audio
from qasr.errors import FeatureUnavailableError, InvalidInputError
from qasr.training import synth
from qasr.training.manifest import read_manifest

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="needs espeak-ng and sox (apt-get install espeak-ng sox)",
)
pytest.importorskip("faker")

_SMALL = {word: n for n, word in enumerate(synth._ONES)} | {
    word: 10 * n for n, word in enumerate(synth._TENS) if word != "_"
}


def parse_number(text: str) -> int:
    """The inverse of number_words, written independently of it."""
    total = current = 0
    for word in text.split():
        if word == "hundred":
            current *= 100
        elif word == "thousand":
            total, current = (total + current) * 1000, 0
        else:
            current += _SMALL[word]
    return total + current


@given(st.integers(0, 999_999))
def test_number_words_read_back(n: int) -> None:
    assert parse_number(synth.number_words(n)) == n


def test_ordinals() -> None:
    days = [synth.ordinal_words(day) for day in range(1, 32)]
    assert days[0] == "first" and days[20] == "twenty first" and days[29] == "thirtieth"
    assert len(set(days)) == 31
    with pytest.raises(ValueError):
        synth.ordinal_words(32)


@pytest.fixture(scope="module")
def vocabulary() -> synth.Vocabulary:
    return synth.Vocabulary.from_faker(names=20)


VARIANTS = ("m1", "m2", "f1", "f3", "m4", "croak")


@given(st.integers(0, 2**32))
def test_sentences_use_only_the_vocabulary(seed: int) -> None:
    vocabulary = synth.Vocabulary.from_faker(words=100, names=20)
    known = {*vocabulary.words, *vocabulary.first_names, *vocabulary.last_names, "on"}
    known |= {*synth.MONTHS, *_SMALL, "hundred", "thousand", *synth._ORDINAL_ONES[1:]}
    known |= set(synth._ORDINAL_TENS[2:])
    words = synth.make_sentence(random.Random(seed), vocabulary).split()
    assert 3 <= len(words) <= 11
    assert set(words) <= known


def test_a_smaller_vocabulary_is_a_fixed_subset() -> None:
    every = synth.Vocabulary.from_faker()
    small = synth.Vocabulary.from_faker(words=50, names=5)
    assert small == synth.Vocabulary.from_faker(words=50, names=5)
    assert len(small.words) == 50 and set(small.words) <= set(every.words)
    assert len(small.first_names) == len(small.last_names) == 5
    with pytest.raises(InvalidInputError):
        synth.Vocabulary.from_faker(words=0)


def test_held_out_voices_and_sentences_never_reach_training(vocabulary: synth.Vocabulary) -> None:
    plan = synth.plan_corpus(vocabulary, VARIANTS, train=400, valid=20, test=40, seed=3)
    train_variants = {clip.voice.variant for clip in plan.train}
    held = [*plan.valid, *plan.test]
    assert train_variants.isdisjoint({clip.voice.variant for clip in held})
    assert {clip.voice.variant for clip in held} <= set(synth.HELD_OUT_VARIANTS)
    assert {clip.text for clip in plan.train}.isdisjoint({clip.text for clip in held})
    assert len({clip.text for clip in held}) == len(held)  # held-out sentences are distinct
    assert {clip.voice.accent for clip in plan.train} == set(synth.ACCENTS)


def test_the_plan_is_a_function_of_the_seed(vocabulary: synth.Vocabulary) -> None:
    def make(seed: int) -> synth.CorpusPlan:
        return synth.plan_corpus(vocabulary, VARIANTS, train=50, valid=5, test=5, seed=seed)

    assert make(1) == make(1)
    assert make(1) != make(2)


@needs_espeak
def test_a_corpus_is_written_and_reproducible(tmp_path: Path) -> None:
    first = synth.make_corpus(tmp_path / "a", train=3, valid=1, test=2, seed=5)
    second = synth.make_corpus(tmp_path / "b", train=3, valid=1, test=2, seed=5)
    examples = read_manifest(first["train"])
    assert [example.text for example in examples] == [
        example.text for example in read_manifest(second["train"])
    ]
    for example in examples:
        samples = load_audio(example.audio)
        seconds = samples.size / synth.SAMPLE_RATE
        assert 0.5 < seconds < 8.0 and abs(samples).max() > 0.05
        twin = tmp_path / "b" / example.audio.relative_to(tmp_path / "a")
        assert example.audio.read_bytes() == twin.read_bytes()
    description = json.loads((tmp_path / "a" / "corpus.json").read_text())
    assert description["sizes"] == {"train": 3, "valid": 1, "test": 2}
    assert len(read_manifest(first["test"])) == 2


@needs_espeak
def test_noise_and_reverb_change_the_audio(tmp_path: Path) -> None:
    voice = synth.Voice("en-us", "m1")
    clean = synth.ClipPlan("hello there", voice, 160, 50, -3.0, reverb=0, noise=0.0)
    noisy = synth.ClipPlan("hello there", voice, 160, 50, -3.0, reverb=40, noise=0.02)
    synth.render_clip(clean, tmp_path / "clean.wav")
    synth.render_clip(noisy, tmp_path / "noisy.wav")
    a, b = load_audio(tmp_path / "clean.wav"), load_audio(tmp_path / "noisy.wav")
    assert a.size > 0 and b.size >= a.size  # reverb may add a tail
    assert abs(a[: b.size] - b[: a.size]).max() > 0.01


def test_missing_tools_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FeatureUnavailableError, match="espeak-ng"):
        synth.make_corpus(tmp_path / "c", train=1, valid=1, test=1)


@needs_espeak
def test_an_interrupted_corpus_continues_where_it_stopped(tmp_path: Path) -> None:
    manifests = synth.make_corpus(tmp_path, train=3, valid=1, test=1, seed=2)
    clips = [example.audio for example in read_manifest(manifests["train"])]
    kept = clips[0].stat().st_mtime_ns
    lost = clips[1].read_bytes()
    clips[1].unlink()
    synth.make_corpus(tmp_path, train=3, valid=1, test=1, seed=2)
    assert clips[0].stat().st_mtime_ns == kept  # not rendered again
    assert clips[1].read_bytes() == lost
