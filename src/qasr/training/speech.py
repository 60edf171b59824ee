"""espeak-ng as a speaker: the `espeak-ng` program, or the library that a wheel ships.

Two ways to the same synthesiser, so the corpus can be made where no system package can be
installed (the lent GPU machine):

- `EspeakProgram`: runs the `espeak-ng` command (Debian's `espeak-ng` package) once per clip.
- `EspeakLibrary`: drives `libespeak-ng` from the `espeakng-loader` wheel (it ships the library
  and its `espeak-ng-data`) through ctypes; no system espeak-ng is needed.

`open_speaker()` picks one: `QASR_SYNTH_BACKEND=program|wheel`, else the program where it is on
PATH, else the wheel. Both return 16-bit samples at espeak-ng's own rate (22,050 Hz).

The library keeps state from one utterance to the next (measured: the same text in the same voice
gives different samples on every call, even with `espeak_ng_SetRandSeed`, and after
`espeak_Terminate` + `espeak_Initialize`), so a clip's audio would depend on what its process spoke
before it. `EspeakLibrary` therefore initialises the library once and speaks every clip in a
forked child, which starts from that same untouched state: a clip's samples depend on the clip
alone, whatever process, order or worker count renders it.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from pathlib import Path
from typing import Protocol

import attrs
import numpy as np
import numpy.typing as npt

from qasr.errors import FeatureUnavailableError, pip_install_hint

BACKEND_VARIABLE = "QASR_SYNTH_BACKEND"
# Variants that are not speech to learn from (whispers), or whose file name has a space that the
# `accent+variant` voice syntax cannot carry.
SKIPPED_VARIANTS = frozenset({"whisper", "whisperf", "Mr serious"})
# espeak-ng's speak_lib.h: AUDIO_OUTPUT_SYNCHRONOUS, espeakCHARS_UTF8, POS_CHARACTER, parameters.
_SYNCHRONOUS, _UTF8, _POS_CHARACTER = 2, 1, 1
_RATE, _PITCH, _WORDGAP = 1, 3, 7


@attrs.frozen
class Voice:
    accent: str  # an English voice: "en-us", "en-gb-scotland"...
    variant: str  # a voice variant file of `voices/!v`: "m3", "klatt2", "Storm"...

    @property
    def name(self) -> str:
        return f"{self.accent}+{self.variant}"


@attrs.frozen
class Utterance:
    """What espeak-ng is asked to say, and how."""

    text: str
    voice: Voice
    words_per_minute: int
    pitch: int  # 0-99, espeak-ng's base pitch
    word_gap: int = 0  # extra pause between words, in 10 ms units


class Speaker(Protocol):
    name: str  # "program" or "wheel"

    @property
    def version(self) -> str: ...

    def variants(self) -> tuple[str, ...]: ...

    def speak(self, utterance: Utterance) -> tuple[npt.NDArray[np.int16], int]:
        """(16-bit samples, sample rate)."""
        ...


def _install_hint() -> str:
    # Asked when the error is raised: the right pip command depends on where qasr runs from.
    return (
        "install espeak-ng (Debian/Ubuntu: apt-get install espeak-ng) or the wheel that ships it: "
        + pip_install_hint("synth")
    )


def variants_in(data: Path) -> tuple[str, ...]:
    """The voice variants of an `espeak-ng-data` folder, less the skipped ones."""
    folder = data / "voices" / "!v"
    if not folder.is_dir():
        raise FeatureUnavailableError(f"{folder} is missing: espeak-ng's data is incomplete")
    names = {path.name for path in folder.iterdir() if path.is_file()}
    return tuple(sorted(names - SKIPPED_VARIANTS))


class EspeakProgram:
    name = "program"

    def __init__(self, executable: str = "espeak-ng") -> None:
        found = shutil.which(executable)
        if found is None:
            raise FeatureUnavailableError(f"{executable} is not on PATH; {_install_hint()}")
        self.executable = found
        words = self._run(["--version"]).decode().split()
        # "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/x86_64-linux-gnu/espeak-ng-data"
        self._version = words[3]
        self.data = Path(" ".join(words[words.index("at:") + 1 :]))

    @property
    def version(self) -> str:
        return f"espeak-ng {self._version} (program)"

    def variants(self) -> tuple[str, ...]:
        return variants_in(self.data)

    def speak(self, utterance: Utterance) -> tuple[npt.NDArray[np.int16], int]:
        wav = self._run(
            [
                "--stdout",
                "-v",
                utterance.voice.name,
                "-s",
                str(utterance.words_per_minute),
                "-p",
                str(utterance.pitch),
                "-g",
                str(utterance.word_gap),
                "--",
                utterance.text,
            ]
        )
        return _streamed_wav(wav)

    def _run(self, arguments: list[str]) -> bytes:
        try:
            done = subprocess.run([self.executable, *arguments], check=True, capture_output=True)
        except subprocess.CalledProcessError as error:
            detail = error.stderr.decode(errors="replace").strip()
            raise FeatureUnavailableError(f"espeak-ng failed: {detail}") from None
        return done.stdout


def _streamed_wav(wav: bytes) -> tuple[npt.NDArray[np.int16], int]:
    """espeak-ng's `--stdout` WAV: its size fields are placeholders, the data runs to the end."""
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise FeatureUnavailableError("espeak-ng --stdout did not write a WAV file")
    rate = int.from_bytes(wav[24:28], "little")
    start = wav.index(b"data", 12) + 8
    end = start + (len(wav) - start) // 2 * 2
    return np.frombuffer(wav[start:end], dtype="<i2").astype(np.int16), rate


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class EspeakLibrary:
    name = "wheel"

    def __init__(self) -> None:
        try:
            import espeakng_loader  # type: ignore[import-untyped]
        except ImportError:
            raise FeatureUnavailableError(
                f"espeak-ng is neither on PATH nor importable as a wheel; {_install_hint()}"
            ) from None
        self.data = Path(espeakng_loader.get_data_path())
        try:
            library = ctypes.CDLL(espeakng_loader.get_library_path())
        except OSError as error:  # e.g. no libstdc++ on the machine
            raise FeatureUnavailableError(
                f"cannot load the wheel's libespeak-ng: {error}"
            ) from None
        library.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        library.espeak_Info.restype = ctypes.c_char_p
        library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        library.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self.rate = library.espeak_Initialize(_SYNCHRONOUS, 0, str(self.data).encode(), 0)
        if self.rate <= 0:
            raise FeatureUnavailableError(f"libespeak-ng could not read its data at {self.data}")
        self._chunks: list[npt.NDArray[np.int16]] = []
        self._callback = _Callback(self._collect)  # kept: the library holds only a pointer
        library.espeak_SetSynthCallback(self._callback)
        self._library = library
        self._version = (library.espeak_Info(None) or b"?").decode()

    @property
    def version(self) -> str:
        return f"espeak-ng {self._version} (wheel)"

    def variants(self) -> tuple[str, ...]:
        return variants_in(self.data)

    def _collect(self, samples: object, count: int, events: object) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0  # go on

    def speak(self, utterance: Utterance) -> tuple[npt.NDArray[np.int16], int]:
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child, which never returns
            os.close(reader)
            _speak_and_exit(self, utterance, writer)
        os.close(writer)
        with os.fdopen(reader, "rb") as pipe:
            answer = pipe.read()
        os.waitpid(child, 0)
        if answer[:1] != b"\x00":
            message = answer[1:].decode(errors="replace") or "the speaking process died"
            raise FeatureUnavailableError(f"libespeak-ng: {message}")
        return np.frombuffer(answer[1:], dtype=np.int16), self.rate

    def synthesize_here(self, utterance: Utterance) -> npt.NDArray[np.int16]:
        """Speak in this process; its state changes, so use only once per fork."""
        library = self._library
        if library.espeak_SetVoiceByName(utterance.voice.name.encode()) != 0:
            raise FeatureUnavailableError(f"espeak-ng has no voice {utterance.voice.name!r}")
        for parameter, value in (
            (_RATE, utterance.words_per_minute),
            (_PITCH, utterance.pitch),
            (_WORDGAP, utterance.word_gap),
        ):
            library.espeak_SetParameter(parameter, value, 0)
        # espeak-ng seeds its own generator (noise of the Klatt voices) from the clock at
        # initialisation; a fixed seed makes those voices repeatable too.
        library.espeak_ng_SetRandSeed(0)
        text = utterance.text.encode()
        self._chunks.clear()
        status = library.espeak_Synth(text, len(text) + 1, 0, _POS_CHARACTER, 0, _UTF8, None, None)
        library.espeak_Synchronize()
        if status != 0:
            raise FeatureUnavailableError(f"espeak_Synth failed with status {status}")
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)


def _speak_and_exit(library: EspeakLibrary, utterance: Utterance, writer: int) -> None:
    try:
        payload = b"\x00" + library.synthesize_here(utterance).tobytes()
    except BaseException as error:  # reported to the parent, which raises it
        payload = b"\x01" + str(error).encode()
    with os.fdopen(writer, "wb") as pipe:
        pipe.write(payload)
    os._exit(0)


def open_speaker(backend: str | None = None) -> Speaker:
    """`backend` "program", "wheel", or None/"auto": $QASR_SYNTH_BACKEND, else the program where
    `espeak-ng` is on PATH, else the wheel."""
    choice = (backend or os.environ.get(BACKEND_VARIABLE) or "auto").strip().lower()
    if choice == "program":
        return EspeakProgram()
    if choice == "wheel":
        return EspeakLibrary()
    if choice != "auto":
        raise FeatureUnavailableError(
            f"{BACKEND_VARIABLE}={choice!r}: expected 'program', 'wheel' or 'auto'"
        )
    return EspeakProgram() if shutil.which("espeak-ng") else EspeakLibrary()


# espeak-ng's English accents (in both Debian's 1.51 data and the wheel's 1.52 data).
ACCENTS = (
    "en-us",
    "en",  # British English: "en-gb" in 1.51, only "en" in the 1.52 data
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
