"""`qasr serve`: what it refuses before any model loads, and what it starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.app.server.support import fake_service

from qasr.app.entry import cli_serve
from qasr.app.entry.cli import main
from qasr.app.server import auth
from qasr.errors import ModelNotFoundError

ROOT = Path(__file__).resolve().parents[3]


def run(words: list[str], build: Any = None) -> int:
    return cli_serve.serve_command(words, build_service=build or (lambda **_: fake_service()))


def test_no_key_is_refused_unless_no_auth_on_loopback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(auth.KEYS_ENVIRONMENT, raising=False)
    assert main(["serve"]) == 2
    assert "needs an API key" in capsys.readouterr().err
    assert run(["--no-auth", "--host", "0.0.0.0"]) == 2
    assert "refusing to serve 0.0.0.0 without an API key" in capsys.readouterr().err
    assert run(["--no-auth", "--api-key", "abcdefgh1"]) == 2
    assert "contradict" in capsys.readouterr().err
    assert run(["--api-key", "short"]) == 2
    assert "at least 8" in capsys.readouterr().err


def test_keys_come_from_flags_a_file_and_the_environment(tmp_path: Path) -> None:
    listed = tmp_path / "keys.txt"
    listed.write_text("# team keys\nkey-from-file-1\n\nkey-from-file-2\n")
    keys = auth.read_keys(
        ["key-from-flag-1", "key-from-file-1"], str(listed),
        {auth.KEYS_ENVIRONMENT: "key-from-env-1, key-from-env-2"},
    )  # fmt: skip
    assert keys == (
        "key-from-flag-1", "key-from-file-1", "key-from-file-2", "key-from-env-1",
        "key-from-env-2",
    )  # fmt: skip
    with pytest.raises(Exception, match="cannot read the API keys file"):
        auth.read_keys([], str(tmp_path / "missing.txt"), {})


def test_it_builds_the_service_on_the_worker_thread_and_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from qasr.app import server

    asked: list[tuple[dict[str, Any], str]] = []
    served: list[Any] = []

    def build(**wanted: Any) -> Any:
        asked.append((wanted, threading.current_thread().name))
        return fake_service()

    monkeypatch.setattr(server, "run_server", lambda app, settings: served.append((app, settings)))
    words = ["--api-key", "a-long-key-1", "--data-dir", str(tmp_path), "--batch-size", "4",
             "--max-upload-mb", "7", "--model", "/models/tiny/", "--port", "9999"]  # fmt: skip
    assert run(words, build) == 0
    [(wanted, thread)] = asked
    assert wanted == {"model": "/models/tiny/", "dtype": None, "timestamps": False, "batch_size": 4}
    assert thread == "qasr-model-worker"
    [(app, settings)] = served
    assert (settings.port, settings.max_upload_bytes, settings.model_name) == (
        9999,
        7 << 20,
        "tiny",
    )
    assert app.state.qasr.worker.alive
    app.state.qasr.worker.stop()


def test_a_model_that_cannot_load_is_one_line_before_the_port_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def build(**wanted: Any) -> Any:
        raise ModelNotFoundError("no model folder or hub repo 'nope'")

    assert run(["--no-auth", "--data-dir", str(tmp_path), "--model", "nope"], build) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "qasr: error: no model folder" in err


BLOCK_FASTAPI = """
import sys
class NoFastapi:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("fastapi", "uvicorn"):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NoFastapi())
import importlib.util
real = importlib.util.find_spec
blocked = ("fastapi", "uvicorn")
importlib.util.find_spec = lambda name, *a: None if name in blocked else real(name, *a)
from qasr.app.entry.cli import main
sys.exit(main(["serve", "--no-auth", "--data-dir", sys.argv[1]]))
"""


def test_a_missing_serve_extra_names_the_install(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_FASTAPI, str(tmp_path)], cwd=ROOT, capture_output=True,
        text=True, timeout=120, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "qasr serve needs the 'fastapi' package" in done.stderr and "[serve]" in done.stderr
    assert "Traceback" not in done.stderr


def test_diarize_and_timestamps_ask_the_composition_root_for_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qasr.app import server
    from qasr.testing import FakeDiarizer

    asked: list[dict[str, Any]] = []

    def build(**wanted: Any) -> Any:
        asked.append(wanted)
        return fake_service(diarizer=FakeDiarizer())

    monkeypatch.setattr(server, "run_server", lambda app, settings: app.state.qasr.worker.stop())
    words = ["--no-auth", "--data-dir", str(tmp_path), "--diarize", "--timestamps",
             "--forced-aligner", "/models/aligner"]  # fmt: skip
    assert run(words, build) == 0
    assert asked[0]["diarize"] is True and asked[0]["timestamps"] is True
    assert asked[0]["forced_aligner"] == "/models/aligner"
