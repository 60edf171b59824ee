"""Find a model's files: a local folder, or a Hugging Face repo id through the local cache/hub.

Kept free of MLX so `qasr --doctor` and error paths stay cheap.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
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
# The defaults of `--model` and `--forced-aligner` (hub ids).
DEFAULT_MODEL = "Qwen/Qwen3-ASR-0.6B"
DEFAULT_ALIGNER = "Qwen/Qwen3-ForcedAligner-0.6B"
# Models shipped inside the package (src/qasr/models/NAME), loadable offline by name.
BUNDLED_MODELS = ("tiny-en",)


def bundled_model_folder(name: str) -> Path:
    """The folder of a model shipped with qasr (`--model tiny-en`)."""
    return Path(__file__).resolve().parents[3] / "models" / name


def is_bundled(name: str) -> bool:
    """Whether this installation ships the model `name` (its folder holds a config.json)."""
    return (bundled_model_folder(name) / "config.json").is_file()


def resolve_model_folder(name_or_path: str | os.PathLike[str], *, flag: str = "--model") -> Path:
    """Return a local folder holding the checkpoint.

    A path that exists is used as is, then the name of a bundled model (BUNDLED_MODELS).
    Otherwise a `owner/name` repo id is looked up in the local Hugging Face cache first, then
    downloaded (only the files in NEEDED_FILES), honouring HF_HOME, HF_HUB_OFFLINE and HF_TOKEN.
    Failure is one `ModelNotFoundError` that says what to do; `flag` is the option its advice
    names for passing a local folder instead.
    """
    folder = locate_model_folder(name_or_path, flag=flag)
    return folder if folder is not None else _download(os.fspath(name_or_path), flag)


def locate_model_folder(
    name_or_path: str | os.PathLike[str], *, flag: str = "--model"
) -> Path | None:
    """`resolve_model_folder` without the network: the local folder, or None when the hub must
    be asked. Raises `ModelNotFoundError` for what no download can mend (a missing folder, a
    file, a malformed id) and for an uncached id when HF_HUB_OFFLINE forbids the download."""
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if text in BUNDLED_MODELS:
        folder = bundled_model_folder(text)
        if not is_bundled(text):
            raise ModelNotFoundError(
                f"the bundled model {text!r} is missing from this installation ({folder}); "
                f"pass a Hugging Face repo id such as {DEFAULT_MODEL} or a checkpoint folder"
            )
        return folder
    if path.exists():
        raise ModelNotFoundError(f"model path {text!r} is a file; pass the checkpoint folder")
    if not _REPO_ID.match(text):
        raise ModelNotFoundError(
            f"no model folder at {text!r}; pass an existing folder or a Hugging Face repo id "
            f"such as {_example(flag)}"
        )
    return _from_cache(text, flag)


def _example(flag: str) -> str:
    if flag == "--forced-aligner":
        return DEFAULT_ALIGNER
    # A bundled model is advertised only once it ships: a name that does not load is no help.
    shipped = [name for name in BUNDLED_MODELS if is_bundled(name)]
    return DEFAULT_MODEL + (f" (or {', '.join(shipped)}, bundled with qasr)" if shipped else "")


def hub_command() -> str:
    """The hub's command line tool as installed: `hf` (huggingface-hub 0.34 and later; 1.x no
    longer installs `huggingface-cli`), or `huggingface-cli` where only that one exists."""
    if shutil.which("hf") is None and shutil.which("huggingface-cli") is not None:
        return "huggingface-cli"
    return "hf"


def _how_to_get(repo_id: str, flag: str) -> str:
    from huggingface_hub.constants import HF_HUB_CACHE

    return (
        f"Download it where the hub is reachable (`{hub_command()} download {repo_id}`) and copy "
        f"the cache to {HF_HUB_CACHE}, or pass {flag} /path/to/a/local/folder."
    )


def _from_cache(repo_id: str, flag: str) -> Path | None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.constants import HF_HUB_OFFLINE
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(repo_id, allow_patterns=list(NEEDED_FILES), local_files_only=True)
        )
    except HFValidationError as error:
        raise ModelNotFoundError(
            f"{repo_id!r} is neither a folder nor a valid repo id: {error}"
        ) from None
    except (LocalEntryNotFoundError, FileNotFoundError, OSError):
        pass  # not cached
    if HF_HUB_OFFLINE:
        raise ModelNotFoundError(
            f"model {repo_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is "
            f"set. {_how_to_get(repo_id, flag)}"
        )
    return None


def _download(repo_id: str, flag: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return Path(snapshot_download(repo_id, allow_patterns=list(NEEDED_FILES)))
    except (GatedRepoError, RepositoryNotFoundError) as error:
        login = "hf auth login" if hub_command() == "hf" else "huggingface-cli login"
        raise ModelNotFoundError(
            f"model {repo_id!r} is not available on the Hugging Face hub (unknown, private or "
            f"gated: log in with `{login}` or set HF_TOKEN): {type(error).__name__}"
        ) from None
    except RevisionNotFoundError as error:
        raise ModelNotFoundError(f"model {repo_id!r}: {error}") from None
    except Exception as error:  # connection refused, DNS, timeouts: all mean "hub unreachable"
        raise ModelNotFoundError(
            f"model {repo_id!r} is not in the local Hugging Face cache and the hub cannot be "
            f"reached ({type(error).__name__}). {_how_to_get(repo_id, flag)}"
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


CONFIG_FILE = "config.json"
WEIGHT_INDEX = "model.safetensors.index.json"
# What a checkpoint folder carries besides config.json and the weights: tokenizer, generation and
# processor files, chat templates, the model card. Every copy of a checkpoint takes these along.
SIDE_FILE_SUFFIXES = frozenset({".json", ".txt", ".jinja", ".md", ".model", ".tiktoken"})


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def copy_side_files(source: Path, target: Path) -> None:
    """Copy the side files of the checkpoint `source` (not config.json, not weights) to `target`."""
    for path in sorted(source.iterdir()):
        if (
            path.is_file()
            and path.suffix in SIDE_FILE_SUFFIXES
            and path.name not in (CONFIG_FILE, WEIGHT_INDEX)
        ):
            shutil.copy2(path, target / path.name)
