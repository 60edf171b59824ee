"""A synthetic English speech corpus: Faker's words and names, spoken by espeak-ng, shaped by sox.

    python -m qasr.training.synth corpus/ --train 20000 --test 400 --seed 0

writes `corpus/{train,valid,test}.jsonl` (the `qasr train` manifest format), one 16 kHz mono WAV
per row under `corpus/clips/`, and `corpus/corpus.json` (the settings and tool versions).

Sentences are lower-case words from Faker's English word list, with capitalised first and last
names, spelled-out numbers and dates ("on March twenty first"), so every word a clip says is a
word the transcript writes. Each clip gets an espeak-ng voice (an English accent plus a voice
variant), a random speed and pitch, and sox gain, optional reverb and optional noise. The same
seed gives the same corpus (for the same Faker, espeak-ng and sox). `valid` and `test` are held
out twice over: their voice variants never speak in `train`, and none of their sentences is a
`train` sentence.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import attrs

from qasr.errors import FeatureUnavailableError, InvalidInputError

SAMPLE_RATE = 16_000
ProgressSink = Callable[[str], None]
# espeak-ng's English accents (Debian's espeak-ng-data); every one speaks in every split.
ACCENTS = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
# Voice variants kept out of training: the held-out speakers of `valid` and `test`.
HELD_OUT_VARIANTS = ("f3", "m4", "klatt2", "Andy", "linda", "steph2", "Storm")
# Variants too far from speech to learn from (whispers) or missing from older espeak-ng data.
SKIPPED_VARIANTS = frozenset({"whisper", "whisperf"})
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL_ONES = [
    "_",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
_ORDINAL_TENS = ["_", "_", "twentieth", "thirtieth"]


def number_words(n: int) -> str:
    """0 <= n < 1,000,000 in words, as espeak-ng says it: 'four thousand two hundred seven'."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"{n} is out of range")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    for size, name in ((1000, "thousand"), (100, "hundred")):
        if n >= size:
            high, rest = divmod(n, size)
            return f"{number_words(high)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def ordinal_words(day: int) -> str:
    """1 <= day <= 31 as an ordinal: 'twenty first'."""
    if not 1 <= day <= 31:
        raise ValueError(f"{day} is not a day of the month")
    if day < 20:
        return _ORDINAL_ONES[day]
    tens, ones = divmod(day, 10)
    return _ORDINAL_TENS[tens] if not ones else f"{_TENS[tens]} {_ORDINAL_ONES[ones]}"


@attrs.frozen
class Vocabulary:
    words: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]

    @classmethod
    def from_faker(cls, words: int | None = None, names: int = 80) -> Vocabulary:
        """`words` words of Faker's English word list (all 971 by default) and `names` first and
        last names, picked by a fixed seed, so a smaller corpus can still cover its vocabulary."""
        try:
            from faker.providers.lorem.en_US import Provider as Lorem
            from faker.providers.person.en_US import Provider as Person
        except ImportError:
            raise FeatureUnavailableError(
                "the synthetic corpus takes its words from Faker: pip install 'qasr[synth]'"
            ) from None
        pick = random.Random(0)
        every_word = sorted(set(Lorem.word_list))
        if words is not None and not 1 <= words <= len(every_word):
            raise InvalidInputError(f"--words must be between 1 and {len(every_word)}")
        chosen = every_word if words is None else pick.sample(every_word, words)
        return cls(
            words=tuple(sorted(chosen)),
            first_names=tuple(sorted(pick.sample(sorted(set(Person.first_names)), names))),
            last_names=tuple(sorted(pick.sample(sorted(set(Person.last_names)), names))),
        )


def make_sentence(rng: random.Random, vocabulary: Vocabulary) -> str:
    """One transcript: 3-7 words, sometimes with a name, a number or a date."""

    def words(low: int, high: int) -> list[str]:
        return [rng.choice(vocabulary.words) for _ in range(rng.randint(low, high))]

    kind = rng.random()
    if kind < 0.5:
        parts = words(3, 7)
    elif kind < 0.65:
        name = [rng.choice(vocabulary.first_names), rng.choice(vocabulary.last_names)]
        parts = name + words(2, 4) if rng.random() < 0.5 else words(2, 4) + name
    elif kind < 0.825:
        number = rng.choice((rng.randint(0, 20), rng.randint(21, 999), rng.randint(1000, 9999)))
        parts = [*words(2, 4), number_words(number)]
    else:
        month = rng.choice(MONTHS)
        parts = [*words(2, 4), "on", month, ordinal_words(rng.randint(1, 28))]
    return " ".join(parts)


@attrs.frozen
class Voice:
    accent: str
    variant: str

    @property
    def name(self) -> str:
        return f"{self.accent}+{self.variant}"


def espeak_variants() -> tuple[str, ...]:
    """The voice variants the installed espeak-ng offers (its `!v/NAME` voice files)."""
    listing = _run(["espeak-ng", "--voices=variant"]).stdout.decode()
    variants = []
    for line in listing.splitlines()[1:]:
        columns = line.split()
        file = next((column for column in columns if column.startswith("!v/")), None)
        if file is not None and file[3:] not in SKIPPED_VARIANTS:
            variants.append(file[3:])
    return tuple(sorted(set(variants)))


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


@attrs.frozen
class ClipPlan:
    """Everything that decides one clip's audio."""

    text: str
    voice: Voice
    words_per_minute: int
    pitch: int
    gain_db: float
    reverb: int  # sox reverberance 0-100; 0: none
    noise: float  # sox whitenoise volume; 0: none

    def espeak_command(self, wav: Path) -> list[str]:
        return [
            "espeak-ng",
            "-v",
            self.voice.name,
            "-s",
            str(self.words_per_minute),
            "-p",
            str(self.pitch),
            "-w",
            str(wav),
            self.text,
        ]

    def sox_command(self, raw: Path, out: Path) -> list[str]:
        # -R: repeatable (fixed seeds), -D: no dither, so a seed gives the same bytes.
        effects = ["rate", str(SAMPLE_RATE)]
        if self.reverb:
            effects += ["reverb", str(self.reverb)]
        effects += ["gain", "-n", f"{self.gain_db:.1f}"]
        if not self.noise:
            return ["sox", "-R", "-D", str(raw), "-b", "16", str(out), "channels", "1", *effects]
        noise = f"|sox -R -D {raw} -p synth whitenoise vol {self.noise:.4f}"
        return ["sox", "-R", "-D", "-m", str(raw), noise, "-b", "16", str(out), "channels", "1",
                *effects]  # fmt: skip


def plan_clip(rng: random.Random, text: str, voices: Sequence[Voice]) -> ClipPlan:
    return ClipPlan(
        text=text,
        voice=rng.choice(voices),
        words_per_minute=rng.randint(135, 195),
        pitch=rng.randint(25, 75),
        gain_db=round(rng.uniform(-12.0, -1.0), 1),
        reverb=rng.choice((0, 0, rng.randint(10, 50))),
        noise=rng.choice((0.0, round(rng.uniform(0.003, 0.03), 4))),
    )


@attrs.frozen
class CorpusPlan:
    train: tuple[ClipPlan, ...]
    valid: tuple[ClipPlan, ...]
    test: tuple[ClipPlan, ...]


def plan_corpus(
    vocabulary: Vocabulary,
    variants: Sequence[str],
    *,
    train: int,
    valid: int,
    test: int,
    seed: int,
) -> CorpusPlan:
    """The clips of every split; held-out sentences are drawn first and never reused."""
    rng = random.Random(seed)
    train_voices, held_voices = split_voices(variants)
    held_texts: list[str] = []
    seen: set[str] = set()
    while len(held_texts) < valid + test:
        text = make_sentence(rng, vocabulary)
        if text not in seen:
            seen.add(text)
            held_texts.append(text)
    train_texts = []
    while len(train_texts) < train:
        text = make_sentence(rng, vocabulary)
        if text not in seen:  # repeats within train are fine; a held-out sentence is not
            train_texts.append(text)
    return CorpusPlan(
        train=tuple(plan_clip(rng, text, train_voices) for text in train_texts),
        valid=tuple(plan_clip(rng, text, held_voices) for text in held_texts[:valid]),
        test=tuple(plan_clip(rng, text, held_voices) for text in held_texts[valid:]),
    )


def _run(command: list[str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(command, check=True, capture_output=True)
    except FileNotFoundError:
        raise FeatureUnavailableError(
            f"{command[0]} is not installed; on Debian or Ubuntu: apt-get install espeak-ng sox"
        ) from None
    except subprocess.CalledProcessError as error:
        detail = error.stderr.decode(errors="replace").strip()
        raise FeatureUnavailableError(f"{command[0]} failed: {detail}") from None


def render_clip(plan: ClipPlan, out: Path) -> None:
    """Speak `plan` into `out` (16 kHz mono 16-bit WAV)."""
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.wav"
        part = Path(scratch) / "out.wav"
        _run(plan.espeak_command(raw))
        _run(plan.sox_command(raw, part))
        # Moved into place whole, so a rerun after an interruption can skip every file it finds.
        shutil.move(part, out)


def _render(job: tuple[ClipPlan, str]) -> None:
    render_clip(job[0], Path(job[1]))


def write_corpus(
    folder: Path,
    plan: CorpusPlan,
    *,
    jobs: int = 1,
    on_progress: ProgressSink | None = None,
) -> dict[str, Path]:
    """Render every clip and write the manifests; clips already there are kept, so an
    interrupted run continues where it stopped."""
    clips = folder / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    manifests: dict[str, Path] = {}
    for split in ("train", "valid", "test"):
        plans: tuple[ClipPlan, ...] = getattr(plan, split)
        names = [f"{split}-{index:06d}.wav" for index in range(len(plans))]
        todo = [
            (p, str(clips / n))
            for p, n in zip(plans, names, strict=True)
            if not (clips / n).is_file()
        ]
        _render_all(todo, jobs, split, on_progress)
        rows = [
            json.dumps(
                {
                    "audio": f"clips/{name}",
                    "text": p.text,
                    "language": "English",
                    "voice": p.voice.name,
                },
                ensure_ascii=False,
            )
            for p, name in zip(plans, names, strict=True)
        ]
        manifests[split] = folder / f"{split}.jsonl"
        manifests[split].write_text("\n".join(rows) + "\n", encoding="utf-8")
    return manifests


def _render_all(
    todo: list[tuple[ClipPlan, str]], jobs: int, split: str, on_progress: ProgressSink | None
) -> None:
    report = on_progress or (lambda line: None)
    if jobs <= 1:
        for done, job in enumerate(todo, start=1):
            _render(job)
            if done % 200 == 0 or done == len(todo):
                report(f"{split}: {done}/{len(todo)} clips")
        return
    with ProcessPoolExecutor(jobs) as pool:
        for done, _ in enumerate(pool.map(_render, todo, chunksize=16), start=1):
            if done % 200 == 0 or done == len(todo):
                report(f"{split}: {done}/{len(todo)} clips")


def tool_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {
        "faker": version("faker"),
        "espeak-ng": _run(["espeak-ng", "--version"]).stdout.decode().split()[3],
        "sox": _run(["sox", "--version"]).stdout.decode().split()[-1],
    }


def make_corpus(
    folder: Path,
    *,
    train: int,
    valid: int,
    test: int,
    seed: int = 0,
    words: int | None = None,
    names: int = 80,
    jobs: int = 1,
    on_progress: ProgressSink | None = None,
) -> dict[str, Path]:
    """Plan, render and describe a corpus in `folder`; the manifests' paths by split."""
    for count, name in ((train, "train"), (valid, "valid"), (test, "test")):
        if count < 0:
            raise InvalidInputError(f"--{name} must be >= 0, got {count}")
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise FeatureUnavailableError(
                f"{tool} is not installed; on Debian or Ubuntu: apt-get install espeak-ng sox"
            )
    vocabulary = Vocabulary.from_faker(words, names)
    variants = espeak_variants()
    plan = plan_corpus(vocabulary, variants, train=train, valid=valid, test=test, seed=seed)
    manifests = write_corpus(folder, plan, jobs=jobs, on_progress=on_progress)
    train_voices, held_voices = split_voices(variants)
    description = {
        "seed": seed,
        "sizes": {"train": train, "valid": valid, "test": test},
        "versions": tool_versions(),
        "held_out_voices": [voice.name for voice in held_voices],
        "train_voices": len(train_voices),
        "words": list(vocabulary.words),
        "names": [*vocabulary.first_names, *vocabulary.last_names],
    }
    (folder / "corpus.json").write_text(json.dumps(description, indent=1) + "\n", "utf-8")
    return manifests


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qasr.training.synth",
        description="Write a synthetic English speech corpus (espeak-ng + sox) for qasr train.",
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--train", type=int, default=20_000, help="training clips (20000)")
    parser.add_argument("--valid", type=int, default=64, help="held-out validation clips (64)")
    parser.add_argument("--test", type=int, default=400, help="held-out test clips (400)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--words", type=int, help="words of Faker's list to use (all 971)")
    parser.add_argument("--names", type=int, default=80, help="first and last names each (80)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    try:
        manifests = make_corpus(
            args.folder,
            train=args.train,
            valid=args.valid,
            test=args.test,
            seed=args.seed,
            words=args.words,
            names=args.names,
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
