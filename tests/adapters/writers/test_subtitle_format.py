"""SRT and WebVTT: timestamps to the spec, round trips through the parsers, tolerant reading."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from writer_strategies import cues, off_grid_times

from qasr.adapters.writers.cues import Cue
from qasr.adapters.writers.subtitles import (
    SrtWriter,
    SubtitleParseError,
    VttWriter,
    format_srt,
    format_timestamp,
    format_vtt,
    parse_srt,
    parse_vtt,
    to_milliseconds,
)
from qasr.domain import Segment, Transcript
from qasr.errors import OutputFormatError


@pytest.mark.parametrize(
    ("seconds", "srt"),
    [
        (0, "00:00:00,000"),
        (0.0004, "00:00:00,000"),
        (0.0005, "00:00:00,001"),  # halves round up
        (1.5, "00:00:01,500"),
        (59.9995, "00:01:00,000"),  # the float is a hair below; the decimal a reader sees is not
        (59.9994, "00:00:59,999"),
        (3599.9996, "01:00:00,000"),
        (3661.001, "01:01:01,001"),
        (360_000, "100:00:00,000"),  # SubRip hours take as many digits as they need
        (360_000 + 59 * 60 + 59.999, "100:59:59,999"),
    ],
)
def test_timestamps_follow_the_spec(seconds: float, srt: str) -> None:
    assert format_timestamp(seconds) == srt
    assert format_timestamp(seconds, ".") == srt.replace(",", ".")


@given(st.floats(0, 1e7, allow_subnormal=False), st.floats(0, 1e7, allow_subnormal=False))
def test_rounding_keeps_the_order_of_times(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert to_milliseconds(low) <= to_milliseconds(high)
    assert abs(to_milliseconds(a) - a * 1000) <= 0.5 + 1e-6 * a


def half_up_timestamp(seconds: float, decimal_marker: str) -> str:
    """The reference: the shortest decimal of `seconds` (what a reader of the float sees),
    rounded half up to whole milliseconds by `decimal`, split into hours, minutes, seconds."""
    rounded = Decimal(repr(seconds)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    minutes, second = divmod(rounded, 60)
    hours, minutes = divmod(minutes, 60)
    whole, fraction = divmod(second, 1)
    milliseconds = int(fraction * 1000)
    return f"{int(hours):02d}:{int(minutes):02d}:{int(whole):02d}{decimal_marker}{milliseconds:03d}"


@settings(max_examples=400)
@example(0.5005, 3661.0015)  # the float product 0.5005 * 1000 is 500.49999999999994
@given(off_grid_times, off_grid_times)
def test_written_times_are_the_half_up_rounding_of_the_decimal_a_reader_sees(
    a: float, b: float
) -> None:
    start, end = sorted((a, b))
    cue = Cue(start, end, "x")
    srt = f"{half_up_timestamp(start, ',')} --> {half_up_timestamp(end, ',')}"
    vtt = f"{half_up_timestamp(start, '.')} --> {half_up_timestamp(end, '.')}"
    assert format_srt([cue]) == f"1\n{srt}\nx\n"
    assert format_vtt([cue]) == f"WEBVTT\n\n{vtt}\nx\n"
    # Reading back gives the rounded times, the same from both formats.
    rounded = [float(Decimal(repr(t)).quantize(Decimal("0.001"), ROUND_HALF_UP)) for t in (a, b)]
    expected = [Cue(*sorted(rounded), "x")]
    assert parse_srt(format_srt([cue])) == expected == parse_vtt(format_vtt([cue]))


def test_negative_times_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_timestamp(-0.001)


@given(cues())
def test_srt_round_trips(written: list[Cue]) -> None:
    assert parse_srt(format_srt(written)) == written


@given(cues())
def test_vtt_round_trips(written: list[Cue]) -> None:
    assert parse_vtt(format_vtt(written)) == written


def test_srt_layout_is_numbered_from_one_with_blank_lines_between() -> None:
    text = format_srt([Cue(0, 1.25, "Hello"), Cue(2, 3, "two\nlines")])
    assert text == (
        "1\n00:00:00,000 --> 00:00:01,250\nHello\n\n2\n00:00:02,000 --> 00:00:03,000\ntwo\nlines\n"
    )


def test_vtt_starts_with_its_header_and_escapes_markup() -> None:
    text = format_vtt([Cue(0, 1, "a < b & c --> d")])
    assert text == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\na &lt; b &amp; c --&gt; d\n"


def test_srt_parsing_tolerates_crlf_bom_missing_numbers_and_final_blank_line() -> None:
    text = (
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,5\r\nHello\r\n\r\n\r\n"
        "00:00:03.000 --> 00:00:04,000\r\nBye"
    )
    assert parse_srt(text) == [Cue(1, 2.5, "Hello"), Cue(3, 4, "Bye")]


def test_vtt_parsing_skips_notes_styles_ids_settings_and_tags() -> None:
    text = (
        "WEBVTT - a title\nKind: captions\n\n"
        "NOTE written by hand\nover two lines\n\n"
        "STYLE\n::cue { color: red }\n\n"
        "intro\n00:01.000 --> 00:02.000 align:start position:10%\n<v Anna>Hi &amp; <b>bye</b>\n\n"
        "1:00:00.000 --> 1:00:01.000\nlate"
    )
    assert parse_vtt(text) == [Cue(1, 2, "Hi & bye"), Cue(3600, 3601, "late")]


def test_malformed_subtitles_raise_a_clear_error_with_the_line() -> None:
    with pytest.raises(SubtitleParseError, match="line 1"):
        parse_srt("1\nnot a time\nHello\n")
    with pytest.raises(SubtitleParseError, match="WEBVTT"):
        parse_vtt("00:00.000 --> 00:01.000\nHello\n")
    with pytest.raises(SubtitleParseError, match="line 3: the cue ends before it starts"):
        parse_vtt("WEBVTT\n\n00:02.000 --> 00:01.000\nHello\n")


@pytest.mark.parametrize("writer", [SrtWriter(), VttWriter()])
def test_subtitles_without_word_times_are_refused_before_writing(
    writer: SrtWriter | VttWriter,
) -> None:
    out = io.StringIO()
    with pytest.raises(OutputFormatError, match="needs word timestamps; run with --timestamps"):
        writer.write(Transcript("no times here"), out)
    assert out.getvalue() == ""


@pytest.mark.parametrize(("writer", "parse"), [(SrtWriter(), parse_srt), (VttWriter(), parse_vtt)])
def test_transcript_subtitles_read_back_as_its_words(
    writer: SrtWriter | VttWriter, parse: Callable[[str], list[Cue]]
) -> None:
    words = "Good morning, everyone. Today we talk about subtitles & captions."
    segments = [
        Segment(word.strip(",.&"), index * 0.4, index * 0.4 + 0.3)
        for index, word in enumerate(words.split())
        if word.strip(",.&")
    ]
    out = io.StringIO()
    writer.write(Transcript(words, segments=segments), out)
    read = parse(out.getvalue())
    assert " ".join(cue.text.replace("\n", " ") for cue in read) == words
    assert read[0].start == 0.0 and read[-1].end == pytest.approx(segments[-1].end)
    assert read[0].text == "Good morning, everyone."
