"""WAV files built chunk by chunk: odd layouts that must read, broken files that must not."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from qasr.adapters.audio import (
    DefaultAudioSource,
    UnsupportedWavEncodingError,
    WavAudioSource,
    read_wav,
    read_wav_bytes,
    wav_layout,
)
from qasr.errors import AudioError

LEVELS = np.array([0, 1000, -1000, 32767, -32768, 5], dtype="<i2")
PCM_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")


def chunk(chunk_id: bytes, body: bytes, size: int | None = None) -> bytes:
    declared = len(body) if size is None else size
    return chunk_id + struct.pack("<I", declared) + body + b"\0" * (len(body) & 1)


def fmt_body(tag=1, channels=1, rate=16000, bits=16) -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)


def extensible_fmt(subformat_tag=1, channels=2, bits=24, container=32) -> bytes:
    align = channels * container // 8
    head = struct.pack("<HHIIHH", 0xFFFE, channels, 8000, 8000 * align, align, container)
    guid = subformat_tag.to_bytes(2, "little") + PCM_GUID_TAIL
    return head + struct.pack("<HHI", 22, bits, 3) + guid


def riff(*chunks: bytes, magic: bytes = b"RIFF", size: int | None = None) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return magic + struct.pack("<I", len(body) if size is None else size) + body


def expected_levels(levels=LEVELS):
    return levels.astype(np.float32) / 32768


@pytest.fixture
def write(tmp_path):
    def write_bytes(content: bytes, name: str = "clip.wav"):
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return write_bytes


def test_skips_list_fact_and_cue_chunks_and_their_pad_bytes(write):
    odd_list = chunk(b"LIST", b"INFOISFT\x03\x00\x00\x00ab\x00")  # 15 bytes: padded
    cue = chunk(b"cue ", struct.pack("<I", 0))
    fact = chunk(b"fact", struct.pack("<I", len(LEVELS)))
    path = write(riff(odd_list, chunk(b"fmt ", fmt_body()), fact, cue,
                      chunk(b"data", LEVELS.tobytes()), odd_list))  # fmt: skip
    samples, rate = read_wav(path)
    assert rate == 16000
    np.testing.assert_array_equal(samples, expected_levels())


def test_fmt_after_data_and_a_wrong_riff_size_are_accepted(write):
    path = write(riff(chunk(b"data", LEVELS.tobytes()), chunk(b"fmt ", fmt_body()), size=7))
    np.testing.assert_array_equal(read_wav(path)[0], expected_levels())


def test_an_odd_sized_chunk_followed_by_data(write):
    eight_bit = np.array([128, 255, 0], dtype=np.uint8)
    path = write(riff(chunk(b"fmt ", fmt_body(bits=8)), chunk(b"junk", b"xyz"),
                      chunk(b"data", eight_bit.tobytes()), chunk(b"LIST", b"1234")))  # fmt: skip
    np.testing.assert_array_equal(read_wav(path)[0], [0.0, 127 / 128, -1.0])


def test_a_partial_last_frame_is_dropped(write):
    stereo = np.array([100, -100, 200, -200, 300], dtype="<i2")  # 2.5 frames
    path = write(riff(chunk(b"fmt ", fmt_body(channels=2)), chunk(b"data", stereo.tobytes())))
    samples, _ = read_wav(path, mono=False)
    np.testing.assert_array_equal(
        samples, [[100 / 32768, -100 / 32768], [200 / 32768, -200 / 32768]]
    )


def test_streamed_data_runs_to_the_end_of_the_file(write):
    content = riff(chunk(b"fmt ", fmt_body()), b"data" + struct.pack("<I", 0xFFFFFFFF),
                   size=0xFFFFFFFF) + LEVELS.tobytes() + b"\x07"  # fmt: skip
    path = write(content)
    assert wav_layout(path).streamed
    np.testing.assert_array_equal(read_wav(path)[0], expected_levels())


def test_rf64_takes_the_data_size_from_ds64(write):
    ds64 = chunk(b"ds64", struct.pack("<QQQI", 0, LEVELS.nbytes, len(LEVELS), 0))
    trailer = chunk(b"LIST", b"1234")
    data = b"data" + struct.pack("<I", 0xFFFFFFFF) + LEVELS.tobytes()
    path = write(riff(ds64, chunk(b"fmt ", fmt_body()), data + trailer, magic=b"RF64"))
    layout = wav_layout(path)
    assert (layout.frames, layout.streamed) == (len(LEVELS), False)
    np.testing.assert_array_equal(read_wav(path)[0], expected_levels())


def test_extensible_24_bit_in_32_bit_containers(write):
    levels = np.array([[1 << 8, -(1 << 8)], [0x7FFFFF00, -0x80000000]], dtype="<i4")
    path = write(riff(chunk(b"fmt ", extensible_fmt()), chunk(b"data", levels.tobytes())))
    samples, rate = read_wav(path, mono=False)
    assert rate == 8000
    np.testing.assert_allclose(samples, levels / 2**31, rtol=0, atol=1e-7)


def test_extensible_with_an_unknown_subformat_is_unsupported(write):
    fmt = extensible_fmt()[:-16] + bytes(range(16))
    path = write(riff(chunk(b"fmt ", fmt), chunk(b"data", b"\0" * 16)))
    with pytest.raises(UnsupportedWavEncodingError, match="sub-format"):
        read_wav(path)


@pytest.mark.parametrize("tag, name", [(7, "mu-law"), (2, "ADPCM"), (0x1234, "0x1234")])
def test_compressed_encodings_are_named(write, tag, name):
    path = write(riff(chunk(b"fmt ", fmt_body(tag=tag, bits=8)), chunk(b"data", b"\0" * 8)))
    with pytest.raises(UnsupportedWavEncodingError, match=name) as caught:
        WavAudioSource().load(path)
    assert str(path) in str(caught.value)


def test_truncated_data_is_an_error_naming_the_file_and_sizes(write):
    path = write(
        riff(chunk(b"fmt ", fmt_body()), chunk(b"data", b"\0" * 1200, size=32000)), "x.wav"
    )
    with pytest.raises(
        AudioError, match=r"x\.wav: truncated: data chunk says 32000 bytes, file has 1200"
    ):
        read_wav(path)


BROKEN = {
    "empty data": (riff(chunk(b"fmt ", fmt_body()), chunk(b"data", b"")), "contains no audio"),
    "less than a frame": (riff(chunk(b"fmt ", fmt_body(channels=2)), chunk(b"data", b"\0\0")),
                          "no whole frame of audio: the data chunk holds 2 bytes"),
    "65535 channels": (riff(chunk(b"fmt ", fmt_body(channels=65535, bits=8)),
                            chunk(b"data", bytes(32000))),
                       r"holds 32000 bytes, but the fmt chunk says one frame \(65535 channels\)"),
    "one channel, no rate": (riff(chunk(b"fmt ", fmt_body(rate=0)), chunk(b"data", b"\0\0")),
                             "says 1 channel, 0 Hz"),
    "no data chunk": (riff(chunk(b"fmt ", fmt_body())), "no data chunk"),
    "no fmt chunk": (riff(chunk(b"data", LEVELS.tobytes())), "no fmt chunk"),
    "short fmt": (riff(chunk(b"fmt ", fmt_body()[:12]), chunk(b"data", b"\0\0")), "corrupt"),
    "zero channels": (riff(chunk(b"fmt ", fmt_body(channels=0)), chunk(b"data", b"\0\0")),
                      "corrupt"),
    "cut inside fmt": (riff(chunk(b"fmt ", fmt_body()))[:30], "truncated"),
    "only the magic": (b"RIFF", "not a WAV file"),
    "not RIFF": (b"ID3\x04" + bytes(60), "not a WAV file"),
    "RIFF but not WAVE": (b"RIFF\x10\0\0\0AVI LIST" + bytes(8), "not a WAV file"),
    "NaN floats": (riff(chunk(b"fmt ", fmt_body(tag=3, bits=32)),
                        chunk(b"data", np.array([0, np.nan], "<f4").tobytes())), "NaN"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_files_raise_audio_errors_naming_the_file(write, case):
    content, problem = BROKEN[case]
    path = write(content, "broken.wav")
    with pytest.raises(AudioError, match=problem) as caught:
        read_wav(path)
    assert str(path) in str(caught.value)
    assert not isinstance(caught.value, UnsupportedWavEncodingError)


def test_the_default_source_does_not_hide_a_truncated_wav_behind_ffmpeg(write):
    path = write(riff(chunk(b"fmt ", fmt_body()), chunk(b"data", b"\0" * 100, size=32000)))
    with pytest.raises(AudioError, match="truncated"):
        DefaultAudioSource().load(path)


def test_a_wav_file_loads_without_ffmpeg(write, monkeypatch, tmp_path):
    path = write(riff(chunk(b"fmt ", fmt_body(rate=8000)), chunk(b"data", LEVELS.tobytes())))
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    clip = DefaultAudioSource().load(path)
    assert (clip.sample_rate, clip.num_samples, clip.name) == (16000, 2 * len(LEVELS), "clip.wav")


def test_wav_bytes_in_memory_read_like_the_file(write):
    content = riff(chunk(b"fmt ", fmt_body(channels=2)), chunk(b"data", LEVELS.tobytes()))
    from_file = read_wav(write(content))
    from_bytes = read_wav_bytes(content, "upload")
    assert from_bytes[1] == from_file[1]
    np.testing.assert_array_equal(from_bytes[0], from_file[0])
    with pytest.raises(AudioError, match="upload: truncated"):
        read_wav_bytes(content[:-4], "upload")
