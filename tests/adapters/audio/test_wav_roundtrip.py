"""write_wav -> read_wav round trips, checked against soundfile and Python's wave module."""

from __future__ import annotations

import tempfile
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from qasr.adapters.audio import SAMPLE_FORMATS, read_wav, wav_layout, write_wav

# The largest error of one sample after quantisation: one step of the format (covers the
# clipping of +1.0 to the largest positive code).
STEP = {"uint8": 2**-7, "int16": 2**-15, "int24": 2**-23, "int32": 2**-31}
SOUNDFILE_SUBTYPES = {"uint8": "PCM_U8", "int16": "PCM_16", "int24": "PCM_24", "int32": "PCM_32",
                      "float32": "FLOAT", "float64": "DOUBLE"}  # fmt: skip

audio_frames = st.integers(1, 8).flatmap(
    lambda channels: hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 64), st.just(channels)),
        elements=st.floats(-1, 1, width=32, allow_subnormal=False),
    )
)


@settings(max_examples=60, deadline=None)
@given(
    frames=audio_frames,
    sample_format=st.sampled_from(sorted(SAMPLE_FORMATS)),
    sample_rate=st.sampled_from([8000, 16000, 22050, 44100, 48000, 96000]),
    extensible=st.sampled_from([None, True, False]),
)
def test_round_trip_within_one_quantisation_step(frames, sample_format, sample_rate, extensible):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.wav"
        write_wav(path, frames, sample_rate, sample_format, extensible=extensible)
        samples, rate = read_wav(path, mono=False)
        mono, _ = read_wav(path)
        independent, independent_rate = soundfile.read(path, dtype="float32", always_2d=True)
    assert rate == independent_rate == sample_rate
    assert samples.shape == frames.shape and samples.dtype == np.float32
    if sample_format.startswith("float"):
        np.testing.assert_array_equal(samples, frames)
    else:
        np.testing.assert_allclose(samples, frames, rtol=0, atol=STEP[sample_format] * 1.01)
    np.testing.assert_array_equal(samples, independent)
    np.testing.assert_allclose(mono, samples.mean(axis=1), rtol=0, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(frames=audio_frames, sample_format=st.sampled_from(sorted(SAMPLE_FORMATS)))
def test_reads_what_soundfile_writes(frames, sample_format):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.wav"
        soundfile.write(path, frames, 44100, subtype=SOUNDFILE_SUBTYPES[sample_format])
        samples, rate = read_wav(path, mono=False)
        expected, _ = soundfile.read(path, dtype="float32", always_2d=True)
    assert rate == 44100
    np.testing.assert_array_equal(samples, expected)


@pytest.mark.parametrize("channels", [1, 2])
def test_reads_what_the_wave_module_writes(tmp_path, channels):
    levels = np.arange(-32768, 32768, 97, dtype=np.int16)
    levels = levels[: len(levels) // channels * channels]
    with wave.open(str(tmp_path / "std.wav"), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(11025)
        writer.writeframes(levels.astype("<i2").tobytes())
    samples, rate = read_wav(tmp_path / "std.wav", mono=False)
    assert rate == 11025
    np.testing.assert_array_equal(samples, levels.reshape(-1, channels) / np.float32(32768))


def test_int16_samples_written_as_int16_are_exact_and_the_wave_module_agrees(tmp_path):
    levels = np.array([-32768, -1, 0, 1, 12345, 32767], dtype=np.int16)
    write_wav(tmp_path / "exact.wav", levels, 16000, "int16")
    with wave.open(str(tmp_path / "exact.wav"), "rb") as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (
            1,
            2,
            16000,
        )
        stored = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    np.testing.assert_array_equal(stored, levels)


def test_extensible_is_chosen_for_many_channels_or_wide_integers(tmp_path):
    def format_tag(path: Path) -> int:
        return int.from_bytes(path.read_bytes()[20:22], "little")

    for name, channels, sample_format, tag in [
        ("plain.wav", 2, "int16", 0x0001),
        ("float.wav", 1, "float32", 0x0003),
        ("surround.wav", 6, "int16", 0xFFFE),
        ("wide.wav", 1, "int24", 0xFFFE),
    ]:
        write_wav(tmp_path / name, np.zeros((10, channels)), 48000, sample_format)
        assert format_tag(tmp_path / name) == tag
        assert wav_layout(tmp_path / name).format.channels == channels


def test_an_odd_sized_data_chunk_is_padded(tmp_path):
    write_wav(tmp_path / "odd.wav", np.zeros(3), 8000, "uint8")
    data = (tmp_path / "odd.wav").read_bytes()
    assert len(data) % 2 == 0
    assert len(read_wav(tmp_path / "odd.wav")[0]) == 3


def test_write_rejects_unknown_formats(tmp_path):
    with pytest.raises(ValueError, match="sample_format"):
        write_wav(tmp_path / "x.wav", np.zeros(4), 16000, "int12")
