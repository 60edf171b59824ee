"""The audio-stream adapters (file, PCM bytes, microphone) and the piece resampler."""

from __future__ import annotations

import io
import sys
import threading
import types
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.audio.file_stream import FileStream
from qasr.adapters.audio.pcm_stream import PcmStream
from qasr.adapters.audio.resample import resample
from qasr.adapters.audio.stream_resampler import StreamResampler
from qasr.domain import AudioClip
from qasr.errors import AudioError, MissingExtraError
from qasr.ports import AudioStream

RATE = 16_000


def noise(count: int, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(count)).astype(np.float32)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_file_stream_tiles_the_clip_in_order() -> None:
    audio = noise(RATE + 123)
    stream = FileStream(AudioClip(audio), piece_seconds=0.1)
    assert isinstance(stream, AudioStream)
    pieces = list(stream.pieces())
    assert all(piece.dtype == np.float32 and piece.ndim == 1 for piece in pieces)
    np.testing.assert_array_equal(np.concatenate(pieces), audio)
    assert [len(piece) for piece in pieces[:-1]] == [1600] * (len(pieces) - 1)


def test_realtime_pacing_hands_out_pieces_as_spoken() -> None:
    clock = FakeClock()
    stream = FileStream(
        AudioClip(noise(RATE)), piece_seconds=0.25, realtime=True, clock=clock, sleep=clock.sleep
    )
    assert len(list(stream.pieces())) == 4
    assert sum(clock.slept) == pytest.approx(1.0)  # a second of audio takes a second


def test_close_stops_a_file_stream() -> None:
    stream = FileStream(AudioClip(noise(RATE)), piece_seconds=0.1)
    pieces = stream.pieces()
    next(pieces)
    stream.close()
    assert list(pieces) == []


def test_pcm_bytes_become_float_pieces_whatever_the_reads() -> None:
    samples = (noise(8001) * 32767).astype("<i2")

    class Trickle(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(min(size or 7, 777))  # odd-sized reads split samples

    stream = PcmStream(Trickle(samples.tobytes() + b"\x01"), 16_000)  # and a stray byte
    joined = np.concatenate(list(stream.pieces()))
    np.testing.assert_array_equal(joined, samples.astype(np.float32) / 32768)


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from([8000, 22050, 24000, 44100, 48000]),
    st.lists(st.integers(0, 9000), min_size=1, max_size=12),
)
def test_resampling_pieces_equals_resampling_the_whole(rate: int, sizes: list[int]) -> None:
    audio = noise(sum(sizes) + 1, seed=len(sizes))
    resampler = StreamResampler(rate)
    out, first = [], 0
    for size in [*sizes, 1]:
        out.append(resampler.process(audio[first : first + size]))
        first += size
    out.append(resampler.flush())
    np.testing.assert_allclose(np.concatenate(out), resample(audio, rate), atol=1e-5)


class FakeInputStream:
    def __init__(self, *, samplerate: int, blocksize: int, callback: Any, **_: Any) -> None:
        self.blocksize, self.callback = blocksize, callback
        self.running = threading.Event()
        self.closed = False

    def start(self) -> None:
        self.running.set()

        def play() -> None:
            for index in range(50):
                if not self.running.is_set():
                    return
                block = np.full((self.blocksize, 1), index / 100, np.float32)
                self.callback(block, self.blocksize, None, None)

        threading.Thread(target=play, daemon=True).start()

    def stop(self) -> None:
        self.running.clear()

    def close(self) -> None:
        self.closed = True


def fake_sounddevice(inputs: int = 1) -> types.ModuleType:
    module = types.ModuleType("sounddevice")

    class PortAudioError(Exception):
        pass

    def query_devices(device: Any = None, kind: str | None = None) -> Any:
        listed = [{"name": "Fake mic", "max_input_channels": inputs, "default_samplerate": 48000}]
        if kind is None:
            return listed
        if device not in (None, 0, "Fake mic"):
            raise ValueError(f"No input device matching {device!r}")
        return listed[0]

    module.PortAudioError = PortAudioError  # type: ignore[attr-defined]
    module.query_devices = query_devices  # type: ignore[attr-defined]
    module.InputStream = FakeInputStream  # type: ignore[attr-defined]
    return module


def test_the_microphone_gives_pieces_for_the_duration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice())
    from qasr.adapters.audio.microphone_stream import MicrophoneStream, input_devices

    assert input_devices() == [(0, "Fake mic", 48000)]
    stream = MicrophoneStream(sample_rate=16_000, duration=0.5, piece_seconds=0.1)
    pieces = list(stream.pieces())
    assert sum(len(piece) for piece in pieces) == 8000
    assert [float(piece[0]) for piece in pieces] == pytest.approx([0.0, 0.01, 0.02, 0.03, 0.04])
    assert stream._stream.closed


@pytest.mark.parametrize(
    ("device", "inputs", "message"), [(3, 1, "no microphone"), (None, 0, "no input")]
)
def test_no_input_device_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, device: Any, inputs: int, message: str
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(inputs))
    from qasr.adapters.audio.microphone_stream import MicrophoneStream

    with pytest.raises(AudioError, match=message):
        MicrophoneStream(device=device)


def test_a_missing_mic_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    from qasr.adapters.audio.microphone_stream import MicrophoneStream

    with pytest.raises(MissingExtraError, match=r"\[mic\]"):
        MicrophoneStream()
