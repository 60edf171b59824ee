"""Find a model's files: a local folder, or a Hugging Face repo id through the local cache/hub.

Kept free of MLX so `qasr --doctor` and error paths stay cheap.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from qasr.errors import CheckpointError, ModelNotFoundError

# Everything a Qwen3-ASR / ForcedAligner checkpoint needs; nothing else is downloaded.
NEEDED_FILES = (
    "config.json",
    "generation_config.json",
    "*.safetensors",
    "model.safetensors.index.json",
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "tokenizer.json",
    "chat_template.json",
    "preprocessor_config.json",
    "qasr_quantization.json",
)


_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# Models shipped inside the package (src/qasr/models/NAME), loadable offline by name.
BUNDLED_MODELS = ("tiny-en",)


def bundled_model_folder(name: str) -> Path:
    """The folder of a model shipped with qasr (`--model tiny-en`)."""
    return Path(__file__).resolve().parents[3] / "models" / name


def resolve_model_folder(name_or_path: str | os.PathLike[str]) -> Path:
    """Return a local folder holding the checkpoint.

    A path that exists is used as is, then the name of a bundled model (BUNDLED_MODELS).
    Otherwise a `owner/name` repo id is looked up in the local Hugging Face cache first, then
    downloaded (only the files in NEEDED_FILES), honouring HF_HOME, HF_HUB_OFFLINE and HF_TOKEN.
    Failure is one `ModelNotFoundError` that says what to do.
    """
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if text in BUNDLED_MODELS:
        folder = bundled_model_folder(text)
        if not (folder / "config.json").is_file():
            raise ModelNotFoundError(
                f"the bundled model {text!r} is missing from this installation ({folder}); "
                "reinstall qasr"
            )
        return folder
    if path.exists():
        raise ModelNotFoundError(f"model path {text!r} is a file; pass the checkpoint folder")
    if not _REPO_ID.match(text):
        raise ModelNotFoundError(
            f"no model folder at {text!r}; pass an existing folder or a Hugging Face repo id "
            "such as Qwen/Qwen3-ASR-0.6B (or tiny-en, the bundled demo model)"
        )
    return _from_hub(text)


def _from_hub(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.constants import HF_HUB_CACHE, HF_HUB_OFFLINE
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return Path(
            snapshot_download(repo_id, allow_patterns=list(NEEDED_FILES), local_files_only=True)
        )
    except HFValidationError as error:
        raise ModelNotFoundError(
            f"{repo_id!r} is neither a folder nor a valid repo id: {error}"
        ) from None
    except (LocalEntryNotFoundError, FileNotFoundError, OSError):
        pass  # not cached: try the hub below
    how = (
        f"Download it where the hub is reachable (`huggingface-cli download {repo_id}`) and copy "
        f"the cache to {HF_HUB_CACHE}, or pass --model /path/to/a/local/folder."
    )
    if HF_HUB_OFFLINE:
        raise ModelNotFoundError(
            f"model {repo_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is "
            f"set. {how}"
        )
    try:
        return Path(snapshot_download(repo_id, allow_patterns=list(NEEDED_FILES)))
    except (GatedRepoError, RepositoryNotFoundError) as error:
        raise ModelNotFoundError(
            f"model {repo_id!r} is not available on the Hugging Face hub (unknown, private or "
            f"gated: log in with `huggingface-cli login` or set HF_TOKEN): {type(error).__name__}"
        ) from None
    except RevisionNotFoundError as error:
        raise ModelNotFoundError(f"model {repo_id!r}: {error}") from None
    except Exception as error:  # connection refused, DNS, timeouts: all mean "hub unreachable"
        raise ModelNotFoundError(
            f"model {repo_id!r} is not in the local Hugging Face cache and the hub cannot be "
            f"reached ({type(error).__name__}). {how}"
        ) from None


def read_json(folder: Path, name: str, *, required: bool = True) -> dict[str, Any]:
    path = folder / name
    if not path.is_file():
        if required:
            raise CheckpointError(
                f"{folder}: missing {name}; is this a Qwen3-ASR checkpoint folder?"
            )
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    return data


def safetensors_files(folder: Path) -> list[Path]:
    """The weight files, in the order of the index when there is one."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map = read_json(folder, index.name).get("weight_map", {})
        names = sorted(set(weight_map.values()))
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            raise CheckpointError(
                f"{folder}: the safetensors index names missing files: {missing[:3]}"
            )
        return [folder / n for n in names]
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise CheckpointError(f"{folder}: no *.safetensors weight files")
    return files
