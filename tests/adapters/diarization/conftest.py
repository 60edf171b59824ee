"""Speech for the diarizer's tests: espeak-ng voices taking turns, with the turns they took."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from qasr.adapters.audio.resample import resample
from qasr.domain import SpeakerSpan
from qasr.errors import FeatureUnavailableError

RATE = 16_000
TWO_VOICES = (("en-us", "m3", 40), ("en-gb", "f2", 70))
SENTENCES = (
    "I think we should move the meeting to Thursday afternoon",
    "That works for me, but the report is not finished yet",
    "Can you send me the numbers from last quarter please",
    "The budget looks tight, so we may cut the travel plans",
)


def needs(package: str) -> pytest.MarkDecorator:
    """Skip (cleanly) where the wheel that ships a network's weights is absent; CI installs it."""
    missing = importlib.util.find_spec(package) is None
    return pytest.mark.skipif(missing, reason=f"{package} is not installed (pip install {package})")


def spoken(accent: str, variant: str, pitch: int, text: str) -> np.ndarray:
    from qasr.training.speech import Utterance, Voice, open_speaker

    try:
        speaker = open_speaker()
    except FeatureUnavailableError as error:
        pytest.skip(str(error))
    raw, rate = speaker.speak(Utterance(text, Voice(accent, variant), 170, pitch))
    samples = resample(raw.astype(np.float32) / 32768.0, rate, RATE)
    loud = np.flatnonzero(np.abs(samples) > 0.02 * np.abs(samples).max())
    samples = samples[loud[0] : loud[-1] + 1]
    return samples * (0.3 / np.abs(samples).max())


def dialogue(voices, order, pause: float = 0.5) -> tuple[np.ndarray, list[SpeakerSpan]]:
    """Voices speaking in `order` (indices), `pause` s apart, and the reference turns."""
    gap = np.zeros(int(pause * RATE), dtype=np.float32)
    pieces, turns, cursor = [gap], [], len(gap)
    for turn, who in enumerate(order):
        samples = spoken(*voices[who], SENTENCES[turn % len(SENTENCES)])
        turns.append(SpeakerSpan(f"S{who}", cursor / RATE, (cursor + len(samples)) / RATE))
        pieces += [samples, gap]
        cursor += len(samples) + len(gap)
    return np.concatenate(pieces).astype(np.float32), turns


@pytest.fixture(scope="session")
def two_speaker_dialogue() -> tuple[np.ndarray, list[SpeakerSpan]]:
    return dialogue(TWO_VOICES, [0, 1, 0, 1])


@pytest.fixture(scope="session")
def one_speaker_monologue() -> tuple[np.ndarray, list[SpeakerSpan]]:
    return dialogue(TWO_VOICES, [0, 0, 0])
