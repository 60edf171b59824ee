"""transformers' own Qwen3-ASR (5.23.0) as the reference of the `-hf` layout, run out of process.

Run with `.venv-hf/bin/python tests/support/hf_reference.py REQUEST.json` (see
scripts/install-reference-hf.sh): transformers 5 cannot share qasr's environment, where qwen-asr
pins 4.57.6. Everything is computed in one call so the test pays torch's import once.

REQUEST.json:
    {"tokenizer": folder with vocab.json/merges.txt/tokenizer_config.json,
     "checkpoints": [{"folder", "seed", "audio", "text", "weight_scale", "vector_noise",
                      "tie_word_embeddings"}],   # built and saved with save_pretrained
     "cases": [{"checkpoint": index, "audio": "clip.npy", "prompt": text with one <|audio_pad|>,
                "max_new_tokens": n, "output": "case.npz"}],
     # optional: forced aligners (Qwen3ASRForTokenClassification) and what they align
     "aligner_tokenizer": the same files plus <timestamp>,
     "aligners": [{"folder", "seed", "audio", "text", "num_labels", "bias", "weight_scale",
                   "audio_scale", "vector_noise", "timestamp_segment_time"}],
     "aligner_cases": [{"aligner": index, "audio": "clip.npy", "text", "language",
                        "output": "case.npz"}]}

Each case's .npz holds what the processor and model give for that clip: `input_features` and
`input_features_mask` (the processor's mel, padded to whole 100-frame chunks), `input_ids`,
`encoder` (audio tower + projector: one row per audio token), `logit_rows` and `logit_positions`
(prefill logits at some prompt positions; all of them would be ~60 MB a case), and `tokens`
(greedy continuation up to the first EOS).

Each aligner case's .npz holds transformers' own alignment: `prepare_forced_aligner_inputs`, the
model's logits, `decode_forced_alignment`: `input_ids`, `words`, `classes` (argmax at each
`<timestamp>`), `start_times` and `end_times` (seconds). An aligner whose
`timestamp_segment_time` is not the processor's default gets the processor's own
processor_config.json in its folder.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import (
    Qwen2TokenizerFast,
    Qwen3ASRConfig,
    Qwen3ASRFeatureExtractor,
    Qwen3ASRForConditionalGeneration,
    Qwen3ASRForTokenClassification,
    Qwen3ASRProcessor,
)

EOS_IDS = (151643, 151645)
LOGIT_TAIL = 8  # last prompt positions whose logits are kept: the text after the audio
LOGIT_SPREAD = 8  # plus this many spread over the rest, audio positions included
DEFAULT_SEGMENT_TIME = 80.0  # Qwen3ASRProcessor's timestamp_segment_time default
# The forced aligner's prompt, as the -hf aligner repos' chat template renders it: the audio
# markers, then every word followed by two <timestamp> tokens (two alone for no words).
ALIGNER_CHAT_TEMPLATE = (
    "{%- set state = namespace(audio='', words=[]) -%}"
    "{%- for message in messages -%}{%- for item in message.content -%}"
    "{%- if item.type == 'audio' -%}"
    "{%- set state.audio = state.audio + '<|audio_start|><|audio_pad|><|audio_end|>' -%}"
    "{%- elif item.type == 'text' -%}{%- set state.words = state.words + [item.text] -%}"
    "{%- endif -%}"
    "{%- endfor -%}{%- endfor -%}"
    "{{- state.audio + state.words | join('<timestamp><timestamp>') + '<timestamp><timestamp>' -}}"
)


def randomize(model: Any, spec: dict[str, Any]) -> None:
    """The default init (std 0.02, zero biases, unit norms) makes every random model repeat one
    token (or class) and would hide a bias or norm that is not loaded: scale the matrices (the
    audio tower's by `audio_scale` when given) and add noise to the vectors."""
    generator = torch.Generator().manual_seed(spec["seed"] + 1)
    weight_scale = spec.get("weight_scale", 1.0)
    audio_scale = spec.get("audio_scale", weight_scale)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.ndim >= 2:
                param.mul_(audio_scale if ".audio_tower." in f".{name}" else weight_scale)
            else:
                param.add_(
                    spec.get("vector_noise", 0.0) * torch.randn(param.shape, generator=generator)
                )


def build_checkpoint(spec: dict[str, Any]) -> Any:
    torch.manual_seed(spec["seed"])
    config = Qwen3ASRConfig(
        audio_config=spec["audio"],
        text_config=spec["text"],
        tie_word_embeddings=spec.get("tie_word_embeddings", True),
    )
    model = Qwen3ASRForConditionalGeneration(config).float().eval()
    randomize(model, spec)
    model.save_pretrained(spec["folder"])
    return model


def build_aligner(spec: dict[str, Any], tokenizer_folder: str) -> tuple[Any, Any]:
    """A random Qwen3ASRForTokenClassification saved to spec["folder"], and its processor."""
    torch.manual_seed(spec["seed"])
    config = Qwen3ASRConfig(
        audio_config=spec["audio"],
        text_config=spec["text"],
        num_labels=spec["num_labels"],
        token_classification_bias=spec["bias"],
    )
    model = Qwen3ASRForTokenClassification(config).float().eval()
    randomize(model, spec)
    model.save_pretrained(spec["folder"])
    segment_time = spec.get("timestamp_segment_time", DEFAULT_SEGMENT_TIME)
    processor = build_processor(
        tokenizer_folder, chat_template=ALIGNER_CHAT_TEMPLATE, timestamp_segment_time=segment_time
    )
    if segment_time != DEFAULT_SEGMENT_TIME:
        # The processor's own file, as an -hf repo carries it; the tokenizer files stay the test's.
        with tempfile.TemporaryDirectory() as saved:
            processor.save_pretrained(saved)
            shutil.copy(Path(saved) / "processor_config.json", spec["folder"])
    return model, processor


def build_processor(tokenizer_folder: str, **options: Any) -> Any:
    tokenizer = Qwen2TokenizerFast.from_pretrained(tokenizer_folder)
    tokenizer.audio_token = "<|audio_pad|>"
    tokenizer.audio_bos_token = "<|audio_start|>"
    tokenizer.audio_eos_token = "<|audio_end|>"
    return Qwen3ASRProcessor(
        feature_extractor=Qwen3ASRFeatureExtractor(), tokenizer=tokenizer, **options
    )


def logit_positions(length: int) -> np.ndarray:
    spread = np.linspace(0, max(length - LOGIT_TAIL - 1, 0), LOGIT_SPREAD).astype(np.int64)
    tail = np.arange(max(length - LOGIT_TAIL, 0), length)
    return np.unique(np.concatenate([spread, tail]))


def greedy_tokens(model: Any, inputs: Any, max_new_tokens: int) -> list[int]:
    out = model.generate(
        **inputs, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=list(EOS_IDS)
    )
    generated = out[0, inputs["input_ids"].shape[1] :].tolist()
    ends = [index for index, token in enumerate(generated) if token in EOS_IDS]
    return generated[: ends[0]] if ends else generated


def run_case(model: Any, processor: Any, case: dict[str, Any]) -> None:
    samples = np.load(case["audio"]).astype(np.float32)
    inputs = processor(text=[case["prompt"]], audio=[samples], sampling_rate=16000)
    with torch.no_grad():
        features = model.get_audio_features(
            inputs["input_features"], inputs["input_features_mask"]
        ).pooler_output
        logits = model(**inputs).logits[0]
        tokens = greedy_tokens(model, inputs, case["max_new_tokens"])
    positions = logit_positions(logits.shape[0])
    np.savez(
        case["output"],
        input_features=inputs["input_features"][0].numpy(),
        input_features_mask=inputs["input_features_mask"][0].numpy(),
        input_ids=inputs["input_ids"][0].numpy(),
        encoder=features.numpy(),
        logit_rows=logits[positions].numpy(),
        logit_positions=positions,
        tokens=np.array(tokens, dtype=np.int64),
    )


def run_aligner_case(model: Any, processor: Any, case: dict[str, Any]) -> None:
    """transformers' documented forced-alignment path, end to end."""
    samples = np.load(case["audio"]).astype(np.float32)
    inputs, word_lists = processor.prepare_forced_aligner_inputs(
        audio=samples, transcript=case["text"], language=case["language"]
    )
    with torch.no_grad():
        logits = model(**inputs).logits
    [items] = processor.decode_forced_alignment(
        logits, inputs["input_ids"], word_lists, model.config.timestamp_token_id
    )
    input_ids = inputs["input_ids"][0]
    classes = logits[0].argmax(-1)[input_ids == model.config.timestamp_token_id]
    np.savez(
        case["output"],
        input_ids=input_ids.numpy(),
        words=np.array([item["text"] for item in items], dtype=str),
        classes=classes.numpy(),
        start_times=np.array([item["start_time"] for item in items], dtype=np.float64),
        end_times=np.array([item["end_time"] for item in items], dtype=np.float64),
    )


def main(request_path: str) -> None:
    torch.set_num_threads(1)  # the test machine's cores are shared; tiny models gain nothing
    request = json.loads(Path(request_path).read_text())
    models = [build_checkpoint(spec) for spec in request["checkpoints"]]
    processor = build_processor(request["tokenizer"])
    for case in request["cases"]:
        run_case(models[case["checkpoint"]], processor, case)
    aligners = [
        build_aligner(spec, request["aligner_tokenizer"]) for spec in request.get("aligners", [])
    ]
    for case in request.get("aligner_cases", []):
        run_aligner_case(*aligners[case["aligner"]], case)


if __name__ == "__main__":
    main(sys.argv[1])
