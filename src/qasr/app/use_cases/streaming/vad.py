"""Energy voice activity: enough to find pauses to commit at (a model VAD can replace it)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FRAME = 320  # 20 ms at 16 kHz


def frame_levels(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """RMS of each whole 20 ms frame."""
    count = len(samples) // FRAME
    if count == 0:
        return np.zeros(0)
    frames = samples[: count * FRAME].astype(np.float64).reshape(count, FRAME)
    levels: npt.NDArray[np.float64] = np.sqrt(np.mean(frames * frames, axis=1))
    return levels


def has_speech(samples: npt.NDArray[np.float32], level: float) -> bool:
    return bool(np.any(frame_levels(samples) >= level)) or (
        len(samples) < FRAME and len(samples) > 0 and float(np.max(np.abs(samples))) >= level
    )


def quietest_point(samples: npt.NDArray[np.float32], earliest: int, latest: int) -> int:
    """A sample index in [earliest, latest] at the middle of the quietest 200 ms there."""
    earliest, latest = max(0, earliest), min(len(samples), latest)
    if latest - earliest < FRAME:
        return latest
    levels = frame_levels(samples[earliest:latest])
    # Smooth over 10 frames so that a pause wins over one quiet frame inside a word.
    smooth = np.convolve(levels, np.ones(10) / 10, mode="same") if len(levels) >= 10 else levels
    lowest = float(smooth.min())
    quiet = np.flatnonzero(smooth <= lowest + 1e-9)
    # The longest run of equally quiet frames is split in its middle: both words stay whole.
    runs = np.split(quiet, np.flatnonzero(np.diff(quiet) != 1) + 1)
    run = max(runs, key=len)
    middle = int(run[len(run) // 2])
    return earliest + middle * FRAME + FRAME // 2


def last_pause(
    samples: npt.NDArray[np.float32], level: float, min_seconds: float
) -> tuple[int, int] | None:
    """(start, end) samples of the last silence of at least `min_seconds` that follows speech;
    a pause at the very end counts (its end is then the end of `samples`)."""
    levels = frame_levels(samples)
    loud = levels >= level
    if not loud.any():
        return None
    need = max(1, round(min_seconds * 16000 / FRAME))
    first_speech = int(np.flatnonzero(loud)[0])
    end = len(levels)
    while end > first_speech:
        quiet_end = end
        while end > first_speech and not loud[end - 1]:
            end -= 1
        if quiet_end - end >= need:
            stop = len(samples) if quiet_end == len(levels) else quiet_end * FRAME
            return end * FRAME, stop
        while end > first_speech and loud[end - 1]:
            end -= 1
    return None


def trim_silence(
    samples: npt.NDArray[np.float32],
    level: float,
    margin: float | None,
    tail: float | None = None,
    *,
    relative: bool = False,
) -> npt.NDArray[np.float32]:
    """`samples` without the silence before the first speech frame beyond `margin` seconds and
    after the last one beyond `tail` seconds (default: `margin`; None: untouched), and without
    digital silence beyond live noise at either edge. A window that starts in the middle of a
    long pause then looks like an utterance as the model was trained on (issue 15: the demo
    model rewrites whole sentences when zeros pad a noisy one), and costs less to decode."""
    if margin is None:
        return samples
    tail = margin if tail is None else tail
    levels = frame_levels(samples)
    if len(levels) == 0:
        return samples
    # `relative`: a noise floor above `level` is not speech, speech is what comes within 20 dB
    # of the loudest frame. Only for a whole window (a commit): in a growing one the loudest
    # frame comes later and would move its start, and with it the reused encoder windows.
    floor = EDGE_RELATIVE * float(levels.max()) if relative else 0.0
    loud = np.flatnonzero(levels >= max(level, floor))
    if len(loud) == 0:
        return samples
    onset, offset = int(loud[0]) * FRAME, (int(loud[-1]) + 1) * FRAME
    first = max(0, onset - round(margin * 16000))
    last = min(len(samples), offset + round(tail * 16000))
    # Digital silence next to live noise is in no recording the model learnt from (a noisy
    # clip is noisy to its edges): where noise lies between the two, the margin stops there.
    dead = _dead_runs(samples[first:onset])
    if len(dead) and onset - (first + int(dead[-1]) + DEAD_RUN) >= LIVE_NOISE:
        first += int(dead[-1]) + DEAD_RUN
    dead = _dead_runs(samples[offset:last])
    if len(dead) and int(dead[0]) >= LIVE_NOISE:
        last = offset + int(dead[0])
    return samples[first:last]


DEAD = 1e-4  # |sample| at or below: digital silence (about 3 steps of 16-bit audio)
DEAD_RUN = 160  # 10 ms of it
LIVE_NOISE = 1600  # 0.1 s of live audio between digital silence and speech: noise
EDGE_RELATIVE = 0.1  # speech at a window's edge: within 20 dB of its loudest frame


def _dead_runs(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.intp]:
    """Starts of the `DEAD_RUN`-long stretches of digital silence in `samples`."""
    if len(samples) < DEAD_RUN:
        return np.zeros(0, dtype=np.intp)
    dead = (np.abs(samples) <= DEAD).astype(np.int32)
    counts = np.convolve(dead, np.ones(DEAD_RUN, dtype=np.int32), mode="valid")
    return np.flatnonzero(counts == DEAD_RUN)
