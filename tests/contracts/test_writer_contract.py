"""The `Writer` contract, proved by every writer `writers_for("all")` returns.

A new writer joins by being registered: this module then checks that it writes text ending in
a newline, refuses what it cannot write with `OutputFormatError` before writing anything, and
writes the same bytes for the same transcript.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qasr.adapters.writers import writers_for
from qasr.domain import LANGUAGES, Segment, SpeakerSpan, Transcript
from qasr.errors import OutputFormatError
from qasr.ports import Writer

WRITERS = writers_for("all")


class RecordingOutput(io.StringIO):
    """Counts write calls, so a writer that wrote before raising is caught."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


# Importing torch (other tests do) turns on flush-to-zero, and hypothesis then refuses to draw
# subnormal floats; no real time is subnormal anyway.
def seconds(high: float) -> st.SearchStrategy[float]:
    return st.floats(0, high, allow_subnormal=False)


@st.composite
def transcripts(draw: st.DrawFn) -> Transcript:
    starts = sorted(draw(st.lists(seconds(20_000), max_size=6)))
    texts = st.text(max_size=20)
    segments = [Segment(draw(texts), start, start + draw(seconds(5))) for start in starts]
    turns = sorted(draw(st.lists(seconds(20_000), max_size=3)))
    speakers = [SpeakerSpan(f"SPEAKER_0{i}", start, start + 4.0) for i, start in enumerate(turns)]
    return Transcript(
        draw(texts),
        language=draw(st.none() | st.sampled_from(LANGUAGES)),
        segments=segments,
        speakers=speakers,
    )


def render_or_refuse(writer: Writer, transcript: Transcript) -> str | None:
    """The output, or None when the writer refused properly: OutputFormatError, nothing written."""
    out = RecordingOutput()
    try:
        writer.write(transcript, out)
    except OutputFormatError:
        assert out.writes == 0 and out.getvalue() == "", "wrote output before raising"
        return None
    return out.getvalue()


def ids(writer: Writer) -> str:
    return writer.format_name


@pytest.mark.parametrize("writer", WRITERS, ids=ids)
def test_writer_names_itself(writer: Writer) -> None:
    assert isinstance(writer, Writer)
    assert writer.format_name == writer.format_name.lower() and writer.format_name.isidentifier()
    assert writer.extension.startswith(".") and len(writer.extension) > 1


@pytest.mark.parametrize("writer", WRITERS, ids=ids)
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(transcript=transcripts())
def test_writer_writes_deterministic_newline_terminated_text(
    writer: Writer, transcript: Transcript
) -> None:
    text = render_or_refuse(writer, transcript)
    if text is None:
        assert not transcript.has_timestamps, "only transcripts without word times may be refused"
        return
    assert isinstance(text, str)
    assert text == "" or text.endswith("\n")
    text.encode("utf-8")  # no lone surrogates or other unencodable output
    assert render_or_refuse(writer, transcript) == text, "same transcript, same output"


@pytest.mark.parametrize("writer", WRITERS, ids=ids)
def test_writer_writes_a_transcript_with_word_times(writer: Writer) -> None:
    transcript = Transcript(
        "Hello world.", language="en", segments=[Segment("Hello", 0, 0.5), Segment("world", 0.6, 1)]
    )
    text = render_or_refuse(writer, transcript)
    assert text is not None and "world" in text and text.endswith("\n")


@pytest.mark.parametrize("writer", WRITERS, ids=ids)
def test_writer_refuses_only_with_output_format_error_and_writes_nothing(writer: Writer) -> None:
    text = render_or_refuse(writer, Transcript("no word times"))
    assert text is None or text.endswith("\n")
