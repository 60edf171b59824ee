"""The model the prefix and stream-reuse tests decode with: the bundled demo model, or the
checkpoint folder `QASR_STREAM_TEST_MODEL` names; they skip where neither exists."""

from __future__ import annotations

import os
from typing import Any

import pytest

from qasr.adapters.mlx.checkpoint.files import is_bundled

STREAM_TEST_MODEL = os.environ.get("QASR_STREAM_TEST_MODEL") or (
    "tiny-en" if is_bundled("tiny-en") else ""
)
needs_stream_model = pytest.mark.skipif(
    not STREAM_TEST_MODEL, reason="needs the tiny-en demo model (issue 20)"
)


def prefix_recognizer() -> Any:
    """A `PrefixMlxRecognizer` of the model, in float32."""
    from qasr.adapters.mlx.prefix_recognizer import PrefixMlxRecognizer

    return PrefixMlxRecognizer.from_pretrained(STREAM_TEST_MODEL, dtype="float32")
