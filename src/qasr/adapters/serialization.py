"""The JSON shape of a transcript, owned by one `cattrs.Converter` (docs/adr/0003).

Schema `qasr.transcript/1`:

    {"schema": "qasr.transcript/1", "text": str,
     "language": {"name": "English", "code": "en"} | null,
     "segments": [{"text", "start", "end"}], "chunks": [{"index", "start", "end", "text",
     "language", "finish_reason"}], "speakers": [{"speaker", "start", "end", "text"}],
     "finish_reason": "stop" | "length" | "repetition", "duration": float | null}

Times are seconds as JSON numbers, written with Python's shortest round-trip repr, so
`loads(dumps(t)) == t` exactly; rounding for display belongs to the subtitle writers. Unknown
keys are ignored, so a reader of version 1 accepts additions made within version 1; a change
that old readers would misread gets a new version, which they refuse with a clear message.
"""

from __future__ import annotations

import json
from typing import Any

import cattrs
from cattrs.v import format_exception

from qasr.domain import Language, Transcript, find_language
from qasr.errors import TranscriptFormatError

SCHEMA = "qasr.transcript/1"
_SCHEMA_FAMILY = "qasr.transcript/"


def _unstructure_language(language: Language) -> dict[str, str]:
    return {"name": language.name, "code": language.code}


def _structure_language(value: Any, _type: object) -> Language:
    # A bare name or code is accepted too: hand-written files often have "language": "en".
    if isinstance(value, str):
        return find_language(value)
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return find_language(value["name"])
    if isinstance(value, dict) and isinstance(value.get("code"), str):
        return find_language(value["code"])
    raise ValueError(f'a language is {{"name": ..., "code": ...}}, got {value!r}')


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_unstructure_hook(Language, _unstructure_language)
    converter.register_structure_hook(Language, _structure_language)
    return converter


converter = _make_converter()


def transcript_to_dict(transcript: Transcript) -> dict[str, Any]:
    """A JSON-ready dict, `"schema"` first."""
    return {"schema": SCHEMA, **converter.unstructure(transcript, Transcript)}


def _check_schema(data: Any) -> None:
    if not isinstance(data, dict):
        raise TranscriptFormatError(
            f"a qasr transcript is a JSON object, got {type(data).__name__}"
        )
    schema = data.get("schema")
    if schema == SCHEMA:
        return
    if isinstance(schema, str) and schema.startswith(_SCHEMA_FAMILY):
        raise TranscriptFormatError(
            f"this transcript uses schema {schema!r}, but this qasr reads only {SCHEMA!r}; "
            "upgrade qasr (pip install -U qasr) to read it"
        )
    raise TranscriptFormatError(
        f'not a qasr transcript: expected "schema": {SCHEMA!r}, got {schema!r}'
    )


def _describe(error: BaseException, type_: Any) -> str:
    # Validators and enums explain themselves; cattrs words the rest ("required field missing").
    if isinstance(error, ValueError):
        return str(error)
    return format_exception(error, type_)


def _problems(error: cattrs.BaseValidationError) -> str:
    lines = cattrs.transform_error(error, format_exception=_describe)
    return "; ".join(
        f"{where}: {what}" for what, _, where in (line.rpartition(" @ ") for line in lines)
    )


def transcript_from_dict(data: Any) -> Transcript:
    """Read a dict made by `transcript_to_dict` (or parsed from its JSON)."""
    _check_schema(data)
    fields = {key: value for key, value in data.items() if key != "schema"}
    try:
        return converter.structure(fields, Transcript)
    except cattrs.BaseValidationError as error:
        raise TranscriptFormatError(f"invalid transcript: {_problems(error)}") from error


def dumps(transcript: Transcript, *, indent: int | None = 2) -> str:
    """The transcript as JSON text (UTF-8 characters kept as they are, no trailing newline)."""
    return json.dumps(
        transcript_to_dict(transcript), ensure_ascii=False, indent=indent, allow_nan=False
    )


def loads(text: str | bytes) -> Transcript:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise TranscriptFormatError(f"not valid JSON: {error}") from error
    return transcript_from_dict(data)


__all__ = [
    "SCHEMA",
    "TranscriptFormatError",
    "converter",
    "dumps",
    "loads",
    "transcript_from_dict",
    "transcript_to_dict",
]
