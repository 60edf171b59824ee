"""The `-hf` forced aligner (`Qwen3ASRForTokenClassification`) against transformers 5.23.0's own.

The reference side is transformers' documented path on random checkpoints (see hf_cases.py):
`Qwen3ASRProcessor.prepare_forced_aligner_inputs`, the model's logits, and
`decode_forced_alignment`. qasr loads the very folders with `MlxAligner.from_pretrained`.
Times are whole milliseconds, so words and times must be equal, not close.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from tests.parity_hf.hf_cases import AlignerCase, HfReference

from qasr.adapters.mlx.aligner import MlxAligner
from qasr.adapters.mlx.checkpoint.weights import Layout

pytestmark = pytest.mark.parity


@cache
def aligner(folder: str) -> MlxAligner:
    return MlxAligner.from_pretrained(folder, dtype="float32")


def ours(case: AlignerCase) -> MlxAligner:
    return aligner(str(case.folder))


def test_token_classification_folders_load_as_aligners(hf_reference: HfReference) -> None:
    for case in hf_reference.aligner_cases:
        info = ours(case).model_info()
        assert info["layout"] == Layout.HF.value
        assert info["classify_num"] == case.spec["num_labels"]
        assert info["timestamp_segment_time"] == case.spec["timestamp_segment_time"]
        head = ours(case).thinker.model.lm_head
        assert ("bias" in head) is case.spec["bias"]


def test_words_and_times_identical(hf_reference: HfReference) -> None:
    classes_seen: set[int] = set()
    varied = repaired = 0
    for case in hf_reference.aligner_cases:
        reference = case.reference
        raw = ours(case).timestamp_classes(case.samples, case.text, case.language)
        label = f"aligner seed {case.spec['seed']}"
        assert list(raw.prompt_ids) == reference["input_ids"].tolist(), label
        assert list(raw.classes) == reference["classes"].tolist(), label
        words = ours(case).timed_words(raw)
        expected = zip(
            reference["words"].tolist(),
            reference["start_times"].tolist(),
            reference["end_times"].tolist(),
            strict=True,
        )
        assert [(w.text, w.start, w.end) for w in words] == list(expected), label
        classes_seen.update(raw.classes)
        varied += len(set(raw.classes)) > 1
        repaired += list(raw.classes) != sorted(raw.classes)
    # The comparison means something only if the argmaxes vary and the repair has work to do.
    assert varied == len(hf_reference.aligner_cases)
    print(f"{len(classes_seen)} classes, {varied} varied, {repaired} repaired")
    assert len(classes_seen) >= 15 and repaired >= 3


def test_short_clips_follow_transformers(hf_reference: HfReference) -> None:
    """A clip under 0.5 s is padded to 0.5 s and its mel to a whole chunk, as transformers does
    (docs/adr/0010): 50 mel frames give 7 audio tokens."""
    short = [case for case in hf_reference.aligner_cases if case.samples.size < 8000]
    assert short
    for case in short:
        ids = case.reference["input_ids"]
        n_audio = int(np.sum(ids == ours(case).thinker.config.audio_token_id))
        assert n_audio == 7
        raw = ours(case).timestamp_classes(case.samples, case.text, case.language)
        assert list(raw.prompt_ids) == ids.tolist()
