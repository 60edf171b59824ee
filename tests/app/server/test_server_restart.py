"""Jobs survive the server: a real process is killed (SIGKILL) mid-job and started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.app.server.support import auth, free_port, write_tone

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("fake_server.py")


class Process:
    def __init__(self, data: Path, mode: str, max_attempts: int = 3) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(data), str(self.port), mode, str(max_attempts)],
            env=environment, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.process.stdout.read().decode()  # type: ignore[union-attr]
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def job(self, job_id: str) -> dict[str, Any]:
        found: dict[str, Any] = httpx.get(f"{self.url}/v1/jobs/{job_id}", headers=auth()).json()
        return found

    def submit(self, audio: Path) -> str:
        answer = httpx.post(
            f"{self.url}/v1/jobs", headers=auth(),
            files={"file": (audio.name, audio.read_bytes(), "audio/wav")},
        )  # fmt: skip
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])

    def wait_for(self, job_id: str, *statuses: str) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while (job := self.job(job_id))["status"] not in statuses:
            assert time.monotonic() < deadline, f"job {job_id} stayed {job['status']}"
            time.sleep(0.05)
        return job


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_a_restart_loses_nothing_queued_or_finished(tmp_path: Path, processes: list) -> None:
    short, long = write_tone(tmp_path / "short.wav", 1.0), write_tone(tmp_path / "long.wav", 3.0)
    data = tmp_path / "data"
    first = Process(data, "block")
    processes.append(first)
    done = first.submit(short)
    before = first.wait_for(done, "succeeded")
    running = first.submit(long)
    first.wait_for(running, "running")
    queued = first.submit(short)
    assert first.job(queued)["status"] == "queued"
    first.kill()

    second = Process(data, "run")
    processes.append(second)
    assert second.job(done) == before
    recovered = second.wait_for(running, "succeeded")
    assert recovered["attempts"] == 2 and recovered["text"]
    assert second.wait_for(queued, "succeeded")["attempts"] == 1
    listed = httpx.get(f"{second.url}/v1/jobs", headers=auth()).json()["data"]
    assert sorted(job["id"] for job in listed) == sorted([done, running, queued])


@pytest.mark.slow
def test_a_job_that_keeps_killing_the_server_fails_with_a_reason(
    tmp_path: Path, processes: list
) -> None:
    long = write_tone(tmp_path / "long.wav", 3.0)
    data = tmp_path / "data"
    first = Process(data, "block", max_attempts=2)
    processes.append(first)
    job_id = first.submit(long)
    first.wait_for(job_id, "running")
    first.kill()
    second = Process(data, "block", max_attempts=2)
    processes.append(second)
    assert second.wait_for(job_id, "running")["attempts"] == 2
    second.kill()
    third = Process(data, "run", max_attempts=2)
    processes.append(third)
    failed = third.wait_for(job_id, "failed")
    assert failed["attempts"] == 2 and "stopped while this job was running" in failed["error"]
