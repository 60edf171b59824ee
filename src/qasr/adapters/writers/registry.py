"""Writers by the names users pick them with (`-f srt`, `-f all`, `-f srt,json`)."""

from __future__ import annotations

from collections.abc import Callable

from qasr.adapters.writers.cues import CueLimits
from qasr.adapters.writers.json_writer import JsonWriter
from qasr.adapters.writers.plain_text import TextWriter
from qasr.adapters.writers.subtitles import SrtWriter, VttWriter
from qasr.adapters.writers.tsv import TsvWriter
from qasr.errors import OutputFormatError
from qasr.ports import Writer

_FACTORIES: dict[str, Callable[[CueLimits], Writer]] = {
    "txt": lambda limits: TextWriter(),
    "json": lambda limits: JsonWriter(),
    "srt": SrtWriter,
    "vtt": VttWriter,
    "tsv": TsvWriter,
}

WRITER_NAMES: tuple[str, ...] = tuple(_FACTORIES)
ALL = "all"


def _choices() -> str:
    return ", ".join((*WRITER_NAMES, ALL))


def get_writer(name: str, *, cue_limits: CueLimits | None = None) -> Writer:
    """The writer for one format name, ignoring case and a leading dot (".SRT" is "srt")."""
    key = name.strip().lower().removeprefix(".")
    if key == ALL:
        raise OutputFormatError(f"'{ALL}' names several formats; use writers_for({name!r})")
    if key not in _FACTORIES:
        raise OutputFormatError(f"unknown output format {name!r}; choose one of: {_choices()}")
    return _FACTORIES[key](cue_limits or CueLimits())


def writers_for(name: str, *, cue_limits: CueLimits | None = None) -> tuple[Writer, ...]:
    """Writers for "all", one name, or comma-separated names ("srt,json"), without repeats."""
    keys = [part.strip().lower().removeprefix(".") for part in name.split(",") if part.strip()]
    if not keys:
        raise OutputFormatError(f"no output format given; choose one of: {_choices()}")
    if ALL in keys:
        keys = list(WRITER_NAMES)
    unique = list(dict.fromkeys(keys))
    return tuple(get_writer(key, cue_limits=cue_limits) for key in unique)
