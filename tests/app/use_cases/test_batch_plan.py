"""What `qasr batch` transcribes: inputs from files, folders, globs and manifests, output names."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.app.use_cases.batch_doubles import mixed_folder, write_tone_wav

from qasr.app.use_cases.batch import collect_items, output_paths
from qasr.domain import RecognitionOptions, find_language
from qasr.errors import InvalidInputError, ManifestError


def test_a_folder_gives_its_audio_files_recursively_with_their_layout(tmp_path: Path) -> None:
    goods, bads = mixed_folder(tmp_path / "in")
    write_tone_wav(tmp_path / "in" / ".hidden" / "skip.wav", 0.5)
    items = collect_items([str(tmp_path / "in")])
    assert {Path(item.source) for item in items} == set(goods + bads)  # no notes.txt, no .hidden
    assert {item.output for item in items} == {
        "talk0", "talk1", "talk2", "sub/deep", "empty", "corrupt",
    }  # fmt: skip
    assert [item.source for item in items] == sorted(item.source for item in items)
    deep = next(item for item in items if item.output == "sub/deep")
    assert output_paths(deep, tmp_path / "out", [".txt", ".json"]) == [
        tmp_path / "out" / "sub" / "deep.txt",
        tmp_path / "out" / "sub" / "deep.json",
    ]
    assert deep.input_bytes == Path(deep.source).stat().st_size > 0


def test_files_and_globs_are_named_by_stem_and_each_file_counts_once(tmp_path: Path) -> None:
    a = write_tone_wav(tmp_path / "a" / "one.wav", 0.5)
    b = write_tone_wav(tmp_path / "b" / "two.wav", 0.5)
    items = collect_items(
        [str(a), str(tmp_path / "*" / "*.wav"), str(tmp_path / "a" / ".." / "a" / "one.wav")]
    )
    assert [(item.source, item.output) for item in items] == [(str(a), "one"), (str(b), "two")]


def test_clashing_names_keep_their_extension_and_an_unresolvable_clash_is_refused(
    tmp_path: Path,
) -> None:
    write_tone_wav(tmp_path / "in" / "x.wav", 0.5)
    write_tone_wav(tmp_path / "in" / "X.flac", 0.5)
    write_tone_wav(tmp_path / "in" / "y.wav", 0.5)
    outputs = sorted(item.output for item in collect_items([str(tmp_path / "in")]))
    assert outputs == ["X.flac", "x.wav", "y"]
    first = write_tone_wav(tmp_path / "p" / "talk.wav", 0.5)
    second = write_tone_wav(tmp_path / "q" / "talk.wav", 0.5)
    with pytest.raises(InvalidInputError, match="same output files") as error:
        collect_items([str(first), str(second)])
    assert str(first) in str(error.value) and str(second) in str(error.value)


def test_every_missing_input_is_named_in_one_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a.txt").write_text("no audio")
    with pytest.raises(InvalidInputError) as error:
        collect_items([
            str(tmp_path / "gone.wav"),
            str(tmp_path / "empty"),
            str(tmp_path / "texts"),
            str(tmp_path / "*.mp3"),
        ])  # fmt: skip
    message = str(error.value)
    assert "no such file or folder" in message and "gone.wav" in message
    assert message.count("holds no audio files") == 2
    assert "matches no files" in message
    with pytest.raises(InvalidInputError, match="no inputs"):
        collect_items([])


def test_a_manifest_gives_per_file_language_context_and_output(tmp_path: Path) -> None:
    write_tone_wav(tmp_path / "clips" / "a.wav", 0.5)
    write_tone_wav(tmp_path / "clips" / "b.wav", 0.5)
    manifest = tmp_path / "jobs.jsonl"
    rows = [
        {"audio": "clips/a.wav", "language": "de", "context": "Qwen"},
        {"audio": str(tmp_path / "clips" / "b.wav"), "output": "named/bee"},
    ]
    manifest.write_text("\n".join(json.dumps(row) for row in rows) + "\n\n")
    defaults = RecognitionOptions(language="en", context="default", max_new_tokens=50)
    first, second = collect_items([str(manifest)], defaults)
    assert first.options == RecognitionOptions(language="German", context="Qwen", max_new_tokens=50)
    assert (first.output, second.output) == ("a", "named/bee")
    assert second.options == defaults
    assert second.options.language == find_language("English")


def test_a_manifest_names_every_bad_row_by_line(tmp_path: Path) -> None:
    write_tone_wav(tmp_path / "ok.wav", 0.5)
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text(
        "\n".join(
            [
                '{"audio": "ok.wav"}',
                "{not json",
                '["a list"]',
                '{"audio": "ok.wav", "speaker": 1}',
                '{"audio": "missing.wav"}',
                '{"audio": "ok.wav", "language": "Klingon"}',
                '{"audio": "ok.wav", "output": "../escape"}',
                '{"language": "en"}',
            ]
        )
    )
    with pytest.raises(ManifestError) as error:
        collect_items([str(manifest)])
    message = str(error.value)
    assert "7 bad row(s)" in message
    for number in (2, 3, 4, 5, 6):  # the first five are listed, then "..."
        assert f"line {number}:" in message
    assert "line 1:" not in message and "..." in message
    assert "not valid JSON" in message and "unknown key(s) 'speaker'" in message
    assert "missing.wav" in message and "Klingon" in message


def test_an_empty_manifest_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text("\n\n")
    with pytest.raises(ManifestError, match="has no rows"):
        collect_items([str(manifest)])


_NAMES = st.lists(
    st.tuples(
        st.sampled_from(["", "a", "A", "b/c"]),
        st.sampled_from(["x", "X", "y", "talk"]),
        st.sampled_from([".wav", ".mp3", ".flac"]),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda name: (name[0].lower(), name[1].lower(), name[2]),
)


@settings(max_examples=25, deadline=None)
@given(_NAMES)
def test_a_folder_of_any_names_gives_each_file_once_and_distinct_outputs(
    names: list[tuple[str, str, str]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        made = set()
        for sub, stem, suffix in names:
            path = root / sub / f"{stem}{suffix}"
            if not path.exists():  # "a/x" and "A/x" are one file on a case-insensitive disk
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"")
            made.add(str(path.resolve()))
        items = collect_items([folder])
        assert {item.key for item in items} == {str(Path(p).resolve()) for p in made}
        outputs = [item.output.casefold() for item in items]
        assert len(set(outputs)) == len(outputs)


@pytest.mark.parametrize("output", [".", "/abs/name", "a/../../b", "a\\\\b"])
def test_a_manifest_output_must_stay_inside_the_output_folder(tmp_path: Path, output: str) -> None:
    write_tone_wav(tmp_path / "ok.wav", 0.5)
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text(json.dumps({"audio": "ok.wav", "output": output}))
    with pytest.raises(ManifestError, match='line 1: "output" must be a relative path'):
        collect_items([str(manifest)])
