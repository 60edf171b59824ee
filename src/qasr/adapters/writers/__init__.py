"""Output writers (txt, json, srt, vtt, tsv), subtitle cues, and SRT/WebVTT parsers."""

from qasr.adapters.writers.cues import Cue, CueLimits, Word, display_width, group_words, make_cues
from qasr.adapters.writers.files import render, write_files
from qasr.adapters.writers.json_writer import JsonWriter
from qasr.adapters.writers.plain_text import TextWriter
from qasr.adapters.writers.registry import WRITER_NAMES, get_writer, writers_for
from qasr.adapters.writers.subtitles import (
    SrtWriter,
    SubtitleParseError,
    VttWriter,
    format_srt,
    format_timestamp,
    format_vtt,
    parse_srt,
    parse_vtt,
)
from qasr.adapters.writers.tsv import TsvWriter
from qasr.adapters.writers.words import transcript_words

__all__ = [
    "WRITER_NAMES",
    "Cue",
    "CueLimits",
    "JsonWriter",
    "SrtWriter",
    "SubtitleParseError",
    "TextWriter",
    "TsvWriter",
    "VttWriter",
    "Word",
    "display_width",
    "format_srt",
    "format_timestamp",
    "format_vtt",
    "get_writer",
    "group_words",
    "make_cues",
    "parse_srt",
    "parse_vtt",
    "render",
    "transcript_words",
    "write_files",
    "writers_for",
]
