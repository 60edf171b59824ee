"""Shared fixtures of the audio adapter tests: tones and files encoded by the ffmpeg CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from audio_signals import TONE_HZ, TONE_SECONDS

# extension -> ffmpeg output arguments; every file holds the same 1 s 440 Hz tone.
ENCODINGS = {
    "mp3": ["-c:a", "libmp3lame"],
    "flac": ["-c:a", "flac"],
    "ogg": ["-c:a", "libvorbis"],
    "opus": ["-c:a", "libopus"],
    "m4a": ["-c:a", "aac"],
    "webm": ["-c:a", "libopus"],
}


def _ffmpeg(*arguments: str) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *arguments],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def encoded_tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 440 Hz tone in every compressed format, a video with sound and one without."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not on PATH")
    folder = tmp_path_factory.mktemp("encoded")
    tone = f"sine=frequency={TONE_HZ:g}:duration={TONE_SECONDS:g}:sample_rate=48000"
    files = {}
    for extension, codec in ENCODINGS.items():
        files[extension] = folder / f"tone.{extension}"
        _ffmpeg("-f", "lavfi", "-i", tone, *codec, str(files[extension]))
    picture = "testsrc=size=32x32:rate=10:duration=1"
    files["mp4"] = folder / "video.mp4"
    _ffmpeg("-f", "lavfi", "-i", picture, "-f", "lavfi", "-i", tone, "-c:v", "mpeg4",
            "-c:a", "aac", "-shortest", str(files["mp4"]))  # fmt: skip
    files["video_only"] = folder / "silent_film.mp4"
    _ffmpeg("-f", "lavfi", "-i", picture, "-c:v", "mpeg4", str(files["video_only"]))
    files["mulaw_wav"] = folder / "phone.wav"
    _ffmpeg("-f", "lavfi", "-i", tone.replace("48000", "8000"), "-c:a", "pcm_mulaw",
            str(files["mulaw_wav"]))  # fmt: skip
    return files
