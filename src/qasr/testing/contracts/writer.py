"""The `Writer` port's contract (qasr.ports.Writer), as a suite a writer subclasses.

>>> class TestMyWriter(WriterContract):
...     def make_writer(self):
...         return MyWriter()
"""

from __future__ import annotations

import io
from typing import ClassVar

import pytest

from qasr.domain import Segment, Transcript
from qasr.errors import OutputFormatError
from qasr.ports import Writer
from qasr.testing.contracts.suite import ContractSuite, run_suite
from qasr.testing.strategies import transcripts


class RecordingOutput(io.StringIO):
    """Counts write calls, so a writer that wrote before raising is caught."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def render_or_refuse(writer: Writer, transcript: Transcript) -> str | None:
    """The output, or None when the writer refused properly: OutputFormatError, nothing written."""
    out = RecordingOutput()
    try:
        writer.write(transcript, out)
    except OutputFormatError:
        assert out.writes == 0 and out.getvalue() == "", "wrote output before raising"
        return None
    return out.getvalue()


class WriterContract(ContractSuite):
    """Checks the promises of `Writer`: a lower-case name and a dotted extension; text that ends
    in a newline, encodes as UTF-8 and is the same for the same transcript; refusal only of
    transcripts without word times, only with `OutputFormatError`, before writing anything.
    Override `make_writer` (or the class-scoped `writer` fixture, e.g. parametrized)."""

    max_examples: ClassVar[int] = 40

    def make_writer(self) -> Writer:
        raise NotImplementedError(
            f"{type(self).__name__}: override make_writer() or the `writer` fixture"
        )

    @pytest.fixture(scope="class")
    def writer(self) -> Writer:
        return self.make_writer()

    def test_it_names_itself(self, writer: Writer) -> None:
        assert isinstance(writer, Writer), "format_name, extension or write() is missing"
        name = writer.format_name
        assert name == name.lower() and name.isidentifier(), f"format name {name!r}"
        assert writer.extension.startswith(".") and len(writer.extension) > 1, writer.extension

    def test_it_writes_deterministic_newline_terminated_text(self, writer: Writer) -> None:
        @self.for_all(transcript=transcripts())
        def check(transcript: Transcript) -> None:
            text = render_or_refuse(writer, transcript)
            if text is None:
                assert not transcript.has_timestamps, "only transcripts without word times"
                return
            assert text == "" or text.endswith("\n"), "output must end in a newline"
            text.encode("utf-8")  # no lone surrogates or other unencodable output
            assert render_or_refuse(writer, transcript) == text, "same transcript, same output"

        check()

    def test_it_writes_a_transcript_with_word_times(self, writer: Writer) -> None:
        transcript = Transcript(
            "Hello world.",
            language="en",
            segments=[Segment("Hello", 0, 0.5), Segment("world", 0.6, 1)],
        )
        text = render_or_refuse(writer, transcript)
        assert text is not None, "refused a transcript with word times"
        assert "world" in text and text.endswith("\n"), text

    def test_it_refuses_only_with_output_format_error_and_writes_nothing(
        self, writer: Writer
    ) -> None:
        text = render_or_refuse(writer, Transcript("no word times"))
        assert text is None or text.endswith("\n")


def check_writer(writer: Writer, *, max_examples: int = 40) -> None:
    """Run the whole contract on `writer`; raise `ContractViolation` listing what failed."""
    suite = type("WriterCheck", (WriterContract,), {"max_examples": max_examples})
    run_suite(suite, {"writer": writer})
