"""Every format that is not plain WAV (mp3, m4a, flac, ogg, opus, webm, mp4 and other video),
decoded by the ffmpeg command-line tool through `ffmpeg-python`.

ffmpeg decodes the first audio stream and resamples it to 16 kHz float32 in one pass, writing a
WAV stream to a pipe (`-map 0:a:0 -f wav -acodec pcm_f32le -ar 16000 pipe:`): no temporary files,
no decoding of a video's pictures. The channels are averaged here, as for every other input.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import attrs
import numpy as np
import numpy.typing as npt

from qasr.adapters.audio.inputs import load_clip
from qasr.adapters.audio.wav import read_wav_bytes
from qasr.domain import SAMPLE_RATE, AudioClip
from qasr.errors import AudioError, FfmpegNotFoundError
from qasr.ports import AudioInput

_INSTALL_HINT = (
    "install it (macOS: brew install ffmpeg; Debian/Ubuntu: sudo apt install ffmpeg; "
    "Windows: winget install ffmpeg) or convert the file to WAV"
)
# ffmpeg's words when `-map 0:a:0` finds no audio stream.
_NO_AUDIO_MESSAGES = ("does not contain any stream", "matches no streams")


def decode_with_ffmpeg(
    path: str | os.PathLike[str], executable: str = "ffmpeg"
) -> npt.NDArray[np.float32]:
    """Decode any audio or video file to mono float32 samples at 16 kHz."""
    label = os.fspath(path)
    if shutil.which(executable) is None:
        raise FfmpegNotFoundError(f"{label}: ffmpeg is needed to decode this file but "
                                  f"'{executable}' is not on PATH: {_INSTALL_HINT}")  # fmt: skip
    try:
        import ffmpeg
    except ImportError as error:  # pragma: no cover - a core dependency
        raise AudioError(
            f"{label}: decoding needs the 'ffmpeg-python' package: pip install ffmpeg-python"
        ) from error
    # WAV on the pipe, not raw f32le with `-ac 1`: ffmpeg's own downmix weighs stereo channels by
    # 1/sqrt(2) instead of averaging them, and the WAV header tells us the channel count.
    command = (
        # "file:" keeps a name such as "take:2.mp3" from being read as a protocol.
        ffmpeg.input(f"file:{Path(label).absolute()}")
        .output("pipe:", format="wav", acodec="pcm_f32le", ar=SAMPLE_RATE, map="0:a:0")
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
    )
    try:
        wav, _ = command.run(cmd=executable, capture_stdout=True, capture_stderr=True)
    except FileNotFoundError as error:  # removed between the check and the call
        raise FfmpegNotFoundError(f"{label}: ffmpeg is not on PATH: {_INSTALL_HINT}") from error
    except ffmpeg.Error as error:
        raise _decode_error(label, error.stderr or b"") from None
    if not wav:
        raise AudioError(f"{label}: contains no audio (ffmpeg decoded nothing)")
    return read_wav_bytes(wav, label)[0]  # an empty data chunk raises "contains no audio"


def _decode_error(label: str, stderr: bytes) -> AudioError:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    last = next((line for line in reversed(lines) if line), "no message")
    if any(marker in line for line in lines for marker in _NO_AUDIO_MESSAGES):
        return AudioError(f"{label}: has no audio stream (ffmpeg: {last})")
    return AudioError(f"{label}: ffmpeg could not decode it: {last}")


@attrs.frozen
class FfmpegAudioSource:
    """An `AudioSource` that decodes every file with ffmpeg (arrays are converted in memory)."""

    executable: str = "ffmpeg"  # a name on PATH or a full path

    def load(self, source: AudioInput) -> AudioClip:
        return load_clip(source, self.decode_file)

    def decode_file(self, path: Path) -> tuple[npt.NDArray[np.float32], int]:
        return decode_with_ffmpeg(path, self.executable), SAMPLE_RATE
