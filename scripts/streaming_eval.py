"""Streaming against offline on the same audio: WER gap, partial stability, latency, cost.

Single sentences are held-out clips one by one; long streams are held-out clips joined with
pauses of 0.4-1.2 s. Each configuration streams the audio as fast as it decodes (0.1 s pieces),
so "latency" is the wall time from the piece that completes a step to that step's partial (what
a real-time client waits when the real-time factor is below 1), and "compute per update" the
model call's time. Offline is `Session.transcribe` of the same audio (30 s chunks).

    python scripts/streaming_eval.py --model tiny-en --data /tmp/tw/heldout --sentences 100 \\
        --stream-minutes 3 --out docs/benchmarks/streaming-cpu.json
    # reuse of the steps' shared work (encoder windows, prompt KV rows) on and off, side by side
    python scripts/streaming_eval.py --model tiny-en --sentences 0 --stream-minutes 2 --steps 2 \\
        --window-limit-only --reuse on,off --out docs/benchmarks/streaming-reuse-cpu.json
    # the H200: speed of the real 0.6B shapes on random weights (WER is meaningless there)
    python scripts/streaming_eval.py --model 0.6b --speed-only --stream-minutes 10 --steps 1,2 \\
        --tokens-per-second 3.5
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from qasr import Session, load_audio  # noqa: E402
from qasr.app import bootstrap  # noqa: E402
from qasr.app.use_cases.streaming import CommittedText, FinalTranscript, PartialText  # noqa: E402
from qasr.training.metrics import normalize_transcript, word_error_rate  # noqa: E402

RATE = 16_000
PIECE = RATE // 10


def machine() -> dict[str, Any]:
    blas, _ = bootstrap.cpu_blas()
    return {
        "platform": platform.platform(),
        "cpu": bootstrap.cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "mlx": bootstrap.mlx_backend_summary(),
        "blas": blas,
    }


def reuse_counters(session: Session) -> Any:
    """The recognizer's reuse counters (stream_reuse.py), its caches emptied; None for another
    recognizer."""
    work = getattr(session.recognizer, "work", None)
    if work is not None:
        work.clear()  # each run starts cold: no run reuses another's windows
    return getattr(work, "counters", None)


def stream_once(session: Session, audio: np.ndarray, **settings: Any) -> dict[str, Any]:
    stream = session.stream(**settings)
    counters = reuse_counters(session)
    before = attrs.asdict(counters) if counters is not None else {}
    latencies: list[float] = []
    partials: list[tuple[float, str]] = []  # (window start, text)
    committed: list[tuple[float, str]] = []
    started = time.perf_counter()
    events: list[Any] = []
    for first in range(0, len(audio), PIECE):
        arrived = time.perf_counter()
        new = stream.feed(audio[first : first + PIECE])
        if any(isinstance(event, PartialText) for event in new):
            latencies.append(time.perf_counter() - arrived)
        events += new
    events += stream.finish()
    wall = time.perf_counter() - started
    for event in events:
        if isinstance(event, PartialText):
            partials.append((event.start, event.text))
        elif isinstance(event, CommittedText):
            committed.append((event.start, event.text))
    final = next(event for event in events if isinstance(event, FinalTranscript))
    costs = stream.engine.costs
    work = (
        {name: value - before[name] for name, value in attrs.asdict(counters).items()}
        if counters is not None
        else {}
    )
    return {
        "work": work,
        "text": final.transcript.text,
        "wall_seconds": wall,
        "latencies": latencies,
        "update_seconds": [cost.compute_seconds for cost in costs],
        "update_audio_seconds": [cost.audio_seconds for cost in costs],
        "stability": stability(partials, committed),
        "windows": len(committed),
    }


def stability(
    partials: list[tuple[float, str]], committed: list[tuple[float, str]]
) -> dict[str, Any]:
    """How often shown text was later changed: a partial whose words are not all kept by the
    next partial (or commit) of its window counts as changed; words changed counts the words."""
    shown = changed = words = changed_words = 0
    final_of = dict(committed)
    for index, (start, text) in enumerate(partials):
        later = next((t for s, t in partials[index + 1 :] if s == start), final_of.get(start, ""))
        before, after = normalize_transcript(text).split(), normalize_transcript(later).split()
        kept = 0
        while kept < min(len(before), len(after)) and before[kept] == after[kept]:
            kept += 1
        shown += 1
        words += len(before)
        changed += kept < len(before)
        changed_words += len(before) - kept
    return {
        "partials": shown,
        "partials_changed": changed,
        "partial_change_rate": changed / shown if shown else 0.0,
        "word_change_rate": changed_words / words if words else 0.0,
    }


def summary(
    runs: list[dict[str, Any]], references: list[str], audio_seconds: float
) -> dict[str, Any]:
    latencies = [value for run in runs for value in run["latencies"]]
    updates = [value for run in runs for value in run["update_seconds"]]
    stab = [run["stability"] for run in runs]
    shown = sum(s["partials"] for s in stab)
    result: dict[str, Any] = {
        "wer": word_error_rate(references, [run["text"] for run in runs]) if references else None,
        "real_time_factor": sum(run["wall_seconds"] for run in runs) / audio_seconds,
        "updates": len(updates),
        "update_seconds_mean": float(np.mean(updates)) if updates else 0.0,
        "update_seconds_p95": float(np.percentile(updates, 95)) if updates else 0.0,
        "update_seconds_max": max(updates, default=0.0),
        "update_audio_seconds_max": max(
            (v for run in runs for v in run["update_audio_seconds"]), default=0.0
        ),
        "latency_seconds_p50": float(np.percentile(latencies, 50)) if latencies else 0.0,
        "latency_seconds_p95": float(np.percentile(latencies, 95)) if latencies else 0.0,
        "partial_change_rate": sum(s["partials_changed"] for s in stab) / shown if shown else 0.0,
        "word_change_rate": float(np.mean([s["word_change_rate"] for s in stab])),
        "windows": sum(run["windows"] for run in runs),
    }
    if runs[0]["work"]:
        # Encoder frames and prompt rows per model call, computed and reused (stream_reuse.py).
        totals = {name: sum(run["work"][name] for run in runs) for name in runs[0]["work"]}
        result["work_per_update"] = {
            name: round(value / max(1, len(updates)), 1) for name, value in totals.items()
        }
    if len(runs) == 1:
        # Work per update must not grow along a stream: compare its first and last quarters.
        run = runs[0]
        quarter = max(1, len(run["update_seconds"]) // 4)
        result["update_seconds_first_quarter"] = float(np.mean(run["update_seconds"][:quarter]))
        result["update_seconds_last_quarter"] = float(np.mean(run["update_seconds"][-quarter:]))
    return result


def same_texts(entries: dict[str, Any]) -> None:
    """Whether each configuration's texts with reuse off equal those with it on (they must);
    the texts themselves are dropped from the report."""
    for key in [key for key in entries if key.endswith("_reuse_off")]:
        on = entries.get(key.removesuffix("_reuse_off"))
        if on is not None:
            entries[key]["same_text_as_reuse_on"] = entries[key]["texts"] == on["texts"]
    for value in entries.values():
        if isinstance(value, dict):
            value.pop("texts", None)


def held_out(data: Path, count: int, skip: int = 0) -> list[tuple[np.ndarray, str]]:
    rows = [json.loads(line) for line in (data / "test.jsonl").read_text().splitlines()]
    return [(load_audio(data / row["audio"]), row["text"]) for row in rows[skip : skip + count]]


def long_stream(
    clips: list[tuple[np.ndarray, str]], minutes: float, seed: int
) -> tuple[np.ndarray, str, int]:
    rng = np.random.default_rng(seed)
    parts, texts, used = [], [], 0
    total = 0
    for audio, text in clips:
        if total >= minutes * 60 * RATE:
            break
        pause = np.zeros(int(rng.uniform(0.4, 1.2) * RATE), np.float32)
        parts += [audio, pause]
        texts.append(text)
        total += len(audio) + len(pause)
        used += 1
    return np.concatenate(parts), " ".join(texts), used


class TokenBudget:
    """A recognizer decoding at most `per_second` tokens per second of each clip's audio.

    Random weights never choose the end token, so every update would run to the default budget
    (20 tokens per second of audio, several times real speech's ~3.5); this keeps the speed
    runs' token counts realistic. Everything else is the wrapped recognizer's."""

    def __init__(self, inner: Any, per_second: float) -> None:
        self.inner = inner
        self.per_second = per_second

    def recognize(self, clips: Sequence[Any], options: Sequence[Any]) -> list[Any]:
        budgets = [max(1, math.ceil(clip.duration * self.per_second)) for clip in clips]
        evolved = [attrs.evolve(o, max_new_tokens=n) for o, n in zip(options, budgets, strict=True)]
        return list(self.inner.recognize(clips, evolved))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def speech_like(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    times = np.arange(int(seconds * RATE)) / RATE
    envelope = (np.sin(2 * np.pi * 0.4 * times) > -0.3).astype(np.float32)
    voice = np.sin(2 * np.pi * rng.uniform(150, 400) * times)
    return (0.3 * envelope * voice + 0.02 * rng.standard_normal(times.size)).astype(np.float32)


def model_folder(name: str) -> str:
    if name not in {"tiny", "0.6b"}:
        return name
    from tests.support.official import FULL_06B_AUDIO, FULL_06B_TEXT, TINY_AUDIO, TINY_TEXT
    from tests.support.qwen_vocab import cached_tokenizer_folder

    from qasr.training.scratch import scratch_config, write_scratch_checkpoint

    shapes = {"tiny": (TINY_AUDIO, TINY_TEXT), "0.6b": (FULL_06B_AUDIO, FULL_06B_TEXT)}[name]
    folder = Path(tempfile.mkdtemp()) / f"random-{name}"
    return str(write_scratch_checkpoint(folder, scratch_config(*shapes), cached_tokenizer_folder()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny-en")
    parser.add_argument("--dtype")
    parser.add_argument("--data", type=Path, default=Path("/tmp/tw/heldout"))
    parser.add_argument("--sentences", type=int, default=100)
    parser.add_argument("--stream-minutes", type=float, default=3.0)
    parser.add_argument("--streams", type=int, default=1)
    parser.add_argument("--steps", default="1,2")
    parser.add_argument(
        "--pause-commit", type=float, default=0.3, help="commit_after_silence for long streams"
    )
    parser.add_argument(
        "--window-limit-only",
        action="store_true",
        help="also stream long audio with 30 s windows and no pause commits",
    )
    parser.add_argument("--speed-only", action="store_true", help="synthetic audio, no WER")
    parser.add_argument(
        "--tokens-per-second", type=float,
        help="cap each model call at this many tokens per second of audio (random weights: 3.5)",
    )  # fmt: skip
    parser.add_argument(
        "--reuse",
        default="on",
        help="reuse_work settings to run side by side: on, off or on,off (off: suffix _reuse_off)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    steps = [float(step) for step in args.steps.split(",")]
    reuses = [{"on": True, "off": False}[word] for word in args.reuse.split(",")]
    session = Session(model_folder(args.model), args.dtype)
    if args.tokens_per_second:
        session = Session(TokenBudget(session.recognizer, args.tokens_per_second))
    report: dict[str, Any] = {
        "command": " ".join(["python", *sys.argv]),
        "machine": machine(),
        "model": args.model,
        "tokens_per_second_cap": args.tokens_per_second,
        "piece_seconds": PIECE / RATE,
        "sentences": {},
        "long_streams": {},
    }
    if not args.speed_only and args.sentences:
        clips = held_out(args.data, args.sentences)
        references = [text for _, text in clips]
        seconds = sum(len(audio) for audio, _ in clips) / RATE
        started = time.perf_counter()
        offline = [session.transcribe(audio).text for audio, _ in clips]
        report["sentences"] = {
            "clips": len(clips),
            "audio_seconds": round(seconds, 1),
            "offline_wer": word_error_rate(references, offline),
            "offline_real_time_factor": (time.perf_counter() - started) / seconds,
        }
        for step in steps:
            for reuse in reuses:
                runs = [
                    stream_once(session, audio, step=step, reuse_work=reuse) for audio, _ in clips
                ]
                key = f"step_{step:g}" + ("" if reuse else "_reuse_off")
                report["sentences"][key] = summary(runs, references, seconds)
                report["sentences"][key]["texts"] = [run["text"] for run in runs]
            print(json.dumps(report["sentences"]), flush=True)
        same_texts(report["sentences"])
    for index in range(args.streams):
        if args.speed_only:
            audio, reference = speech_like(args.stream_minutes * 60, index), ""
        else:
            pool = held_out(args.data, 400, skip=args.sentences + index * 400)
            audio, reference, used = long_stream(pool, args.stream_minutes, index)
        seconds = len(audio) / RATE
        entry: dict[str, Any] = {"audio_seconds": round(seconds, 1)}
        references = [reference] if reference else []
        if reference:
            entry["sentences_joined"] = used
            started = time.perf_counter()
            entry["offline_wer"] = word_error_rate(references, [session.transcribe(audio).text])
            entry["offline_real_time_factor"] = (time.perf_counter() - started) / seconds
            sentence_texts = [session.transcribe(clip).text for clip, _ in pool[:used]]
            entry["offline_per_sentence_wer"] = word_error_rate(
                references, [" ".join(sentence_texts)]
            )
        for step in steps:
            for reuse in reuses:
                off = "" if reuse else "_reuse_off"
                run = stream_once(
                    session, audio, step=step, commit_after_silence=args.pause_commit,
                    reuse_work=reuse,
                )  # fmt: skip
                entry[f"step_{step:g}_pause_commit{off}"] = summary([run], references, seconds)
                entry[f"step_{step:g}_pause_commit{off}"]["texts"] = [run["text"]]
                if args.window_limit_only or args.speed_only:
                    run = stream_once(session, audio, step=step, reuse_work=reuse)
                    entry[f"step_{step:g}_window_limit{off}"] = summary([run], references, seconds)
                    entry[f"step_{step:g}_window_limit{off}"]["texts"] = [run["text"]]
                print(json.dumps(entry), flush=True)
        same_texts(entry)
        report["long_streams"][f"stream_{index}"] = entry
    text = json.dumps(report, indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
