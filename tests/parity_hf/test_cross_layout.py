"""The same weights in both layouts (layout_convert) give the same qasr output, and each
layout's own reference reads the converted folder: qwen-asr the original one."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import numpy as np
import pytest
from tests.parity_hf.hf_cases import NEW_TOKENS, AlignerCase, HfReference, rel_err

from qasr.adapters.mlx.aligner import MlxAligner
from qasr.adapters.mlx.backend import mx
from qasr.adapters.mlx.checkpoint.config import read_checkpoint_config
from qasr.adapters.mlx.checkpoint.files import safetensors_files
from qasr.adapters.mlx.checkpoint.layout_convert import convert_layout
from qasr.adapters.mlx.checkpoint.weights import Layout
from qasr.adapters.mlx.recognizer import MlxRecognizer
from qasr.adapters.mlx.text.prompt import build_prompt
from qasr.errors import CheckpointError

pytestmark = pytest.mark.parity
CHECKPOINTS = (0, 1)  # one tied (no lm_head stored), one untied


def tensors(folder: Path) -> dict[str, np.ndarray]:
    return {
        name: np.array(value)
        for path in safetensors_files(folder)
        for name, value in mx.load(str(path)).items()
    }


@pytest.fixture(scope="module")
def converted(hf_reference: HfReference, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("converted")
    folders = {}
    for index in CHECKPOINTS:
        source = hf_reference.folders[index]
        original = convert_layout(source, work / f"original{index}", "original")
        back = convert_layout(original, work / f"hf{index}", Layout.HF)
        folders[index] = (source, original, back)
    return folders


def test_both_layouts_decode_identical_tokens(hf_reference: HfReference, converted: dict) -> None:
    for index in CHECKPOINTS:
        case = hf_reference.cases[index]
        options = attrs.evolve(case.options, max_new_tokens=NEW_TOKENS)
        decoded = []
        for folder in converted[index]:
            recognizer = MlxRecognizer.from_pretrained(folder, dtype="float32")
            decoded.append(recognizer.decode(case.samples, options))
        layouts = [read_checkpoint_config(folder).layout for folder in converted[index]]
        assert layouts == [Layout.HF, Layout.ORIGINAL, Layout.HF]
        assert len({(d.prompt_ids, d.tokens) for d in decoded}) == 1
        assert list(decoded[0].tokens) == case.reference["tokens"].tolist()


def test_round_trip_keeps_every_tensor_and_field(converted: dict) -> None:
    for source, original, back in converted.values():
        before, after = tensors(source), tensors(back)
        assert sorted(before) == sorted(after)
        assert all(np.array_equal(before[name], after[name]) for name in before)
        assert all(name.startswith("thinker.") for name in tensors(original))
        first = json.loads((source / "config.json").read_text())
        second = json.loads((back / "config.json").read_text())
        assert second["tie_word_embeddings"] == first["tie_word_embeddings"]
        for part in ("audio_config", "text_config"):
            # transformers saves text_config.tie_word_embeddings false beside a root true; only
            # the root one ties, and it was compared above.
            kept = {k: v for k, v in second[part].items() if k != "tie_word_embeddings"}
            assert len(kept) >= 12
            assert kept == {key: first[part][key] for key in kept}


def test_qwen_asr_reads_the_converted_original_folder(
    hf_reference: HfReference, converted: dict
) -> None:
    """Both references agree on the same weights once qasr wrote them in each one's layout."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from qwen_asr.core.transformers_backend import Qwen3ASRForConditionalGeneration
    from qwen_asr.core.transformers_backend.processing_qwen3_asr import Qwen3ASRProcessor
    from transformers import Qwen2TokenizerFast, WhisperFeatureExtractor

    for index in CHECKPOINTS[1:]:  # one is enough here; the import dominates the cost
        case = hf_reference.cases[index]
        folder = converted[index][1]
        model = Qwen3ASRForConditionalGeneration.from_pretrained(str(folder)).float().eval()
        tokenizer = Qwen2TokenizerFast.from_pretrained(str(folder))
        tokenizer.audio_token = "<|audio_pad|>"
        tokenizer.audio_bos_token = "<|audio_start|>"
        tokenizer.audio_eos_token = "<|audio_end|>"
        processor = Qwen3ASRProcessor(
            feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer
        )
        prompt = build_prompt(case.options.context, case.options.language, n_audio_tokens=1)
        inputs = processor(text=[prompt], audio=[case.samples], return_tensors="pt", padding=True)
        with torch.no_grad():
            logits = model.thinker(**inputs.to(torch.float32)).logits[0].numpy()
        rows = logits[case.reference["logit_positions"]]
        assert rel_err(rows, case.reference["logit_rows"]) < 1e-4, f"checkpoint {index}"


@pytest.fixture(scope="module")
def converted_aligners(
    hf_reference: HfReference, tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[AlignerCase, Path, Path]]:
    """(case, original folder, folder converted back to -hf) for each aligner without bias."""
    work = tmp_path_factory.mktemp("converted_aligners")
    folders = []
    for index, case in enumerate(hf_reference.aligner_cases):
        if not case.spec["bias"]:
            original = convert_layout(case.folder, work / f"original{index}", Layout.ORIGINAL)
            back = convert_layout(original, work / f"hf{index}", Layout.HF)
            folders.append((case, original, back))
    return folders


def aligned(aligner: MlxAligner, case: AlignerCase) -> list[tuple[str, float, float]]:
    words = aligner.align_words(case.samples, case.text, case.language)
    return [(word.text, word.start, word.end) for word in words]


def expected_words(case: AlignerCase) -> list[tuple[str, float, float]]:
    reference = case.reference
    return list(
        zip(
            reference["words"].tolist(),
            reference["start_times"].tolist(),
            reference["end_times"].tolist(),
            strict=True,
        )
    )


def test_aligners_convert_both_ways(converted_aligners: list) -> None:
    assert len(converted_aligners) >= 3
    for case, original, back in converted_aligners:
        hf_config = read_checkpoint_config(case.folder)
        for folder, layout in ((original, Layout.ORIGINAL), (back, Layout.HF)):
            config = read_checkpoint_config(folder)
            assert config.layout is layout and config.is_aligner
            assert config.classify_num == hf_config.classify_num
            assert config.timestamp_token_id == hf_config.timestamp_token_id
            assert config.timestamp_segment_time == case.spec["timestamp_segment_time"]
        before, after = tensors(case.folder), tensors(back)
        assert sorted(before) == sorted(after) and "score.weight" in after
        assert all(np.array_equal(before[name], after[name]) for name in before)
        assert "thinker.lm_head.weight" in tensors(original)
        # The original layout follows qwen-asr on short clips (docs/adr/0010), so only clips
        # of a second or more give transformers' times there too.
        folders = (case.folder, original, back) if case.samples.size >= 16_000 else (back,)
        for folder in folders:
            assert aligned(MlxAligner.from_pretrained(folder), case) == expected_words(case)


def test_aligner_head_bias_has_no_original_layout(
    hf_reference: HfReference, tmp_path: Path
) -> None:
    case = next(case for case in hf_reference.aligner_cases if case.spec["bias"])
    with pytest.raises(CheckpointError, match="token_classification_bias"):
        convert_layout(case.folder, tmp_path / "original", Layout.ORIGINAL)
    assert not (tmp_path / "original" / "config.json").exists()


def test_qwen_asr_aligns_the_converted_original_aligner(converted_aligners: list) -> None:
    """qwen-asr's own Qwen3ForcedAligner on the converted folder gives transformers' times."""
    pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from qwen_asr.core.transformers_backend import Qwen3ASRForConditionalGeneration
    from qwen_asr.core.transformers_backend.processing_qwen3_asr import Qwen3ASRProcessor
    from qwen_asr.inference.qwen3_forced_aligner import (
        Qwen3ForceAlignProcessor,
        Qwen3ForcedAligner,
    )
    from transformers import Qwen2TokenizerFast, WhisperFeatureExtractor

    # One 1 s+ clip within one 8 s attention window, where the two references agree.
    case, original, _ = next(
        item
        for item in converted_aligners
        if item[0].samples.size >= 16_000 and item[0].spec["timestamp_segment_time"] != 80.0
    )
    model = Qwen3ASRForConditionalGeneration.from_pretrained(str(original)).float().eval()
    tokenizer = Qwen2TokenizerFast.from_pretrained(str(original))
    tokenizer.audio_token = "<|audio_pad|>"
    tokenizer.audio_bos_token = "<|audio_start|>"
    tokenizer.audio_eos_token = "<|audio_end|>"
    processor = Qwen3ASRProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer
    )
    official = Qwen3ForcedAligner(model, processor, Qwen3ForceAlignProcessor())
    [result] = official.align(audio=(case.samples, 16_000), text=case.text, language=case.language)
    words = [(item.text, item.start_time, item.end_time) for item in result]
    assert words == expected_words(case)
