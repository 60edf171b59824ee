"""`qasr convert`'s output folder: made whole in one rename, with the umask, and replaced by
`--force` only when everything in it is what qasr wrote there."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qasr.adapters.mlx.checkpoint.output_folder import (
    MARKER,
    check_output_folder,
    foreign_entries,
    publish,
    staging_folder,
)
from qasr.errors import InvalidInputError

CHECKPOINT = ("config.json", "model.safetensors", "vocab.json")


def write_copy(output: Path, names: tuple[str, ...] = CHECKPOINT, *, force: bool = False) -> Path:
    """What `convert_checkpoint` does around its writing, with small files for the weights."""
    check_output_folder(output, force=force)
    with staging_folder(output) as staging:
        for name in names:
            (staging / name).write_text(name)
        publish(staging, output)
    return output


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_copy_lists_what_qasr_wrote_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    out = write_copy(tmp_path / "out")
    marker = json.loads((out / MARKER).read_text())
    assert marker["files"] == sorted(CHECKPOINT)
    assert sorted(os.listdir(out)) == sorted([*CHECKPOINT, MARKER])
    assert os.listdir(tmp_path) == ["out"], "no staging folder left"
    assert foreign_entries(out) == set()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_folders_and_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        out = write_copy(tmp_path / "out")
    finally:
        os.umask(previous)
    assert mode(out) == 0o777 & ~umask
    assert {mode(path) for path in out.iterdir()} == {0o666 & ~umask}


def test_force_replaces_a_copy_qasr_wrote_and_keeps_its_mode(tmp_path: Path) -> None:
    out = write_copy(tmp_path / "out", ("config.json", "old-shard.safetensors"))
    out.chmod(0o750)
    with pytest.raises(InvalidInputError, match="--force"):
        write_copy(out)
    write_copy(out, force=True)
    assert sorted(os.listdir(out)) == sorted([*CHECKPOINT, MARKER])
    assert mode(out) == 0o750
    assert os.listdir(tmp_path) == ["out"], "the replaced folder is gone"


@pytest.mark.parametrize("extra", ["notes.txt", "sub/", ".hidden"])
def test_force_refuses_a_copy_that_also_holds_the_users_files(tmp_path: Path, extra: str) -> None:
    out = write_copy(tmp_path / "out")
    target = out / extra.rstrip("/")
    target.mkdir() if extra.endswith("/") else target.write_text("mine")
    with pytest.raises(InvalidInputError, match=f"also holds '{extra.rstrip('/')}'"):
        write_copy(out, force=True)
    assert target.exists() and sorted(os.listdir(out)) == sorted([*CHECKPOINT, MARKER, target.name])


def test_force_refuses_a_folder_qasr_never_wrote(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for name in ("config.json", "notes.txt", "a", "b", "c"):
        (work / name).write_text("mine")
    with pytest.raises(InvalidInputError, match=r"only a folder that qasr wrote.*and 1 more"):
        write_copy(work, force=True)
    assert len(os.listdir(work)) == 5


@pytest.mark.parametrize("marker", ["not json", '{"files": 3}', '["config.json"]', "{}"])
def test_a_marker_that_is_not_qasrs_protects_everything(tmp_path: Path, marker: str) -> None:
    out = write_copy(tmp_path / "out")
    (out / MARKER).write_text(marker)
    assert foreign_entries(out) == set(CHECKPOINT)


def test_an_output_under_a_file_or_equal_to_the_source_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(InvalidInputError, match="is a file"):
        check_output_folder(tmp_path / "taken", force=True)
    with pytest.raises(InvalidInputError, match=r"'.*taken' is a file"):
        check_output_folder(tmp_path / "taken" / "out", force=True)
    source = write_copy(tmp_path / "source")
    with pytest.raises(InvalidInputError, match="source folder"):
        check_output_folder(tmp_path / "source", force=True, source=source)


def test_an_output_that_links_to_nothing_is_refused_before_any_work(tmp_path: Path) -> None:
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "missing")
    with pytest.raises(InvalidInputError, match="link to nothing"):
        check_output_folder(link, force=True)


def test_a_failed_copy_leaves_no_staging_folder(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), staging_folder(tmp_path / "out") as staging:
        (staging / "config.json").write_text("{}")
        raise RuntimeError("disk on fire")
    assert os.listdir(tmp_path) == []


@settings(max_examples=30, deadline=None)
@given(
    written=st.sets(st.sampled_from(["config.json", "model.safetensors", "a.txt"]), min_size=1),
    extra=st.sets(st.sampled_from(["notes.txt", "model.safetensors", "sub", "a.txt"])),
)
def test_force_is_refused_exactly_when_something_qasr_did_not_write_is_there(
    written: set[str], extra: set[str]
) -> None:
    with tempfile.TemporaryDirectory() as root:
        out = write_copy(Path(root) / "out", tuple(sorted(written)))
        for name in extra - written:
            (out / name).write_text("mine")
        if extra - written:
            with pytest.raises(InvalidInputError, match="also holds"):
                check_output_folder(out, force=True)
        else:
            check_output_folder(out, force=True)
