"""JSON: the whole transcript in the versioned schema of `qasr.adapters.serialization`."""

from __future__ import annotations

import json
from typing import TextIO

import attrs

from qasr.adapters import serialization
from qasr.domain import Transcript


@attrs.frozen
class JsonWriter:
    indent: int | None = 2

    format_name = "json"
    extension = ".json"

    def write(self, transcript: Transcript, out: TextIO) -> None:
        data = serialization.transcript_to_dict(transcript)
        if transcript.speakers:
            # mlx-qwen3-asr's name for the turns; readers of qasr.transcript/1 ignore it.
            data["speaker_segments"] = data["speakers"]
        out.write(json.dumps(data, ensure_ascii=False, indent=self.indent, allow_nan=False) + "\n")
