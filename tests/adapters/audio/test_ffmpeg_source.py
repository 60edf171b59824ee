"""Compressed formats and video through the ffmpeg CLI (files made by a session fixture)."""

from __future__ import annotations

import numpy as np
import pytest
from audio_signals import TONE_HZ, TONE_SECONDS, peak_frequency

from qasr.adapters.audio import (
    DefaultAudioSource,
    FfmpegAudioSource,
    UnsupportedWavEncodingError,
    WavAudioSource,
    decode_with_ffmpeg,
)
from qasr.errors import AudioError, FfmpegNotFoundError

# Encoder priming and frame padding that the container does not trim (AAC, Vorbis) may add a
# few frames; 60 ms is well under what would matter for a transcript's timing.
DURATION_TOLERANCE = 0.06


@pytest.mark.parametrize("extension", ["mp3", "flac", "ogg", "opus", "m4a", "webm", "mp4"])
def test_every_format_decodes_to_the_tone(encoded_tones, extension):
    clip = DefaultAudioSource().load(encoded_tones[extension])
    assert clip.sample_rate == 16000 and clip.samples.dtype == np.float32
    assert clip.name == encoded_tones[extension].name
    assert clip.duration == pytest.approx(TONE_SECONDS, abs=DURATION_TOLERANCE)
    middle = clip.samples[1600:-1600]  # codecs fade in and out
    assert peak_frequency(middle, 16000) == pytest.approx(TONE_HZ, abs=1.0)


def test_a_video_without_sound_is_a_clear_error(encoded_tones):
    path = encoded_tones["video_only"]
    with pytest.raises(AudioError, match="has no audio stream") as caught:
        FfmpegAudioSource().load(path)
    assert str(path) in str(caught.value)


def test_garbage_is_an_error_with_ffmpegs_last_line(tmp_path, encoded_tones):
    path = tmp_path / "noise.mp3"
    path.write_bytes(b"this is not an mp3 file at all" * 10)
    with pytest.raises(AudioError, match=r"ffmpeg could not decode it: .+") as caught:
        DefaultAudioSource().load(path)
    assert str(path) in str(caught.value)


def test_wav_encodings_the_native_reader_lacks_go_to_ffmpeg(encoded_tones):
    path = encoded_tones["mulaw_wav"]
    with pytest.raises(UnsupportedWavEncodingError, match="mu-law"):
        WavAudioSource().load(path)
    clip = DefaultAudioSource().load(path)
    assert clip.duration == pytest.approx(TONE_SECONDS, abs=1 / 8000)
    assert peak_frequency(clip.samples, 16000) == pytest.approx(TONE_HZ, abs=1.0)


def test_missing_ffmpeg_says_how_to_install_it(encoded_tones, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(FfmpegNotFoundError, match=r"not on PATH.*install") as caught:
        DefaultAudioSource().load(encoded_tones["mp3"])
    assert str(encoded_tones["mp3"]) in str(caught.value)


def test_a_named_ffmpeg_that_does_not_exist(encoded_tones):
    with pytest.raises(FfmpegNotFoundError):
        decode_with_ffmpeg(encoded_tones["flac"], executable="/no/such/ffmpeg")


def test_a_colon_in_the_file_name_is_not_a_protocol(encoded_tones, tmp_path):
    path = tmp_path / "take:2.flac"
    path.write_bytes(encoded_tones["flac"].read_bytes())
    clip = DefaultAudioSource().load(path)
    assert clip.name == "take:2.flac" and clip.duration == pytest.approx(TONE_SECONDS, abs=0.01)
