"""The JSON schema of a transcript: exact round trips, a stable shape, clear refusals."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from writer_strategies import transcripts

from qasr.adapters.serialization import (
    SCHEMA,
    TranscriptFormatError,
    dumps,
    loads,
    transcript_from_dict,
    transcript_to_dict,
)
from qasr.domain import ChunkRecord, FinishReason, Segment, SpeakerSpan, Transcript, find_language
from qasr.errors import QasrError


@given(transcripts())
def test_json_and_dicts_round_trip_exactly(transcript: Transcript) -> None:
    assert loads(dumps(transcript)) == transcript
    data = transcript_to_dict(transcript)
    assert json.loads(json.dumps(data)) == data, "only JSON types inside"
    assert transcript_from_dict(data) == transcript


def test_the_shape_is_the_documented_schema_version_one() -> None:
    transcript = Transcript(
        "你好 world",
        language="zh",
        segments=[Segment("你好", 0.0, 0.5)],
        chunks=[ChunkRecord(0, 0.0, 30.0, "你好 world", "Sichuan", FinishReason.LENGTH)],
        speakers=[SpeakerSpan("SPEAKER_00", 0.0, 1.25, "你好")],
        finish_reason=FinishReason.LENGTH,
        duration=31.5,
    )
    data = json.loads(dumps(transcript))
    assert next(iter(data)) == "schema" and data["schema"] == SCHEMA == "qasr.transcript/1"
    assert data["language"] == {"name": "Chinese", "code": "zh"}
    assert data["chunks"][0]["language"] == {"name": "Sichuan", "code": "zh-sichuan"}
    assert data["finish_reason"] == data["chunks"][0]["finish_reason"] == "length"
    assert data["segments"] == [{"text": "你好", "start": 0.0, "end": 0.5}]
    assert data["speakers"][0] == {
        "speaker": "SPEAKER_00",
        "start": 0.0,
        "end": 1.25,
        "text": "你好",
    }
    assert data["duration"] == 31.5
    assert "你好" in dumps(transcript), "UTF-8 text is kept, not \\u-escaped"


def test_hand_written_files_may_give_the_language_as_a_string_and_omit_defaults() -> None:
    transcript = loads('{"schema": "qasr.transcript/1", "text": "hola", "language": "es"}')
    assert transcript == Transcript("hola", language=find_language("Spanish"))


def test_unknown_keys_within_version_one_are_ignored() -> None:
    text = '{"schema": "qasr.transcript/1", "text": "hi", "added_later": [1, 2]}'
    assert loads(text) == Transcript("hi")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"schema": "qasr.transcript/2", "text": "x"}', "upgrade qasr"),
        ('{"text": "x"}', "not a qasr transcript"),
        ('{"schema": "whisper", "text": "x"}', "not a qasr transcript"),
        ("[1, 2]", "JSON object"),
        ("{not json", "not valid JSON"),
        ('{"schema": "qasr.transcript/1"}', r"\$\.text: required field missing"),
        (
            '{"schema": "qasr.transcript/1", "text": "x", '
            '"segments": [{"text": "a", "start": 2, "end": 1}]}',
            r"\$\.segments\[0\]: end \(1.0\) is before start",
        ),
        ('{"schema": "qasr.transcript/1", "text": "x", "language": "Klingon"}', "unknown language"),
        ('{"schema": "qasr.transcript/1", "text": "x", "finish_reason": "tired"}', "finish_reason"),
    ],
)
def test_bad_input_raises_a_qasr_error_that_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(TranscriptFormatError, match=message) as raised:
        loads(text)
    assert isinstance(raised.value, QasrError)
