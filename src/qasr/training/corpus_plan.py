"""What a synthetic corpus will say, and in which voice: every clip decided before any is spoken.

Held out twice over: `valid` and `test` speak only with the voice variants in HELD_OUT_VARIANTS,
which never speak in `train`, and none of their sentences is a `train` sentence.

A clip's plan depends only on the seed, the `valid` and `test` sizes, its split and its index, so
a rerun plans the same clips and a larger `train` only appends. `qasr.training.corpus_render`
turns a plan into audio; `qasr.training.synth` is the command that does both.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs

from qasr.errors import FeatureUnavailableError
from qasr.training.augment import Effects, random_effects
from qasr.training.english import EverydayEnglish
from qasr.training.speech import ACCENTS, Utterance, Voice

SPLITS = ("train", "valid", "test")
# Voice variants kept out of training: the held-out speakers of `valid` and `test` (all in both
# Debian's espeak-ng 1.51 data and the wheel's 1.52 data).
HELD_OUT_VARIANTS = ("f3", "m4", "klatt2", "Andy", "linda", "steph2", "Storm")


@attrs.frozen
class ClipPlan:
    """Everything that decides one clip's audio."""

    utterance: Utterance
    effects: Effects

    @property
    def text(self) -> str:
        return self.utterance.text


@attrs.frozen
class CorpusPlan:
    train: tuple[ClipPlan, ...]
    valid: tuple[ClipPlan, ...]
    test: tuple[ClipPlan, ...]


def split_voices(variants: Sequence[str]) -> tuple[tuple[Voice, ...], tuple[Voice, ...]]:
    """(training voices, held-out voices): every accent with every variant, split by variant."""
    held = [variant for variant in variants if variant in HELD_OUT_VARIANTS]
    if not held:
        raise FeatureUnavailableError(
            f"espeak-ng offers none of the held-out variants {', '.join(HELD_OUT_VARIANTS)}"
        )
    train = [variant for variant in variants if variant not in HELD_OUT_VARIANTS]
    return (
        tuple(Voice(accent, variant) for variant in train for accent in ACCENTS),
        tuple(Voice(accent, variant) for variant in held for accent in ACCENTS),
    )


def plan_clip(rng: random.Random, text: str, voices: Sequence[Voice]) -> ClipPlan:
    utterance = Utterance(
        text=text,
        voice=rng.choice(voices),
        words_per_minute=rng.randint(130, 200),
        pitch=rng.randint(20, 80),
        word_gap=rng.choice((0, 0, 0, 1, 2)),
    )
    return ClipPlan(utterance, random_effects(rng))


def plan_corpus(
    english: EverydayEnglish,
    variants: Sequence[str],
    *,
    train: int,
    valid: int,
    test: int,
    seed: int,
) -> CorpusPlan:
    """The clips of every split. Held-out sentences are drawn first and never reused; each split
    draws its voices and effects from its own generator, so `--train` changes neither `valid` nor
    `test`, and a larger `--train` only appends clips."""
    texts = random.Random(f"{seed}:texts")
    train_voices, held_voices = split_voices(variants)
    held_texts: list[str] = []
    seen: set[str] = set()
    while len(held_texts) < valid + test:
        text = english.sentence(texts)
        if text not in seen:
            seen.add(text)
            held_texts.append(text)
    train_texts: list[str] = []
    while len(train_texts) < train:
        text = english.sentence(texts)
        if text not in seen:  # repeats within train are fine; a held-out sentence is not
            train_texts.append(text)

    def plans(
        split: str, split_texts: Sequence[str], voices: Sequence[Voice]
    ) -> tuple[ClipPlan, ...]:
        rng = random.Random(f"{seed}:{split}")
        return tuple(plan_clip(rng, text, voices) for text in split_texts)

    return CorpusPlan(
        train=plans("train", train_texts, train_voices),
        valid=plans("valid", held_texts[:valid], held_voices),
        test=plans("test", held_texts[valid:], held_voices),
    )


def vocabulary_counts(plan: CorpusPlan, frequent: Sequence[str]) -> dict[str, int]:
    """How much of the word list the corpus says, and what the held-out splits say that
    `train` never does (words a model trained on it has not heard)."""

    def spoken(clips: Sequence[ClipPlan]) -> set[str]:
        return {word.strip(".?").lower() for clip in clips for word in clip.text.split()}

    train_words, held_words = spoken(plan.train), spoken([*plan.valid, *plan.test])
    return {
        "frequent_words": len(frequent),
        "frequent_words_in_train": len(train_words & set(frequent)),
        "distinct_train_words": len(train_words),
        "held_out_words_not_in_train": len(held_words - train_words),
    }
