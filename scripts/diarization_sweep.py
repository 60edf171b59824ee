"""Score several settings of the built-in diarizer on one seed's synthetic conversations, fast.

The conversations are `scripts/diarization_eval.py`'s (same seed, same random stream, the three
variants of each); the networks' outputs and the pitch track are computed once per clip and
reused by every setting, so a setting after the first costs only the clustering and refinement.
One JSON line per setting: collar / no-collar DER, speaker counts right, the wrong counts.
Tuning studies (docs/benchmarks/diarization_tuning/) use seeds other than 2026, which
diarization.json keeps for the one final run.

    python3 scripts/diarization_sweep.py --seed 7 '{"pitch_weight": 0}' '{"pitch_weight": 0.15}'
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import diarization_eval as evaluation
import numpy as np

from qasr.adapters.diarization import builtin
from qasr.domain import AudioClip
from qasr.domain.diarization_error import diarization_error


def remembered(compute: Callable[..., Any]) -> Callable[..., Any]:
    """`compute` memoised on its arguments' values (arrays by their bytes, models by identity)."""
    cache: dict[tuple[object, ...], Any] = {}

    def key(value: object) -> object:
        if isinstance(value, np.ndarray):
            return (value.shape, hashlib.sha1(np.ascontiguousarray(value).tobytes()).hexdigest())
        return value if isinstance(value, int | float | str) else id(value)

    @functools.wraps(compute)
    def wrapped(*args: object) -> Any:
        name = tuple(key(value) for value in args)
        if name not in cache:
            cache[name] = compute(*args)
        return cache[name]

    return wrapped


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="+", help="BuiltinDiarizer keyword arguments, as JSON")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--per-count", type=int, default=4)
    parser.add_argument("--speaker-counts", default="2,3,4")
    parser.add_argument("--pitch-spread", type=int, default=0)
    args = parser.parse_args(argv)
    if args.seed == 2026:
        parser.error("seed 2026 is the held-out set: tune on other seeds")
    # The module's own names, so that every BuiltinDiarizer below reads through the memo.
    for name in ("embed_windows", "speech_probabilities", "pitch_track"):
        setattr(builtin, name, remembered(getattr(builtin, name)))
    counts = [int(count) for count in args.speaker_counts.split(",")]
    made, _ = evaluation.synthesised(counts, args.per_count, args.seed, args.pitch_spread)
    files = [
        (speakers, variant, samples, reference)
        for speakers, audio, reference, noise_seed in made
        for variant, samples in evaluation.variants(audio, noise_seed)
    ]
    for setting in args.settings:
        started = time.perf_counter()
        diarizer = builtin.BuiltinDiarizer(**json.loads(setting))
        errors = {0.0: 0.0, 0.25: 0.0}
        speech = {0.0: 0.0, 0.25: 0.0}
        wrong = []
        for speakers, variant, samples, reference in files:
            turns = diarizer.diarize(AudioClip(samples, evaluation.RATE, variant))
            found = len({turn.speaker for turn in turns})
            if found != speakers:
                wrong.append(f"{speakers} {variant} -> {found}")
            for collar in errors:
                error = diarization_error(reference, turns, collar=collar)
                errors[collar] += error.missed + error.false_alarm + error.confusion
                speech[collar] += error.reference_speech
        row = {
            "seed": args.seed,
            "speaker_counts": counts,
            "pitch_spread": args.pitch_spread,
            "setting": json.loads(setting),
            "der_collar_0.25": round(errors[0.25] / speech[0.25], 4),
            "der_no_collar": round(errors[0.0] / speech[0.0], 4),
            "speaker_count_right": len(files) - len(wrong),
            "files": len(files),
            "wrong_counts": wrong,
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
