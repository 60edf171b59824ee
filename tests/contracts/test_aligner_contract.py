"""Our aligners through the shipped `AlignerContract` (qasr.testing.contracts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qasr.ports import Aligner
from qasr.testing import FakeAligner
from qasr.testing.contracts import AlignerContract


class TestFakeAligner(AlignerContract):
    def make_aligner(self) -> Aligner:
        return FakeAligner()


# parity: building the tiny checkpoint needs torch and qwen_asr, like the parity tests
@pytest.mark.slow
@pytest.mark.parity
class TestMlxAligner(AlignerContract):
    """Qwen3-ForcedAligner in MLX on a random checkpoint of a few MB."""

    @pytest.fixture(scope="class")
    def aligner(self, tiny_aligner_checkpoint: Path) -> Aligner:
        module = pytest.importorskip("qasr.adapters.mlx.aligner")
        aligner: Aligner = module.MlxAligner.from_pretrained(tiny_aligner_checkpoint)
        return aligner
