"""Diarization error rate and speed of the built-in diarizer on synthetic conversations.

Each conversation: 2 to 4 espeak-ng voices (distinct accent, variant and pitch) take turns of one
sentence; between turns a pause of 0.2-1.0 s, or (one change in five) a short overlap of 0.1-0.3 s.
The reference turn is where the voice's samples are audible (espeak-ng's own leading and trailing
silence cut off). Every conversation is scored clean, through a telephone band (300-3400 Hz, 8 kHz
and back) and with white noise at 15 dB SNR, with the speaker count found automatically; DER with
no collar and with a 0.25 s collar (qasr.domain.diarization_error), real-time factor on this CPU.
`--speaker-counts 1` makes monologues instead: one voice must stay one speaker.

    python3 scripts/diarization_eval.py --out docs/benchmarks/diarization.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qasr.adapters.audio.resample import resample
from qasr.adapters.diarization.builtin import BuiltinDiarizer
from qasr.adapters.mlx.backend import mx
from qasr.app.bootstrap import cpu_model
from qasr.domain import AudioClip, SpeakerSpan
from qasr.domain.diarization_error import diarization_error
from qasr.training.speech import Utterance, Voice, open_speaker

RATE = 16_000
VOICES = (  # (accent, variant, pitch): distinct people, not one voice at two pitches
    ("en-us", "m3", 40),
    ("en-gb", "f2", 65),
    ("en-gb-scotland", "m7", 30),
    ("en-us", "f4", 75),
    ("en-gb-x-rp", "Andy", 50),
    ("en-029", "f1", 60),
    ("en-us-nyc", "klatt", 45),
    ("en-gb-x-gbclan", "belinda", 70),
)
SENTENCES = (
    "I think we should move the meeting to Thursday afternoon",
    "That works for me, but the report is not finished yet",
    "Can you send me the numbers from last quarter",
    "The budget looks tight, we may have to cut the travel plans",
    "Let us ask the design team what they need first",
    "I agree",
    "No, I do not think that is right",
    "We shipped the new version on Monday and the first reviews are good",
    "How many people signed up for the workshop",
    "About forty, which is more than we expected",
    "Okay, then we need a bigger room",
    "The train was late again this morning",
    "Could you repeat the last part please",
    "Sure, the deadline is the end of next month",
    "I will write the summary and share it with everyone tonight",
    "Right, thanks",
    "Has anyone talked to the customer about the delay",
    "Yes, they were fine with it as long as we keep them informed",
)


def _audible(samples: npt.NDArray[np.float32]) -> tuple[int, int]:
    loud = np.flatnonzero(np.abs(samples) > 0.02 * np.abs(samples).max())
    return (int(loud[0]), int(loud[-1]) + 1) if len(loud) else (0, 0)


def conversation(
    speaker, rng: random.Random, speakers: int, pitch_spread: int = 0
) -> tuple[npt.NDArray[np.float32], list[SpeakerSpan]]:
    voices = rng.sample(VOICES, speakers)
    order = list(range(speakers))
    rng.shuffle(order)
    turn_count = rng.randint(3 * speakers, 3 * speakers + 4)
    while speakers == 1 and len(order) < turn_count:  # a monologue: the count must stay 1
        order.append(0)
    while len(order) < turn_count:  # everyone speaks; nobody answers themselves
        order.append(rng.choice([s for s in range(speakers) if s != order[-1]]))
    pieces: list[tuple[int, npt.NDArray[np.float32]]] = []
    reference: list[SpeakerSpan] = []
    cursor = 0
    for who in order:
        accent, variant, pitch = voices[who]
        if pitch_spread:  # a voice whose pitch moves from sentence to sentence, as people's do
            pitch = min(99, max(0, pitch + rng.randint(-pitch_spread, pitch_spread)))
        utterance = Utterance(
            rng.choice(SENTENCES), Voice(accent, variant), rng.randint(150, 190), pitch
        )
        raw, rate = speaker.speak(utterance)
        samples = resample(raw.astype(np.float32) / 32768.0, rate, RATE)
        first, last = _audible(samples)
        samples = samples[first:last] * (0.3 / max(np.abs(samples).max(), 1e-6))
        if reference:
            gap = rng.uniform(-0.3, -0.1) if rng.random() < 0.2 else rng.uniform(0.2, 1.0)
            cursor = max(int(reference[-1].start * RATE) + 1, cursor + int(gap * RATE))
        else:
            cursor = int(rng.uniform(0.3, 1.0) * RATE)
        pieces.append((cursor, samples))
        reference.append(SpeakerSpan(f"S{who}", cursor / RATE, (cursor + len(samples)) / RATE))
        cursor += len(samples)
    audio = np.zeros(cursor + int(rng.uniform(0.3, 1.0) * RATE), dtype=np.float32)
    for start, samples in pieces:
        audio[start : start + len(samples)] += samples
    return audio, reference


def telephone(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    narrow = resample(audio, RATE, 8000)
    spectrum = np.fft.rfft(narrow)
    hz = np.fft.rfftfreq(len(narrow), 1 / 8000)
    spectrum[(hz < 300) | (hz > 3400)] = 0
    return resample(np.fft.irfft(spectrum, len(narrow)).astype(np.float32), 8000, RATE)


def noisy(audio: npt.NDArray[np.float32], seed: int, snr_db: float = 15.0):
    speech_power = np.mean(audio[np.abs(audio) > 0.01] ** 2)
    noise = np.random.default_rng(seed).standard_normal(len(audio))
    return (audio + noise * np.sqrt(speech_power / 10 ** (snr_db / 10))).astype(np.float32)


def variants(
    audio: npt.NDArray[np.float32], noise_seed: int
) -> tuple[tuple[str, npt.NDArray[np.float32]], ...]:
    """The three ways each conversation is scored: as spoken, through a telephone band, noisy."""
    return (("clean", audio), ("telephone", telephone(audio)), ("noisy", noisy(audio, noise_seed)))


Conversation = tuple[int, npt.NDArray[np.float32], list[SpeakerSpan], int]


def synthesised(
    counts: list[int], per_count: int, seed: int, pitch_spread: int = 0
) -> tuple[list[Conversation], str]:
    """(speakers, clean audio, reference turns, noise seed) per conversation, and espeak's
    version; one random stream makes them all, so a seed names the set."""
    speaker = open_speaker()
    rng = random.Random(seed)
    made = []
    for speakers in counts:
        for _ in range(per_count):
            audio, reference = conversation(speaker, rng, speakers, pitch_spread)
            made.append((speakers, audio, reference, rng.randrange(2**32)))
    return made, speaker.version


def save_conversations(
    folder: Path, made: list[Conversation], espeak: str, seed: int, pitch_spread: int
) -> None:
    """The clean audio (float32, compressed) and a manifest of the rest: what a machine without
    espeak-ng (the lent GPU) needs to score the same set, and the seed and spread that made it."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "audio.npz", *[audio for _, audio, _, _ in made])
    manifest = {
        "espeak": espeak,
        "seed": seed,
        "pitch_spread": pitch_spread,
        "conversations": [
            {
                "speakers": speakers,
                "noise_seed": noise_seed,
                "reference": [[t.speaker, t.start, t.end] for t in reference],
            }
            for speakers, _, reference, noise_seed in made
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest) + "\n")


def load_conversations(folder: Path) -> tuple[list[Conversation], dict[str, object]]:
    """The conversations `save_conversations` wrote, and its manifest (espeak, seed, spread)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    with np.load(folder / "audio.npz") as audio:
        return [
            (
                entry["speakers"],
                audio[f"arr_{index}"],
                [SpeakerSpan(*turn) for turn in entry["reference"]],
                entry["noise_seed"],
            )
            for index, entry in enumerate(manifest.pop("conversations"))
        ], manifest


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-count", type=int, default=4, help="conversations per speaker count")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--speaker-counts", default="2,3,4", help="comma-separated voices per conversation"
    )
    parser.add_argument(
        "--oracle-count", action="store_true", help="give the true count (scores the labelling)"
    )
    parser.add_argument(
        "--pitch-spread",
        type=int,
        default=0,
        help="move each sentence's espeak pitch by up to this much (10 is ~1.5 semitones)",
    )
    parser.add_argument(
        "--pitch-weight", type=float, default=None, help="the pitch's share of a print (study)"
    )
    parser.add_argument(
        "--max-speaker-similarity", type=float, default=None, help="the count's cut (study)"
    )
    parser.add_argument(
        "--save-audio", type=Path, default=None, help="also write the conversations to this folder"
    )
    parser.add_argument(
        "--audio",
        type=Path,
        default=None,
        help="score the conversations saved in this folder (no espeak-ng needed)",
    )
    parser.add_argument(
        "--machine", default=None, help="how to describe the machine (default: this CPU)"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    counts = [int(count) for count in args.speaker_counts.split(",")]
    seed, pitch_spread = args.seed, args.pitch_spread
    if args.audio:  # the set is the saved one's, whatever --seed and --pitch-spread say
        made, manifest = load_conversations(args.audio)
        counts = sorted({speakers for speakers, _, _, _ in made})
        espeak, seed, pitch_spread = manifest["espeak"], manifest["seed"], manifest["pitch_spread"]
    else:
        made, espeak = synthesised(counts, args.per_count, seed, pitch_spread)
    if args.save_audio:
        save_conversations(args.save_audio, made, espeak, seed, pitch_spread)
    tuned = {
        name: value
        for name, value in (
            ("pitch_weight", args.pitch_weight),
            ("max_speaker_similarity", args.max_speaker_similarity),
        )
        if value is not None
    }
    diarizer = BuiltinDiarizer(**tuned)
    diarizer.models()
    rows = []
    seen: dict[int, int] = {}
    for speakers, audio, reference, noise_seed in made:
        index = seen[speakers] = seen.get(speakers, -1) + 1
        for variant, samples in variants(audio, noise_seed):
            started = time.perf_counter()
            clip = AudioClip(samples, RATE, f"{speakers}-{index}-{variant}")
            if args.oracle_count:
                diarizer.num_speakers = speakers
            turns = diarizer.diarize(clip)
            seconds = time.perf_counter() - started
            row = {
                "speakers": speakers,
                "variant": variant,
                "audio_seconds": round(len(samples) / RATE, 2),
                "speakers_found": len({t.speaker for t in turns}),
                "diarize_seconds": round(seconds, 3),
            }
            for name, collar in (("no_collar", 0.0), ("collar_0.25", 0.25)):
                error = diarization_error(reference, turns, collar=collar)
                row[name] = {
                    "der": round(error.rate, 4),
                    "missed": round(error.missed, 3),
                    "false_alarm": round(error.false_alarm, 3),
                    "confusion": round(error.confusion, 3),
                    "reference_speech": round(error.reference_speech, 3),
                }
            rows.append(row)
            print(json.dumps(row), flush=True)
    summary = {}
    for group in ("all", "clean", "telephone", "noisy", *counts):
        chosen = [
            r for r in rows if group == "all" or r["variant"] == group or r["speakers"] == group
        ]
        entry = {}
        for name in ("no_collar", "collar_0.25"):
            errors = sum(r[name][k] for r in chosen for k in ("missed", "false_alarm", "confusion"))
            speech = sum(r[name]["reference_speech"] for r in chosen)
            entry[f"der_{name}"] = round(errors / speech, 4)
        entry["speaker_count_right"] = sum(r["speakers_found"] == r["speakers"] for r in chosen)
        entry["files"] = len(chosen)
        summary[str(group)] = entry
    audio_total = sum(r["audio_seconds"] for r in rows)
    cores = len(os.sched_getaffinity(0))  # the cores this process may use, not the host's
    result = {
        "command": "python3 scripts/diarization_eval.py " + " ".join(argv),
        "diarizer": "builtin (Silero VAD v6 + Resemblyzer GE2E beside the window's pitch, MLX), "
        "speaker count "
        + (
            "given (oracle)"
            if args.oracle_count
            else "automatic (the most whose refined turns stand apart)"
        )
        + ", boundaries refined by Viterbi over 1.5 s then 0.75 s window scores, of the segment"
        " and the window labelling the better fit of the short windows",
        "min_speaker_seconds": diarizer.min_speaker_seconds,
        "max_speaker_similarity": diarizer.max_speaker_similarity,
        "switch_penalty": diarizer.switch_penalty,
        "pitch_weight": diarizer.pitch_weight,
        "machine": args.machine
        or f"{cpu_model()} ({platform.machine()}, {cores} cores, shared), {platform.system()}",
        "mlx_device": str(mx.default_device()),
        "espeak": espeak,
        "seed": seed,
        "pitch_spread": pitch_spread,
        "audio_seconds": round(audio_total, 1),
        "real_time_factor": round(sum(r["diarize_seconds"] for r in rows) / audio_total, 4),
        "summary": summary,
        "files": rows,
    }
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
