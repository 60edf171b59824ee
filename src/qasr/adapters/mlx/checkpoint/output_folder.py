"""Where `qasr convert` writes: a folder made whole in one rename, replaced only if qasr made it.

A finished folder carries MARKER, a JSON list of the names qasr put there. `--force` replaces a
folder only when every entry in it is one of those names (or the marker itself): a folder that
also holds a user's notes, or one qasr never wrote, is refused, so `--output .` cannot delete a
working directory. The marker has no side-file suffix, so copies of a checkpoint never carry it
along (`files.copy_side_files`). Folders are made with the user's umask (0755 by default) and a
replaced folder keeps its mode; `tempfile.mkdtemp` would make every one 0700.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qasr.errors import InvalidInputError

MARKER = ".qasr-written"
_LISTED = 4  # foreign names quoted in a refusal; the rest are counted


def check_output_folder(
    output: Path, *, force: bool, source: str | os.PathLike[str] | None = None
) -> None:
    """Fail before any work if `output` cannot receive the copy: a file, a path under a file,
    the local `source` folder itself, a non-empty folder without `force`, or (with `force`) a
    folder holding anything qasr did not write there."""
    if output.exists() and not output.is_dir():
        raise InvalidInputError(f"output {str(output)!r} is a file; pass a folder path")
    if output.is_symlink() and not output.exists():
        # The finished copy is renamed into place, which a link to nothing would not survive.
        raise InvalidInputError(f"output {str(output)!r} is a link to nothing; pass a folder path")
    parent = output.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InvalidInputError(
            f"cannot make the output folder {str(output)!r}: {str(parent)!r} is a file"
        )
    if source is not None and _same_folder(output, Path(source).expanduser()):
        raise InvalidInputError(f"output {str(output)!r} is the source folder; choose another")
    if not output.is_dir() or next(output.iterdir(), None) is None:
        return
    if not force:
        raise InvalidInputError(
            f"output folder {str(output)!r} is not empty; pass --force to replace it, or "
            "choose another folder"
        )
    foreign = sorted(foreign_entries(output))
    if foreign:
        shown = ", ".join(repr(name) for name in foreign[:_LISTED])
        more = f" and {len(foreign) - _LISTED} more" if len(foreign) > _LISTED else ""
        raise InvalidInputError(
            f"--force replaces only a folder that qasr wrote, and {str(output)!r} also holds "
            f"{shown}{more}; move those away or choose another folder"
        )


def _same_folder(first: Path, second: Path) -> bool:
    return first.is_dir() and second.is_dir() and first.resolve() == second.resolve()


def foreign_entries(folder: Path) -> set[str]:
    """The names in `folder` that its marker does not list: everything, when it has none."""
    present = {entry.name for entry in folder.iterdir()} - {MARKER}
    return present - _written_by_qasr(folder)


def _written_by_qasr(folder: Path) -> set[str]:
    try:
        listed = json.loads((folder / MARKER).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()  # no marker, or one that is not ours: nothing counts as qasr's
    if not isinstance(listed, list):
        return set()
    return {name for name in listed if isinstance(name, str)}


@contextmanager
def staging_folder(output: Path) -> Iterator[Path]:
    """A new folder next to `output` (same file system, so the final rename is atomic), made
    with the umask; removed on the way out unless `publish` moved it into place."""
    output.absolute().parent.mkdir(parents=True, exist_ok=True)
    while True:
        staging = output.absolute().with_name(f".{output.absolute().name}.{secrets.token_hex(4)}")
        try:
            staging.mkdir(0o777)  # the kernel applies the umask
            break
        except FileExistsError:
            continue
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when the copy was published


def publish(staging: Path, output: Path) -> None:
    """Mark `staging` as qasr's and move it into place; a replaced output (checked by
    `check_output_folder`) is moved aside, then deleted, and lends the new folder its mode."""
    names = sorted(entry.name for entry in staging.iterdir())
    marker = {"written_by": "qasr convert", "files": names}
    (staging / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
    output = output.absolute()
    aside = None
    if output.exists():
        os.chmod(staging, stat.S_IMODE(output.stat().st_mode))
        aside = output.with_name(f".{output.name}.replaced-{os.getpid()}")
        os.rename(output, aside)
    try:
        os.rename(staging, output)
    except OSError:
        if aside is not None:
            os.rename(aside, output)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


__all__ = ["MARKER", "check_output_folder", "foreign_entries", "publish", "staging_folder"]
