"""The audio sources the application uses: WAV natively, everything else through ffmpeg."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import numpy.typing as npt

from qasr.adapters.audio.ffmpeg_source import FfmpegAudioSource
from qasr.adapters.audio.inputs import load_clip
from qasr.adapters.audio.wav import UnsupportedWavEncodingError, is_wav_header, read_wav
from qasr.domain import AudioClip
from qasr.ports import AudioInput


@attrs.frozen
class WavAudioSource:
    """An `AudioSource` for WAV files only (PCM and float), with no ffmpeg needed."""

    def load(self, source: AudioInput) -> AudioClip:
        return load_clip(source, self.decode_file)

    def decode_file(self, path: Path) -> tuple[npt.NDArray[np.float32], int]:
        return read_wav(path)


@attrs.frozen
class DefaultAudioSource:
    """Reads WAV natively and hands every other file, and WAV encodings such as ADPCM or
    mu-law, to ffmpeg. The format is told by the file's first bytes, not its extension."""

    ffmpeg: FfmpegAudioSource = attrs.field(factory=FfmpegAudioSource)

    def load(self, source: AudioInput) -> AudioClip:
        return load_clip(source, self.decode_file)

    def decode_file(self, path: Path) -> tuple[npt.NDArray[np.float32], int]:
        with open(path, "rb") as file:
            header = file.read(12)
        if is_wav_header(header):
            try:
                return read_wav(path)
            except UnsupportedWavEncodingError:
                pass
        return self.ffmpeg.decode_file(path)


def load_audio(source: AudioInput) -> npt.NDArray[np.float32]:
    """Any audio input as float32 mono samples at 16 kHz (see `DefaultAudioSource`)."""
    return DefaultAudioSource().load(source).samples
