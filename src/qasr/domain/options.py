"""What a caller asks of recognition, per recording."""

from __future__ import annotations

import attrs

from qasr.domain.languages import Language, find_language


def _to_language(value: str | Language | None) -> Language | None:
    return None if value is None else find_language(value)


def _positive_or_none(
    instance: object, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be a positive number of tokens, got {value}")


@attrs.frozen
class RecognitionOptions:
    """`language=None` lets the model detect it; `context` is domain vocabulary or a hint text;
    `max_new_tokens=None` picks a budget scaled to the audio length."""

    language: Language | None = attrs.field(default=None, converter=_to_language)
    context: str = ""
    max_new_tokens: int | None = attrs.field(default=None, validator=_positive_or_none)
