"""Native RIFF/WAVE reader: PCM 8/16/24/32-bit and IEEE float 32/64, no ffmpeg needed.

WAV is what recorders, `sox` and most ASR datasets produce, and it needs no decoder: the samples
are a byte array after a few chunk headers. Reading it natively makes WAV input work without
ffmpeg and lets an hour of audio load by memory-mapping the data chunk (docs/adr/0004).

Chunk layout rules (decided in docs/adr/0004):
- Chunks other than `fmt `, `data` and `ds64` (LIST, fact, cue, bext...) are skipped wherever
  they are, including their pad byte when the size is odd. The RIFF size field is ignored: many
  writers get it wrong and it changes nothing about where the samples are.
- A `data` size of 0xFFFFFFFF means "still streaming" (ffmpeg writing to a pipe, RF64): the data
  runs to the end of the file, and a trailing partial frame is dropped.
- Any other `data` size larger than what the file holds means the file was cut short (a failed
  copy or download); that is an error rather than a silently shorter transcript.
- A `data` size that is not a whole number of frames loses its last partial frame (less than one
  sample per channel; libsndfile does the same).
- Encodings other than PCM and IEEE float (ADPCM, A-law, mu-law, MP3-in-WAV...) raise
  `UnsupportedWavEncodingError`, which `DefaultAudioSource` answers by decoding with ffmpeg.
"""

from __future__ import annotations

import io
import os
import struct
from typing import BinaryIO

import attrs
import numpy as np
import numpy.typing as npt

from qasr.errors import AudioError

PCM = 0x0001
IEEE_FLOAT = 0x0003
EXTENSIBLE = 0xFFFE
# KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT are the format tag followed by this fixed GUID tail.
SUBFORMAT_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")
STREAMED_SIZE = 0xFFFFFFFF
_ENCODING_NAMES = {0x0002: "MS ADPCM", 0x0006: "A-law", 0x0007: "mu-law", 0x0011: "IMA ADPCM",
                   0x0050: "MPEG", 0x0055: "MP3"}  # fmt: skip
_FRAMES_PER_BLOCK = 1 << 20  # frames converted at a time: bounds the float copy of huge files


class UnsupportedWavEncodingError(AudioError):
    """A valid WAV file whose sample encoding this reader does not decode; ffmpeg can."""

    def __init__(self, label: str, encoding: str) -> None:
        super().__init__(
            f"{label}: WAV encoding {encoding} is not read natively; "
            "load it with DefaultAudioSource or FfmpegAudioSource (needs ffmpeg)"
        )
        self.encoding = encoding


@attrs.frozen
class WavFormat:
    """The `fmt ` chunk, with WAVE_FORMAT_EXTENSIBLE resolved to its sub-format."""

    encoding: int  # PCM or IEEE_FLOAT
    channels: int
    sample_rate: int
    block_align: int  # bytes per frame (all channels)
    bits_per_sample: int

    @property
    def sample_bytes(self) -> int:
        return self.block_align // self.channels


@attrs.frozen
class WavLayout:
    """Where the samples of a WAV file are and how they are encoded."""

    format: WavFormat
    data_offset: int
    data_bytes: int  # whole frames only
    streamed: bool  # the header gave no data size; the data ran to the end of the file

    @property
    def frames(self) -> int:
        return self.data_bytes // self.format.block_align


def is_wav_header(header: bytes) -> bool:
    """Whether the first 12 bytes of a file announce RIFF/WAVE (or its 64-bit form, RF64)."""
    return header[:4] in (b"RIFF", b"RF64") and header[8:12] == b"WAVE"


def read_wav(
    path: str | os.PathLike[str], *, mono: bool = True
) -> tuple[npt.NDArray[np.float32], int]:
    """Read a WAV file as float32 samples in [-1, 1] at its own sample rate.

    Returns `(samples, sample_rate)`; samples are 1-D (channels averaged) when `mono`, otherwise
    shaped (frames, channels). Raises `AudioError` naming the file for a truncated, corrupt or
    empty file, and `UnsupportedWavEncodingError` for compressed encodings.
    """
    layout = wav_layout(path)
    mapped = np.memmap(path, dtype=np.uint8, mode="r", offset=layout.data_offset,
                       shape=(layout.data_bytes,))  # fmt: skip
    try:
        return _samples(mapped, layout.format, mono, os.fspath(path)), layout.format.sample_rate
    finally:
        del mapped


def read_wav_bytes(
    content: bytes, label: str = "WAV data", *, mono: bool = True
) -> tuple[npt.NDArray[np.float32], int]:
    """`read_wav` for a WAV file held in memory (an upload, ffmpeg's output); `label` names it
    in error messages."""
    with io.BytesIO(content) as file:
        layout = _layout(file, len(content), label)
    raw = np.frombuffer(content, dtype=np.uint8, count=layout.data_bytes, offset=layout.data_offset)
    return _samples(raw, layout.format, mono, label), layout.format.sample_rate


def wav_layout(path: str | os.PathLike[str]) -> WavLayout:
    """Walk the chunks of a WAV file and locate its format and sample data."""
    with open(path, "rb") as file:
        return _layout(file, os.fstat(file.fileno()).st_size, os.fspath(path))


def _layout(file: BinaryIO, file_size: int, label: str) -> WavLayout:
    if not is_wav_header(file.read(12)):
        raise AudioError(f"{label}: not a WAV file (no RIFF/WAVE header)")
    fmt, data_offset, declared = _walk_chunks(file, file_size, label)
    if fmt is None:
        raise AudioError(f"{label}: corrupt or truncated: no fmt chunk before the end of the file")
    if data_offset is None or declared is None:
        raise AudioError(f"{label}: corrupt or truncated: no data chunk")
    available = file_size - data_offset
    streamed = declared == STREAMED_SIZE
    if streamed:
        declared = available
    elif declared > available:
        raise AudioError(
            f"{label}: truncated: data chunk says {declared} bytes, file has {available}"
        )
    data_bytes = declared - declared % fmt.block_align
    if declared == 0:
        raise AudioError(f"{label}: contains no audio (the data chunk is empty)")
    if data_bytes == 0:
        raise AudioError(
            f"{label}: no whole frame of audio: the data chunk holds {declared} bytes, but the "
            f"fmt chunk says one frame ({_count(fmt.channels, 'channel')}) takes {fmt.block_align}"
        )
    return WavLayout(fmt, data_offset, data_bytes, streamed)


def _samples(
    raw: npt.NDArray[np.uint8], fmt: WavFormat, mono: bool, label: str
) -> npt.NDArray[np.float32]:
    samples = _decode(raw, fmt, mono)
    if fmt.encoding == IEEE_FLOAT and not np.all(np.isfinite(samples)):
        raise AudioError(f"{label}: corrupt: contains NaN or infinite samples")
    return samples


def _walk_chunks(
    file: BinaryIO, file_size: int, label: str
) -> tuple[WavFormat | None, int | None, int | None]:
    fmt: WavFormat | None = None
    data_offset: int | None = None
    declared: int | None = None
    rf64_data_size: int | None = None
    position = 12
    while position + 8 <= file_size:
        file.seek(position)
        chunk_id, chunk_size = struct.unpack("<4sI", file.read(8))
        body = position + 8
        if chunk_id == b"ds64" and chunk_size >= 16:
            # RF64 keeps the real 64-bit sizes here: RIFF size, then data size.
            rf64_data_size = struct.unpack("<QQ", file.read(16))[1]
        elif chunk_id == b"fmt ":
            if body + chunk_size > file_size:
                raise AudioError(f"{label}: truncated: the fmt chunk runs past the end of the file")
            fmt = _parse_fmt(file.read(chunk_size), label)
        elif chunk_id == b"data" and data_offset is None:
            data_offset = body
            declared = chunk_size
            if chunk_size == STREAMED_SIZE and rf64_data_size is not None:
                declared = rf64_data_size
            if declared == STREAMED_SIZE or fmt is not None:
                break  # the format is known, or the data runs to the end: nothing else matters
        position = body + chunk_size + (chunk_size & 1)  # odd chunks carry a pad byte
    return fmt, data_offset, declared


def _parse_fmt(body: bytes, label: str) -> WavFormat:
    if len(body) < 16:
        raise AudioError(f"{label}: corrupt: fmt chunk has {len(body)} bytes, needs at least 16")
    encoding, channels, sample_rate, _, block_align, bits = struct.unpack_from("<HHIIHH", body)
    if encoding == EXTENSIBLE:
        if len(body) < 40:
            raise AudioError(f"{label}: corrupt: WAVE_FORMAT_EXTENSIBLE fmt chunk is too short")
        subformat = body[24:40]
        if subformat[2:] != SUBFORMAT_GUID_TAIL:
            raise UnsupportedWavEncodingError(label, f"sub-format {subformat.hex()}")
        encoding = int.from_bytes(subformat[:2], "little")
    if channels == 0 or sample_rate == 0 or block_align == 0 or block_align % channels:
        raise AudioError(
            f"{label}: corrupt: fmt chunk says {_count(channels, 'channel')}, {sample_rate} Hz, "
            f"{block_align} bytes per frame"
        )
    fmt = WavFormat(encoding, channels, sample_rate, block_align, bits)
    supported = {PCM: (1, 2, 3, 4), IEEE_FLOAT: (4, 8)}
    if encoding not in supported:
        name = _ENCODING_NAMES.get(encoding, "format")
        raise UnsupportedWavEncodingError(label, f"{name} (0x{encoding:04x})")
    if fmt.sample_bytes not in supported[encoding]:
        kind = "PCM" if encoding == PCM else "float"
        raise UnsupportedWavEncodingError(label, f"{kind} with {fmt.sample_bytes}-byte samples")
    return fmt


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _decode(raw: npt.NDArray[np.uint8], fmt: WavFormat, mono: bool) -> npt.NDArray[np.float32]:
    frames = len(raw) // fmt.block_align
    shape = (frames,) if mono else (frames, fmt.channels)
    samples = np.empty(shape, dtype=np.float32)
    channel_weights = np.full(fmt.channels, 1.0 / fmt.channels, dtype=np.float32)
    for first in range(0, frames, _FRAMES_PER_BLOCK):
        last = min(frames, first + _FRAMES_PER_BLOCK)
        block = _to_float(raw[first * fmt.block_align : last * fmt.block_align], fmt)
        block = block.reshape(last - first, fmt.channels)
        if not mono:
            samples[first:last] = block
        elif fmt.channels == 1:
            samples[first:last] = block[:, 0]
        else:
            samples[first:last] = block @ channel_weights  # the mean; a BLAS call beats .mean()
    return samples


def _to_float(raw: npt.NDArray[np.uint8], fmt: WavFormat) -> npt.NDArray[np.float32]:
    """Decode little-endian samples; integers are scaled by their container's full range."""
    width = fmt.sample_bytes
    if fmt.encoding == IEEE_FLOAT:
        return raw.view("<f4" if width == 4 else "<f8").astype(np.float32)
    if width == 1:  # 8-bit WAV is unsigned with 128 as silence
        return (raw.astype(np.float32) - 128.0) / 128.0
    if width == 3:
        # Place each 3-byte sample in the top bytes of an int32, where its sign bit belongs.
        widened = np.zeros((len(raw) // 3, 4), dtype=np.uint8)
        widened[:, 1:] = raw.reshape(-1, 3)
        integers = widened.view("<i4")[:, 0]
        full_scale = 2.0**31
    else:
        integers = raw.view("<i2" if width == 2 else "<i4")
        full_scale = 2.0 ** (8 * width - 1)
    scaled: npt.NDArray[np.float32] = integers.astype(np.float32) / np.float32(full_scale)
    return scaled


# name -> (encoding, bytes per sample)
SAMPLE_FORMATS = {
    "uint8": (PCM, 1),
    "int16": (PCM, 2),
    "int24": (PCM, 3),
    "int32": (PCM, 4),
    "float32": (IEEE_FLOAT, 4),
    "float64": (IEEE_FLOAT, 8),
}


def write_wav(
    path: str | os.PathLike[str],
    samples: npt.NDArray[np.generic],
    sample_rate: int,
    sample_format: str = "int16",
    *,
    extensible: bool | None = None,
) -> None:
    """Write samples in [-1, 1] (1-D mono or (frames, channels)) as a WAV file.

    Integer arrays are first scaled like in-memory input (int16 / 2^15...), so writing int16
    samples as "int16" is exact. Values outside [-1, 1) are clipped for integer formats.
    `extensible` writes WAVE_FORMAT_EXTENSIBLE; by default it is used where Microsoft asks for it:
    more than two channels, or integer samples wider than 16 bits.
    """
    from qasr.adapters.audio.arrays import pcm_to_float  # arrays imports resample, not wav

    if sample_format not in SAMPLE_FORMATS:
        raise ValueError(f"sample_format must be one of {sorted(SAMPLE_FORMATS)}, "
                         f"got {sample_format!r}")  # fmt: skip
    encoding, width = SAMPLE_FORMATS[sample_format]
    array = np.asarray(samples)
    # Float input keeps its precision so float64 files round-trip exactly.
    floats = array.astype(np.float64) if array.dtype.kind == "f" else pcm_to_float(array)
    frames = floats.reshape(len(floats), -1)
    channels = frames.shape[1]
    if extensible is None:
        extensible = channels > 2 or (encoding == PCM and width > 2)
    payload = _encode(frames, encoding, width).tobytes()
    fmt = _fmt_chunk(encoding, channels, int(sample_rate), width, extensible)
    fact = b"" if encoding == PCM else _chunk(b"fact", struct.pack("<I", len(frames)))
    body = b"WAVE" + fmt + fact + _chunk(b"data", payload)
    if len(body) > STREAMED_SIZE - 1:
        raise AudioError(f"{os.fspath(path)}: {len(payload)} bytes of audio are too many for WAV")
    with open(path, "wb") as file:
        file.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def _encode(frames: npt.NDArray[np.floating], encoding: int, width: int) -> npt.NDArray[np.generic]:
    if encoding == IEEE_FLOAT:
        return frames.astype("<f4" if width == 4 else "<f8")
    full_scale = 2.0 ** (8 * width - 1)
    levels = np.clip(np.round(frames.astype(np.float64) * full_scale), -full_scale, full_scale - 1)
    if width == 1:
        return (levels + 128).astype("<u1")
    if width == 3:
        return levels.astype("<i4").view(np.uint8).reshape(*levels.shape, 4)[..., :3]
    return levels.astype("<i2" if width == 2 else "<i4")


def _fmt_chunk(
    encoding: int, channels: int, sample_rate: int, width: int, extensible: bool
) -> bytes:
    block_align = channels * width
    tag = EXTENSIBLE if extensible else encoding
    fields = struct.pack("<HHIIHH", tag, channels, sample_rate, sample_rate * block_align,
                         block_align, 8 * width)  # fmt: skip
    if extensible:
        mask = (1 << channels) - 1 if channels <= 18 else 0  # the first N speaker positions
        subformat = encoding.to_bytes(2, "little") + SUBFORMAT_GUID_TAIL
        fields += struct.pack("<HHI", 22, 8 * width, mask) + subformat
    elif encoding != PCM:
        fields += struct.pack("<H", 0)  # non-PCM fmt chunks carry a cbSize
    return _chunk(b"fmt ", fields)


def _chunk(chunk_id: bytes, body: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1)
