"""Audio input: native WAV, ffmpeg for everything else, numpy arrays; all as 16 kHz mono float32.

Importing this package needs only numpy and attrs; ffmpeg is looked up when a file needs it.
"""

from qasr.adapters.audio.arrays import mono_samples, pcm_to_float
from qasr.adapters.audio.ffmpeg_source import FfmpegAudioSource, decode_with_ffmpeg
from qasr.adapters.audio.resample import resample
from qasr.adapters.audio.source import DefaultAudioSource, WavAudioSource, load_audio
from qasr.adapters.audio.wav import (
    SAMPLE_FORMATS,
    UnsupportedWavEncodingError,
    WavFormat,
    WavLayout,
    read_wav,
    read_wav_bytes,
    wav_layout,
    write_wav,
)

__all__ = [
    "SAMPLE_FORMATS",
    "DefaultAudioSource",
    "FfmpegAudioSource",
    "UnsupportedWavEncodingError",
    "WavAudioSource",
    "WavFormat",
    "WavLayout",
    "decode_with_ffmpeg",
    "load_audio",
    "mono_samples",
    "pcm_to_float",
    "read_wav",
    "read_wav_bytes",
    "resample",
    "wav_layout",
    "write_wav",
]
