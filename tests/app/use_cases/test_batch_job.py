"""A bulk job: failure isolation, batching across files, the results manifest, resuming."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from tests.app.use_cases.batch_doubles import (
    LoggingRecognizer,
    fake_service,
    logged_names,
    mixed_folder,
    write_tone_wav,
)

from qasr.app import bootstrap
from qasr.app.use_cases.batch import (
    RESULTS_NAME,
    BatchProgress,
    BatchSummary,
    LocalRunner,
    ResultsLog,
    collect_items,
    read_rows,
    run_batch,
)
from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import AudioClip, RecognitionOptions, Transcript
from qasr.errors import InvalidInputError

FORMAT, EXTENSIONS = "txt,json", (".txt", ".json")


def run(
    inputs: Path | Sequence[Path],
    out: Path,
    service: TranscriptionService,
    *,
    fill_chunks: int = 32,
    force: bool = False,
    progress: list[BatchProgress] | None = None,
) -> BatchSummary:
    names = [str(inputs)] if isinstance(inputs, Path) else [str(path) for path in inputs]
    return run_batch(
        collect_items(names),
        lambda: LocalRunner(service, fill_chunks=fill_chunks),
        output_dir=out,
        output_format=FORMAT,
        extensions=EXTENSIONS,
        write_outputs=bootstrap.write_outputs,
        force=force,
        on_progress=None if progress is None else progress.append,
    )


def rows(out: Path) -> dict[str, dict]:
    return {Path(row["input"]).name: row for row in read_rows(out / RESULTS_NAME).values()}


def test_bad_files_are_recorded_and_the_good_ones_transcribed(tmp_path: Path) -> None:
    goods, _ = mixed_folder(tmp_path / "in")
    out = tmp_path / "out"
    summary = run(tmp_path / "in", out, fake_service())
    assert (summary.total, summary.transcribed, summary.skipped) == (6, 4, 0)
    assert sorted(Path(name).name for name, _ in summary.failed) == ["corrupt.wav", "empty.wav"]
    table = rows(out)
    assert "empty" in table["empty.wav"]["error"] and table["empty.wav"]["status"] == "failed"
    assert "corrupt" in table["corrupt.wav"]["error"] and table["corrupt.wav"]["outputs"] == []
    for good in goods:
        row = table[good.name]
        assert row["status"] == "ok" and row["error"] is None and row["language"] == "English"
        assert row["duration"] == pytest.approx(
            TranscriptionService(bootstrap.build_audio_source(), None)
            .audio_source.load(good)
            .duration
        )
        assert set(row["timings"]) == {"load_seconds", "decode_seconds", "write_seconds"}
        written = [out / entry["path"] for entry in row["outputs"]]
        assert [path.suffix for path in written] == [".txt", ".json"]
        assert all(
            path.stat().st_size == entry["bytes"]
            for path, entry in zip(written, row["outputs"], strict=True)
        )
    assert (out / "sub" / "deep.txt").read_text().strip()


def test_chunks_of_several_files_are_decoded_together(tmp_path: Path) -> None:
    mixed_folder(tmp_path / "in")
    service = fake_service()
    run(tmp_path / "in", tmp_path / "out", service)
    recognizer = service.recognizer
    assert isinstance(recognizer, LoggingRecognizer)
    [call] = recognizer.inner.calls  # 4 good files, 1 chunk each, fill 32: one decode
    assert len({clip.name for clip in call}) == 4


def test_a_rerun_skips_done_files_and_force_redoes_them(tmp_path: Path) -> None:
    goods, _ = mixed_folder(tmp_path / "in")
    out, log = tmp_path / "out", tmp_path / "heard.log"
    run(tmp_path / "in", out, fake_service(str(log)))
    assert sorted(logged_names(log)) == sorted(path.name for path in goods)
    again = run(tmp_path / "in", out, fake_service(str(log)))
    assert (again.skipped, again.transcribed, len(again.failed)) == (4, 0, 2)  # bad ones retried
    assert len(logged_names(log)) == 4
    forced = run(tmp_path / "in", out, fake_service(str(log)), force=True)
    assert (forced.skipped, forced.transcribed) == (0, 4)
    assert len(logged_names(log)) == 8
    assert len(read_rows(out / RESULTS_NAME)) == 6  # one line per file after each rewrite
    assert len((out / RESULTS_NAME).read_text().splitlines()) == 6 + 6  # rewritten, then appended


def test_an_interrupted_job_resumes_without_redoing_finished_files(tmp_path: Path) -> None:
    goods, _ = mixed_folder(tmp_path / "in")
    out, log = tmp_path / "out", tmp_path / "heard.log"
    with pytest.raises(KeyboardInterrupt):
        # One file per decode (fill 1); the third recognizer call is "Ctrl-C".
        run(tmp_path / "in", out, fake_service(str(log), interrupt_at=3), fill_chunks=1)
    first = logged_names(log)
    assert len(first) == 2
    assert {name for name, row in rows(out).items() if row["status"] == "ok"} == set(first)
    resumed = run(tmp_path / "in", out, fake_service(str(log)), fill_chunks=1)
    assert resumed.skipped == 2 and resumed.transcribed == 2
    assert sorted(logged_names(log)) == sorted(path.name for path in goods)  # each heard once


def test_an_output_cut_short_or_missing_is_redone_and_a_torn_line_ignored(tmp_path: Path) -> None:
    mixed_folder(tmp_path / "in")
    out, log = tmp_path / "out", tmp_path / "heard.log"
    run(tmp_path / "in", out, fake_service(str(log)))
    (out / "talk0.json").write_text((out / "talk0.json").read_text()[:10])  # cut short
    (out / "talk1.txt").unlink()
    (out / ".talk2.txt.0123abcd.tmp").write_text("half a transcript")  # a killed write's leftover
    (out / "talk2.txt").unlink()
    with open(out / RESULTS_NAME, "a") as manifest:
        manifest.write('{"schema": "qasr.batch-result/1", "key": "torn')
    before = len(logged_names(log))
    again = run(tmp_path / "in", out, fake_service(str(log)))
    assert again.transcribed == 3 and again.skipped == 1
    assert sorted(logged_names(log)[before:]) == ["talk0.wav", "talk1.wav", "talk2.wav"]
    assert json.loads((out / "talk0.json").read_text())["text"]


def test_a_changed_input_is_redone(tmp_path: Path) -> None:
    first = write_tone_wav(tmp_path / "in" / "a.wav", 1.0)
    write_tone_wav(tmp_path / "in" / "b.wav", 1.0)
    out, log = tmp_path / "out", tmp_path / "heard.log"
    run(tmp_path / "in", out, fake_service(str(log)))
    write_tone_wav(first, 2.0, hz=400.0)
    again = run(tmp_path / "in", out, fake_service(str(log)))
    assert again.transcribed == 1 and logged_names(log)[2:] == ["a.wav"]


class FailsOn(LoggingRecognizer):
    """Raises a bug-like error whenever a batch holds a clip of `bad_seconds`."""

    bad_seconds: float = 2.0

    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        if any(abs(clip.duration - self.bad_seconds) < 1e-6 for clip in clips):
            raise RuntimeError("the decoder fell over")
        return super().recognize(clips, options)


def test_a_file_that_breaks_its_decode_fails_alone(tmp_path: Path) -> None:
    mixed_folder(tmp_path / "in")  # talk1.wav is the 2 s one
    service = fake_service()
    service.recognizer = FailsOn()
    summary = run(tmp_path / "in", tmp_path / "out", service)
    table = rows(tmp_path / "out")
    assert table["talk1.wav"]["status"] == "failed"
    assert table["talk1.wav"]["error"] == "internal error (RuntimeError: the decoder fell over)"
    assert summary.transcribed == 3
    assert all(table[name]["status"] == "ok" for name in ("talk0.wav", "talk2.wav", "deep.wav"))


def test_an_output_that_cannot_be_written_fails_that_file_only(tmp_path: Path) -> None:
    mixed_folder(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_text("a file where a folder should be")
    summary = run(tmp_path / "in", out, fake_service())
    table = rows(out)
    assert table["deep.wav"]["status"] == "failed" and "sub" in table["deep.wav"]["error"]
    assert summary.transcribed == 3


def test_progress_counts_files_audio_and_bytes(tmp_path: Path) -> None:
    goods, bads = mixed_folder(tmp_path / "in")
    seen: list[BatchProgress] = []
    run(tmp_path / "in", tmp_path / "out", fake_service(), progress=seen)
    assert seen[0].files_done == 0 and seen[0].eta_seconds is None
    assert [event.files_done for event in seen] == list(range(7))
    last = seen[-1]
    assert last.bytes_done == last.bytes_total == sum(p.stat().st_size for p in goods + bads)
    assert last.audio_seconds == pytest.approx(1.0 + 2.0 + 3.0 + 1.5)
    assert last.failed == 2 and last.eta_seconds == 0.0 and last.audio_rate > 0


def test_one_run_at_a_time_per_manifest(tmp_path: Path) -> None:
    with ResultsLog(tmp_path / RESULTS_NAME), pytest.raises(InvalidInputError, match="another"):
        ResultsLog(tmp_path / RESULTS_NAME).__enter__()


def test_a_moved_output_folder_still_resumes_and_a_done_job_loads_no_model(
    tmp_path: Path,
) -> None:
    mixed_folder(tmp_path / "in")
    run(tmp_path / "in", tmp_path / "out", fake_service())
    shutil.move(tmp_path / "out", tmp_path / "moved")
    good = [tmp_path / "in" / name for name in ("talk0.wav", "talk1.wav", "talk2.wav")]
    loads: list[int] = []

    def make_runner() -> LocalRunner:
        loads.append(1)
        return LocalRunner(fake_service())

    summary = run_batch(
        collect_items([str(path) for path in good]),
        make_runner,
        output_dir=tmp_path / "moved",
        output_format=FORMAT,
        extensions=EXTENSIONS,
        write_outputs=bootstrap.write_outputs,
    )
    assert (summary.skipped, summary.transcribed, loads) == (3, 0, [])


def test_a_results_manifest_that_cannot_be_written_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidInputError, match="cannot write the results manifest"):
        ResultsLog(tmp_path / "file" / RESULTS_NAME).__enter__()
