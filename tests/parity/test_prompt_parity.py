"""Prompt building and output parsing equal the official qwen_asr functions.

The reference builds its prompt with the checkpoint's chat template. The hub is unreachable, so
the template here is the ASR template of Hugging Face's official converter
(transformers `models/qwen3_asr/convert_qwen3_asr_to_hf.py`, `ASR_CHAT_TEMPLATE`, the fallback
it writes when a Qwen3-ASR checkpoint has no chat_template.json); its rendering agrees with the
prompt the official vLLM backend spells out, except that vLLM leaves out the system turn.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.text.prompt import build_prompt, fix_repetitions, parse_asr_output

pytestmark = pytest.mark.parity

ASR_CHAT_TEMPLATE = (
    "{%- set ns = namespace(system_text='') -%}"
    "{%- for m in messages -%}"
    "{%- if m.role == 'system' -%}"
    "{%- if m.content is string -%}"
    "{%- set ns.system_text = ns.system_text + m.content -%}"
    "{%- else -%}"
    "{%- for c in m.content -%}"
    "{%- if c.type == 'text' and (c.text is defined) -%}"
    "{%- set ns.system_text = ns.system_text + c.text -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- set ns2 = namespace(audio_tokens='') -%}"
    "{%- for m in messages -%}"
    "{%- if m.content is not string -%}"
    "{%- for c in m.content -%}"
    "{%- if c.type == 'audio' or ('audio' in c) or ('audio_url' in c) -%}"
    "{%- set ns2.audio_tokens = ns2.audio_tokens + '<|audio_start|><|audio_pad|><|audio_end|>' -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{{- '<|im_start|>system\n' + ns.system_text + '<|im_end|>\n' -}}"
    "{{- '<|im_start|>user\n' + ns2.audio_tokens + '<|im_end|>\n' -}}"
    "{%- for m in messages -%}"
    "{%- if m.role == 'assistant' -%}"
    "{%- set ns3 = namespace(assistant_text='') -%}"
    "{%- if m.content is string -%}"
    "{%- set ns3.assistant_text = m.content -%}"
    "{%- else -%}"
    "{%- for c in m.content -%}"
    "{%- if c.type == 'text' and (c.text is defined) -%}"
    "{%- set ns3.assistant_text = ns3.assistant_text + c.text -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{{- '<|im_start|>assistant\n' -}}"
    "{% generation %}"
    "{{- ns3.assistant_text + '<|im_end|>\n' -}}"
    "{% endgeneration %}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|im_start|>assistant\n' -}}"
    "{%- endif -%}"
)

SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|audio_start|>",
    "<|audio_end|>",
    "<|audio_pad|>",
    "<asr_text>",
]


@pytest.fixture(scope="module")
def official_asr() -> Any:
    """The official Qwen3ASRModel around a processor with the real template (no model: only
    its prompt method is used). The tokenizer is a stand-in: rendering does not tokenize."""
    pytest.importorskip("torch")
    pytest.importorskip("qwen_asr")
    from qwen_asr.core.transformers_backend.processing_qwen3_asr import Qwen3ASRProcessor
    from qwen_asr.inference.qwen3_asr import Qwen3ASRModel
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import Qwen2TokenizerFast, WhisperFeatureExtractor

    backend = Tokenizer(
        models.WordLevel({t: i for i, t in enumerate([*SPECIALS, "[UNK]"])}, "[UNK]")
    )
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = Qwen2TokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIALS,
        extra_special_tokens={
            "audio_token": "<|audio_pad|>",
            "audio_bos_token": "<|audio_start|>",
            "audio_eos_token": "<|audio_end|>",
        },
    )
    processor = Qwen3ASRProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128),
        tokenizer=tokenizer,
        chat_template=ASR_CHAT_TEMPLATE,
    )
    return Qwen3ASRModel(backend="vllm", model=None, processor=processor)


def official_prompt(official_asr: Any, context: str, language: str | None, n_audio: int) -> str:
    """`_build_text_prompt`, then the processor's expansion of `<|audio_pad|>` to n tokens."""
    text = official_asr._build_text_prompt(context=context, force_language=language)
    return official_asr.processor.replace_multimodal_special_tokens([text], iter([n_audio]))[0]


@pytest.mark.parametrize("language", [None, "English", "Chinese", "Cantonese", "Macedonian"])
@pytest.mark.parametrize("context", ["", "Glossary: MLX, Qwen3-ASR.", "two\nlines {{ x }} "])
def test_prompt_equals_official(official_asr: Any, context: str, language: str | None) -> None:
    for n_audio in (1, 13):
        ours = build_prompt(context, language, n_audio_tokens=n_audio)
        assert ours == official_prompt(official_asr, context, language, n_audio)


@settings(max_examples=40, deadline=None)
@given(context=st.text(max_size=40), n_audio=st.integers(1, 30))
def test_prompt_equals_official_for_any_context(
    official_asr: Any, context: str, n_audio: int
) -> None:
    assert build_prompt(context, n_audio_tokens=n_audio) == official_prompt(
        official_asr, context, None, n_audio
    )


def _repeated(unit: str, count: int) -> str:
    return unit * count


repeats = st.builds(
    _repeated, st.text(alphabet="ab中 .", min_size=1, max_size=4), st.integers(0, 45)
)
pieces = st.one_of(
    st.text(max_size=8),
    repeats,
    st.sampled_from(
        [
            "language English",
            "language None",
            "LANGUAGE cHINese",
            "language ",
            "language  fRENCH  ",
            "\n",
            " ",
            "<asr_text>",
            "<asr_text>",
        ]
    ),
)
raw_outputs = st.lists(pieces, max_size=7).map("".join)


@settings(max_examples=150, deadline=None)
@given(raw=raw_outputs, user_language=st.sampled_from([None, "", "English", "Chinese"]))
@example(raw="0\nlanguage English<asr_text>", user_language=None)  # a line before the language
def test_parse_asr_output_equals_official(raw: str, user_language: str | None) -> None:
    pytest.importorskip("qwen_asr")
    from qwen_asr.inference.utils import parse_asr_output as official

    assert parse_asr_output(raw, user_language) == official(raw, user_language)


@settings(max_examples=150, deadline=None)
@given(
    text=st.lists(st.one_of(repeats, st.text(max_size=6)), max_size=6).map("".join),
    threshold=st.integers(1, 22),
)
def test_fix_repetitions_equals_official(text: str, threshold: int) -> None:
    pytest.importorskip("qwen_asr")
    from qwen_asr.inference.utils import detect_and_fix_repetitions

    assert fix_repetitions(text, threshold) == detect_and_fix_repetitions(text, threshold)
