"""A trained model exported by qasr loads in the official qwen-asr classes with equal logits.

Base: a random official checkpoint (tests/support/official.py) with the real Qwen tokenizer.
After a few LoRA (decoder + encoder) or full fine-tuning steps in MLX, the export is loaded by
`Qwen3ASRForConditionalGeneration.from_pretrained` and by `MlxRecognizer.from_pretrained`; their
prefill logits must agree with each other and with the trained in-memory model:
rel_err = max|ours - official| / max|official| < 1e-4 in float32.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from tests.support.official import build_official_model, save_official_checkpoint  # noqa: E402
from tests.support.qwen_vocab import write_qwen_tokenizer_files  # noqa: E402
from tests.training.tiny import tone, write_manifest  # noqa: E402

from qasr.adapters.mlx.recognizer import MlxRecognizer  # noqa: E402
from qasr.adapters.mlx.text.prompt import build_prompt  # noqa: E402
from qasr.training.settings import TrainingConfig  # noqa: E402
from qasr.training.trainer import Trainer  # noqa: E402


@pytest.fixture(scope="module")
def base_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("official-base")
    save_official_checkpoint(build_official_model(seed=3, weight_scale=4.0), folder)
    return write_qwen_tokenizer_files(folder)


@pytest.fixture(scope="module")
def official_processor(base_folder: Path) -> Any:
    from qwen_asr.core.transformers_backend.processing_qwen3_asr import Qwen3ASRProcessor
    from transformers import Qwen2TokenizerFast, WhisperFeatureExtractor

    tokenizer = Qwen2TokenizerFast.from_pretrained(str(base_folder))
    tokenizer.audio_token = "<|audio_pad|>"
    tokenizer.audio_bos_token = "<|audio_start|>"
    tokenizer.audio_eos_token = "<|audio_end|>"
    return Qwen3ASRProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer
    )


def official_logits(folder: Path, processor: Any, samples: np.ndarray) -> np.ndarray:
    from qwen_asr.core.transformers_backend import Qwen3ASRForConditionalGeneration

    model = Qwen3ASRForConditionalGeneration.from_pretrained(str(folder), dtype=torch.float32)
    prompt = build_prompt(n_audio_tokens=1)
    inputs = processor(text=[prompt], audio=[samples], return_tensors="pt", padding=True)
    with torch.no_grad():
        return model.thinker(**inputs.to(torch.float32)).logits[0].numpy()


def rel_err(ours: np.ndarray, official: np.ndarray) -> float:
    return float(np.max(np.abs(ours - official)) / np.max(np.abs(official)))


@pytest.mark.parametrize("lora_rank", [0, 4])
def test_exported_checkpoint_loads_in_qwen_asr_with_equal_logits(
    base_folder: Path, official_processor: Any, tmp_path: Path, lora_rank: int
) -> None:
    rows = [
        {"seconds": 1.2, "hz": 300.0, "text": "The quick brown fox."},
        {"seconds": 1.0, "hz": 500.0, "text": "Hello there!"},
    ]
    manifest = write_manifest(tmp_path / "data", "train", rows)
    config = TrainingConfig(
        data=manifest,
        model=str(base_folder),
        output=tmp_path / "out",
        steps=2,
        batch_size=2,
        learning_rate=1e-2,
        warmup_steps=0,
        lora_rank=lora_rank,
        lora_encoder=True,
        save_every=0,
    )
    trainer = Trainer.from_config(config)
    folder = trainer.run()
    assert json.loads((folder / "config.json").read_text())["thinker_config"]

    clip = tone(1.5, 410.0, 7)
    theirs = official_logits(folder, official_processor, clip)
    exported = np.array(MlxRecognizer.from_pretrained(folder, dtype="float32").prompt_logits(clip))
    live = np.array(
        MlxRecognizer(trainer.thinker, trainer.tokenizer, source="live").prompt_logits(clip)
    )
    assert exported.shape == theirs.shape
    assert rel_err(exported, theirs) < 1e-4
    assert rel_err(live, theirs) < 1e-4
    # Training moved the model, so equal logits mean the trained weights were exported.
    assert rel_err(official_logits(base_folder, official_processor, clip), theirs) > 1e-3


def test_training_rows_use_the_real_tokenizer_as_inference_does(base_folder: Path) -> None:
    from qasr.adapters.mlx.text.tokenizer import Tokenizer
    from qasr.domain import find_language
    from qasr.training.batches import make_batch
    from qasr.training.manifest import Example

    tokenizer = Tokenizer.from_folder(base_folder)
    example = Example(audio=Path("x.wav"), text="Hello, world.", language=find_language("en"))
    clips = [tone(1.0, 300, 0)]
    batch = make_batch([example], clips, tokenizer, audio_token_id=151676, n_window=50)
    ids = np.array(batch.input_ids)[0]
    answer = ids[np.array(batch.loss_mask)[0]].tolist()
    assert tokenizer.decode(answer) == "language English<asr_text>Hello, world.<|im_end|>"
    prompt = tokenizer.decode(ids[: len(ids) - len(answer)].tolist())
    assert prompt == build_prompt(n_audio_tokens=13)
