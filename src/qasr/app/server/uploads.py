"""Reading an upload: the multipart form, the file saved under the data folder, the audio checked.

Everything a client can get wrong is found here, before the request waits for the model, and
answered as a 4xx; a file written for a request that fails is deleted before the answer.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from qasr.app.server.api_errors import ApiError
from qasr.app.server.guard import BodyTooLarge
from qasr.domain import AudioClip
from qasr.errors import QasrError
from qasr.ports import AudioSource

_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")
_COPY_BYTES = 1024 * 1024


async def read_form(request: Any) -> Any:
    """The request's multipart form, or ApiError 415 (not multipart) / 400 (malformed)."""
    kind = request.headers.get("content-type", "")
    if not kind.lower().startswith("multipart/form-data"):
        raise ApiError(
            415,
            f"expected a multipart/form-data upload with the audio in the 'file' field, got "
            f"Content-Type {kind or 'none'!r}",
            code="unsupported_media_type",
        )
    try:
        return await request.form(max_files=1, max_fields=64)
    except BodyTooLarge:
        raise
    except Exception as error:
        detail = getattr(error, "detail", None) or str(error) or type(error).__name__
        raise ApiError(400, f"malformed multipart body: {detail}", code="malformed_body") from None


def form_text(form: Any, name: str, default: str = "", limit: int = 10_000) -> str:
    value = form.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(400, f"the field {name!r} must be text, not a file", param=name)
    if len(value) > limit:
        raise ApiError(400, f"the field {name!r} is longer than {limit} characters", param=name)
    return value


def form_flag(form: Any, name: str) -> bool:
    value = form_text(form, name, "false").strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no", ""):
        raise ApiError(400, f"the field {name!r} must be true or false, got {value!r}", param=name)
    return value in ("true", "1", "yes")


async def save_upload(form: Any, folder: Path, stem: str | None = None) -> tuple[Path, str]:
    """Write the form's `file` to `folder/<stem><suffix>`; return (path, the client's name)."""
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not hasattr(upload, "read"):
        raise ApiError(
            400, "missing the 'file' field: send the audio as a file part named 'file'",
            param="file", code="missing_file",
        )  # fmt: skip
    filename = Path(upload.filename or "audio").name or "audio"
    suffix = Path(filename).suffix
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem or secrets.token_hex(16)}{suffix if _SUFFIX.fullmatch(suffix) else ''}"
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := await upload.read(_COPY_BYTES):
                out.write(chunk)
                size += len(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise ApiError(
            400, f"the uploaded file {filename!r} is empty", param="file", code="empty_file"
        )
    return path, filename


def load_clip(
    audio_source: AudioSource, path: Path, filename: str, max_seconds: float
) -> AudioClip:
    """The upload's audio, or ApiError 400 (unreadable, no samples) / 413 (too long)."""
    try:
        clip = audio_source.load(path)
    except QasrError as error:
        # The message names the server's file; the client knows its own name for it.
        reason = str(error).replace(str(path), filename)
        raise ApiError(
            400, f"cannot read the audio in {filename!r}: {reason}", param="file",
            code="invalid_audio",
        ) from None  # fmt: skip
    if clip.num_samples == 0:
        raise ApiError(
            400, f"{filename!r} holds no audio samples", param="file", code="invalid_audio"
        )
    if clip.duration > max_seconds:
        raise ApiError(
            413, f"{filename!r} is {clip.duration:.0f} s long; this server accepts at most "
            f"{max_seconds:g} s per request", param="file", code="audio_too_long",
        )  # fmt: skip
    return clip
