"""A planned corpus spoken into WAV files, and its `qasr train` manifests.

Each clip is spoken by espeak-ng (`qasr.training.speech`), brought to 16 kHz and given its planned
effects (`qasr.training.augment`): one 16 kHz mono 16-bit WAV per clip under `clips/`, and
`{train,valid,test}.jsonl` rows `{"audio", "text", "language": "English", "voice"}`.

A clip's bytes depend only on its plan (with the same espeak-ng and numpy), whatever the number
of worker processes. Resumable: clips are renamed into place whole and a rerun keeps every clip it
finds, so an interrupted corpus continues where it stopped.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import attrs

from qasr.domain import SAMPLE_RATE
from qasr.training.augment import Samples, apply_effects, speech_at_16k, write_wav_atomically
from qasr.training.corpus_plan import SPLITS, ClipPlan, CorpusPlan
from qasr.training.speech import Speaker, Utterance, open_speaker

ProgressSink = Callable[[str], None]
MAX_SECONDS = 8.0  # a clip that would run longer is spoken again, faster
_FASTEST = 320  # words per minute for that second try, at most


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
