"""espeak-ng as a speaker: the program and the wheel's library, each held to the same contract."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from qasr.errors import FeatureUnavailableError, pip_install_hint
from qasr.training import speech
from qasr.training.corpus_plan import HELD_OUT_VARIANTS


def _has_wheel() -> bool:
    try:
        import espeakng_loader  # noqa: F401
    except ImportError:
        return False
    return True


BACKENDS = [
    pytest.param("program", marks=pytest.mark.skipif(
        shutil.which("espeak-ng") is None, reason="needs espeak-ng (apt-get install espeak-ng)")),
    pytest.param("wheel", marks=pytest.mark.skipif(
        not _has_wheel(), reason=f"needs the espeakng-loader wheel ({pip_install_hint('synth')})")),
]  # fmt: skip
HELLO = speech.Utterance("Hello there, how are you today?", speech.Voice("en-us", "m3"), 170, 50)


@pytest.fixture(scope="module", params=BACKENDS)
def speaker(request: pytest.FixtureRequest) -> speech.Speaker:
    return speech.open_speaker(request.param)


def test_speech_is_16_bit_audio_of_a_plausible_length(speaker: speech.Speaker) -> None:
    samples, rate = speaker.speak(HELLO)
    assert samples.dtype == np.int16 and rate == 22_050
    assert 1.0 < samples.size / rate < 3.5  # six words at 170 words per minute
    assert np.abs(samples).max() > 3000  # not silence


def test_a_clip_depends_only_on_its_utterance(speaker: speech.Speaker) -> None:
    first, _ = speaker.speak(HELLO)
    for voice in ("en-gb-scotland+klatt2", "en-us+f5", "en+Storm"):  # state a library may keep
        accent, variant = voice.split("+")
        speaker.speak(speech.Utterance("Something else entirely.", speech.Voice(accent, variant),
                                       200, 20, word_gap=2))  # fmt: skip
    again, _ = speaker.speak(HELLO)
    assert np.array_equal(first, again)


def test_speed_pitch_and_voice_change_the_audio(speaker: speech.Speaker) -> None:
    base, _ = speaker.speak(HELLO)
    slow, _ = speaker.speak(HELLO.__class__(HELLO.text, HELLO.voice, 120, 50))
    assert slow.size > 1.2 * base.size
    for other in (speech.Voice("en-us", "f2"), speech.Voice("en-gb-scotland", "m3")):
        changed, _ = speaker.speak(speech.Utterance(HELLO.text, other, 170, 50))
        assert changed.size != base.size or not np.array_equal(changed, base)


def test_every_accent_and_the_held_out_variants_exist(speaker: speech.Speaker) -> None:
    variants = speaker.variants()
    assert set(HELD_OUT_VARIANTS) <= set(variants) and len(variants) > 50
    assert speech.SKIPPED_VARIANTS.isdisjoint(variants)
    for accent in speech.ACCENTS:
        samples, _ = speaker.speak(speech.Utterance("one two", speech.Voice(accent, "m1"), 170, 50))
        assert np.abs(samples).max() > 1000


def test_an_unknown_voice_is_an_error(speaker: speech.Speaker) -> None:
    with pytest.raises(FeatureUnavailableError):
        speaker.speak(speech.Utterance("hello", speech.Voice("xx-nowhere", "m1"), 170, 50))


def test_the_backend_is_chosen_by_name_variable_or_what_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(speech.BACKEND_VARIABLE, "sox")
    with pytest.raises(FeatureUnavailableError, match="program"):
        speech.open_speaker()
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng program
    monkeypatch.setenv(speech.BACKEND_VARIABLE, "program")
    with pytest.raises(FeatureUnavailableError, match="espeak-ng is not on PATH") as error:
        speech.open_speaker()
    assert str(error.value).endswith(pip_install_hint("synth"))  # the command that fits here
    monkeypatch.delenv(speech.BACKEND_VARIABLE)
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)  # and no wheel
    with pytest.raises(FeatureUnavailableError, match=re.escape(pip_install_hint("synth"))):
        speech.open_speaker()


@pytest.mark.skipif(not _has_wheel(), reason="needs the espeakng-loader wheel")
def test_without_the_program_the_wheel_speaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(speech.BACKEND_VARIABLE, raising=False)
    assert speech.open_speaker().name == "wheel"


def test_the_streamed_wav_header_is_read() -> None:
    pcm = np.array([1, -2, 300], "<i2").tobytes()
    header = (b"RIFF\xff\xff\xff\x7fWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"
              + (22050).to_bytes(4, "little") + (44100).to_bytes(4, "little")
              + b"\x02\x00\x10\x00data\xff\xff\xff\x7f")  # fmt: skip
    samples, rate = speech._streamed_wav(header + pcm + b"\x00")  # an odd trailing byte
    assert rate == 22050 and samples.tolist() == [1, -2, 300]
    with pytest.raises(FeatureUnavailableError):
        speech._streamed_wav(b"not a wav file at all, not even close.....")
