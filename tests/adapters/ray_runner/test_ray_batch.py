"""`qasr batch --ray` on a local two-CPU Ray cluster: the same results, resume and failure rules
as in one process, decoded by actors (fake recognizers, so no model loads)."""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.app.use_cases.batch_doubles import fake_service, logged_names, mixed_folder, no_model

from qasr.adapters.ray_runner import RayActorPool, check_address
from qasr.app import bootstrap
from qasr.app.entry.cli_batch import SOME_FILES_FAILED, batch_command
from qasr.app.use_cases.batch import (
    RESULTS_NAME,
    BatchProgress,
    GroupWorker,
    PoolRunner,
    collect_items,
    read_rows,
    run_batch,
)
from qasr.errors import InvalidInputError

RAY_WORDS = ["--ray", "--ray-actors", "2", "--ray-cpus-per-actor", "1", "--files-per-task", "2"]


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("qasr: error:")]


def statuses(out: Path) -> dict[str, str]:
    return {
        Path(row["input"]).name: row["status"] for row in read_rows(out / RESULTS_NAME).values()
    }


@pytest.mark.slow
def test_a_mixed_folder_on_two_actors_and_its_resume(tmp_path: Path, local_cluster, capsys) -> None:
    goods, _ = mixed_folder(tmp_path / "in")
    out, log = tmp_path / "out", tmp_path / "heard.log"
    factory = functools.partial(fake_service, str(log))
    words = [str(tmp_path / "in"), "-o", str(out), "-f", "txt,json", *RAY_WORDS]
    assert batch_command(words, build_service=factory) == SOME_FILES_FAILED
    assert statuses(out) == {
        "corrupt.wav": "failed", "empty.wav": "failed", "deep.wav": "ok",
        "talk0.wav": "ok", "talk1.wav": "ok", "talk2.wav": "ok",
    }  # fmt: skip
    workers = {row["worker"] for row in read_rows(out / RESULTS_NAME).values()}
    assert len(workers) == 2  # three groups of two files went to both actors
    assert all(not worker.endswith(f":{os.getpid()}") for worker in workers)  # not the driver
    assert sorted(logged_names(log)) == sorted(path.name for path in goods)
    assert all((out / f"{path.stem}.json").is_file() for path in goods if path.parent.name == "in")
    assert "4 transcribed, 0 already done, 2 failed" in capsys.readouterr().err

    assert batch_command(words, build_service=factory) == SOME_FILES_FAILED
    assert len(logged_names(log)) == 4  # nothing done is done again
    assert "0 transcribed, 4 already done, 2 failed" in capsys.readouterr().err


class StopAfter:
    def __init__(self, files: int) -> None:
        self.files = files

    def __call__(self, progress: BatchProgress) -> None:
        if (
            progress.outcome is not None
            and progress.outcome.ok
            and progress.files_done >= self.files
        ):
            raise KeyboardInterrupt


@pytest.mark.slow
def test_an_interrupted_ray_job_resumes_without_redoing_finished_files(
    tmp_path: Path, local_cluster
) -> None:
    goods, _ = mixed_folder(tmp_path / "in", good=6)
    out, log = tmp_path / "out", tmp_path / "heard.log"
    items = collect_items([str(tmp_path / "in")])
    pool = RayActorPool(actors=2, cpus_per_actor=1)
    worker = GroupWorker(functools.partial(fake_service, str(log)))
    with pytest.raises(KeyboardInterrupt):
        run_batch(
            items,
            lambda: PoolRunner(pool, worker, files_per_task=1),
            output_dir=out,
            output_format="txt",
            extensions=(".txt",),
            write_outputs=bootstrap.write_outputs,
            on_progress=StopAfter(4),
        )
    done = {name for name, status in statuses(out).items() if status == "ok"}
    assert done and len(done) < len(goods)
    words = [str(tmp_path / "in"), "-o", str(out), "--quiet", *RAY_WORDS]
    factory = functools.partial(fake_service, str(log))
    assert batch_command(words, build_service=factory) == SOME_FILES_FAILED
    heard = logged_names(log)
    assert all(heard.count(name) == 1 for name in done)  # finished before Ctrl-C: never redone
    assert {name for name, status in statuses(out).items() if status == "ok"} == {
        path.name for path in goods
    }


@pytest.mark.slow
def test_a_file_that_kills_its_actor_fails_alone(tmp_path: Path, local_cluster, capsys) -> None:
    mixed_folder(tmp_path / "in")
    out = tmp_path / "out"
    factory = functools.partial(fake_service, None, poison="talk1.wav")
    words = [str(tmp_path / "in"), "-o", str(out), *RAY_WORDS]
    assert batch_command(words, build_service=factory) == SOME_FILES_FAILED
    table = {Path(row["input"]).name: row for row in read_rows(out / RESULTS_NAME).values()}
    assert "died twice" in table["talk1.wav"]["error"]
    assert [name for name, row in table.items() if row["status"] == "ok"] == [
        "deep.wav", "talk0.wav", "talk2.wav",
    ]  # fmt: skip


def test_addresses_ray_would_wait_on_are_refused_at_once() -> None:
    for address in (None, "", "local", "auto"):
        check_address(address)
    with pytest.raises(InvalidInputError, match="not a Ray address"):
        check_address("in/folder")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        with pytest.raises(InvalidInputError, match="cannot reach the Ray cluster"):
            check_address(address)


def test_the_driver_imports_no_mlx() -> None:
    """Everything `qasr batch --ray` runs on the driver: the plan, the pool, the writers."""
    code = (
        "import sys\n"
        "import qasr.app.entry.cli, qasr.adapters.ray_runner, qasr.app.use_cases.batch\n"
        "from qasr.app import bootstrap\n"
        "bootstrap.output_extensions('all'); bootstrap.check_output_format('all')\n"
        "from qasr.domain import Transcript\n"
        "import tempfile\n"
        "bootstrap.write_outputs(Transcript('hi'), tempfile.mkdtemp(), 'x', 'txt')\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'mlx'))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_actors_that_cannot_load_the_model_are_one_error(
    tmp_path: Path, local_cluster, capsys
) -> None:
    goods, _ = mixed_folder(tmp_path / "in")
    words = [str(goods[0]), "-o", str(tmp_path / "out"), *RAY_WORDS]
    assert batch_command(words, build_service=no_model) == 2
    err = capsys.readouterr().err
    assert errors(err) == [
        "qasr: error: the Ray actors could not start: "
        "model 'nowhere' is not in the local Hugging Face cache"
    ], err


class FakeRay:
    """Just what RayActorPool asks of Ray before any actor starts."""

    def __init__(self, cpus: float, gpus: float) -> None:
        self.resources = {"CPU": cpus, "GPU": gpus} if gpus else {"CPU": cpus}

    def is_initialized(self) -> bool:
        return True

    def cluster_resources(self) -> dict[str, float]:
        return self.resources


@pytest.mark.parametrize(
    ("cpus", "gpus", "asked", "expected"),
    [
        (128, 8, {}, (8, 1.0, 1.0)),  # one actor per GPU, one CPU each
        (16, 0, {}, (4, 4.0, 0.0)),  # CPU nodes: 4 cores per actor
        (2, 0, {}, (1, 2.0, 0.0)),
        (2, 0, {"actors": 2, "cpus_per_actor": 1}, (2, 1.0, 0.0)),
        (64, 4, {"gpus_per_actor": 0.5}, (8, 1.0, 0.5)),  # two actors share each GPU
    ],
)
def test_actor_sizes_follow_the_cluster(
    monkeypatch: pytest.MonkeyPatch, cpus: float, gpus: float, asked: dict, expected: tuple
) -> None:
    monkeypatch.setattr("qasr.adapters.ray_runner.pool.import_ray", lambda: FakeRay(cpus, gpus))
    pool = RayActorPool(**asked)
    assert (pool.actors, pool.cpus_per_actor, pool.gpus_per_actor) == expected


def test_actors_that_cannot_fit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qasr.adapters.ray_runner.pool.import_ray", lambda: FakeRay(2, 0))
    with pytest.raises(InvalidInputError, match=r"3 Ray actor.* do not fit the cluster's 2 CPUs"):
        RayActorPool(actors=3, cpus_per_actor=1)
    with pytest.raises(InvalidInputError, match="do not fit"):
        RayActorPool(gpus_per_actor=1)
