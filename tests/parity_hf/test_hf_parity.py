"""qasr on `-hf` checkpoint folders against transformers 5.23.0's own Qwen3-ASR.

The reference side is `Qwen3ASRProcessor` (Qwen3ASRFeatureExtractor + tokenizer, audio-pad
expansion) and `Qwen3ASRForConditionalGeneration` on the very folders qasr loads with
`MlxRecognizer.from_pretrained` (see conftest.py).
"""

from __future__ import annotations

from functools import cache

import attrs
import numpy as np
import pytest
from tests.parity_hf.hf_cases import N_CHECKPOINTS, NEW_TOKENS, HfCase, HfReference, rel_err

from qasr.adapters.mlx.model.mel import log_mel_spectrogram
from qasr.adapters.mlx.recognizer import MlxRecognizer

pytestmark = pytest.mark.parity
CHUNK_FRAMES = 100  # 2 * n_window: the feature extractor pads the mel to whole chunks
HF_MIN_SAMPLES = 8000  # Qwen3ASRFeatureExtractor.min_length: 0.5 s


@cache
def recognizer(folder: str) -> MlxRecognizer:
    return MlxRecognizer.from_pretrained(folder, dtype="float32")


def ours(reference: HfReference, case: HfCase) -> MlxRecognizer:
    return recognizer(str(reference.folders[case.checkpoint]))


def test_folders_load_as_hf_layout(hf_reference: HfReference) -> None:
    for case in hf_reference.cases:
        info = ours(hf_reference, case).model_info()
        assert info["layout"] == "hf"
        # Tied checkpoints store no lm_head; untied ones must use theirs.
        tied = case.checkpoint % 2 == 0
        assert ours(hf_reference, case).thinker.model.has_lm_head is not tied


def test_mel_matches_feature_extractor(hf_reference: HfReference) -> None:
    for case in hf_reference.cases:
        features = case.reference["input_features"]
        frames = int(case.reference["input_features_mask"].sum())
        mel = np.array(log_mel_spectrogram(case.samples))
        assert mel.shape == (128, frames)
        assert features.shape[1] % CHUNK_FRAMES == 0
        assert np.all(features[:, frames:] == 0)
        # log10 of float32 powers: a few 1e-6 of absolute difference on values near 1.
        assert np.max(np.abs(mel - features[:, :frames])) < 1e-4


def test_encoder_output_matches(hf_reference: HfReference) -> None:
    for case in hf_reference.cases:
        encoder = ours(hf_reference, case).thinker.model.audio_tower
        output = np.array(encoder(log_mel_spectrogram(case.samples)))
        assert output.shape == case.reference["encoder"].shape
        assert rel_err(output, case.reference["encoder"]) < 1e-5, f"checkpoint {case.checkpoint}"


def test_windowed_attention_is_what_hf_runs(hf_reference: HfReference) -> None:
    """HF always attends within n_window_infer windows (cu_seqlens), unlike qwen-asr's eager and
    sdpa paths: with 2 s windows, whole-clip attention must disagree and windows must agree."""
    case = next(c for c in hf_reference.cases if c.checkpoint % 4 == 3)
    encoder = ours(hf_reference, case).thinker.model.audio_tower
    mel = log_mel_spectrogram(case.samples)
    assert mel.shape[1] > 2 * encoder.config.n_window_infer  # three windows at least
    windowed = np.array(encoder(mel))
    encoder.windowed_attention = False
    try:
        whole_clip = np.array(encoder(mel))
    finally:
        encoder.windowed_attention = True
    assert rel_err(windowed, case.reference["encoder"]) < 1e-5
    assert rel_err(whole_clip, case.reference["encoder"]) > 1e-3


def test_prompt_ids_and_prefill_logits_match(hf_reference: HfReference) -> None:
    for case in hf_reference.cases:
        recognizer_ = ours(hf_reference, case)
        decoded = recognizer_.decode(case.samples, attrs.evolve(case.options, max_new_tokens=1))
        assert list(decoded.prompt_ids) == case.reference["input_ids"].tolist()
        logits = np.array(recognizer_.prompt_logits(case.samples, case.options))
        rows = logits[case.reference["logit_positions"]]
        assert rel_err(rows, case.reference["logit_rows"]) < 1e-4, f"checkpoint {case.checkpoint}"


def test_greedy_tokens_identical(hf_reference: HfReference) -> None:
    outputs = set()
    for case in hf_reference.cases:
        options = attrs.evolve(case.options, max_new_tokens=NEW_TOKENS)
        tokens = list(ours(hf_reference, case).decode(case.samples, options).tokens)
        assert tokens == case.reference["tokens"].tolist(), f"checkpoint {case.checkpoint}"
        outputs.add(tuple(tokens))
    # The comparison means something only if the random models say different things.
    # Tied random models often settle on one token after a few steps; untied ones wander.
    assert len(outputs) == N_CHECKPOINTS
    assert sum(len(set(tokens)) > 3 for tokens in outputs) >= N_CHECKPOINTS // 2


def test_clips_under_one_second_match(hf_reference: HfReference) -> None:
    """-hf checkpoints follow transformers on short clips (docs/adr/0010): the clip is padded to
    0.5 s and its mel to a whole chunk, so token counts, logits and tokens all agree."""
    for case in hf_reference.short_cases:
        recognizer_ = ours(hf_reference, case)
        options = attrs.evolve(case.options, max_new_tokens=NEW_TOKENS)
        decoded = recognizer_.decode(case.samples, options)
        assert list(decoded.prompt_ids) == case.reference["input_ids"].tolist()
        assert list(decoded.tokens) == case.reference["tokens"].tolist()
        logits = np.array(recognizer_.prompt_logits(case.samples, case.options))
        rows = logits[case.reference["logit_positions"]]
        assert rel_err(rows, case.reference["logit_rows"]) < 1e-4, f"{case.samples.size} samples"
        samples = np.pad(case.samples, (0, max(0, HF_MIN_SAMPLES - case.samples.size)))
        output = np.array(recognizer_.thinker.model.audio_tower(log_mel_spectrogram(samples)))
        assert rel_err(output, case.reference["encoder"]) < 1e-5


def test_each_short_clip_padding_matters(hf_reference: HfReference) -> None:
    """What ADR 0010 reports: qwen-asr's way (no whole-chunk mel padding) misses transformers'
    encoder output, and without the 0.5 s sample padding a 0.3 s clip has too few tokens."""
    for case in hf_reference.short_cases:
        encoder = ours(hf_reference, case).thinker.model.audio_tower
        assert encoder.whole_chunks
        samples = np.pad(case.samples, (0, max(0, HF_MIN_SAMPLES - case.samples.size)))
        frames = int(case.reference["input_features_mask"].sum())
        mel = log_mel_spectrogram(samples)
        # Sample padding alone reproduces the feature extractor's mel exactly.
        assert np.max(np.abs(np.array(mel) - case.reference["input_features"][:, :frames])) < 1e-4
        encoder.whole_chunks = False
        try:
            unpadded_chunk = np.array(encoder(mel))
        finally:
            encoder.whole_chunks = True
        assert rel_err(unpadded_chunk, case.reference["encoder"]) > 1e-3
        unpadded_clip = encoder(log_mel_spectrogram(case.samples))
        if case.samples.size < HF_MIN_SAMPLES:
            assert unpadded_clip.shape[0] < case.reference["encoder"].shape[0]
