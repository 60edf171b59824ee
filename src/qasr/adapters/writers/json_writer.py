"""JSON: the whole transcript in the versioned schema of `qasr.adapters.serialization`."""

from __future__ import annotations

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
        out.write(serialization.dumps(transcript, indent=self.indent) + "\n")
