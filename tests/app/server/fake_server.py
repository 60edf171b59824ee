"""A real `qasr serve` process on fakes, for the kill-and-restart test.

    python tests/app/server/fake_server.py DATA_DIR PORT {block,run} MAX_ATTEMPTS

With `block`, a clip longer than 2 s makes the recogniser wait forever: the test kills the
process while that job runs. One job is handed to the model at a time (batch size 1), so the
others stay queued in the store.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from tests.app.server.support import KEY

from qasr.app import bootstrap
from qasr.app.server import ServerSettings, create_app, run_server
from qasr.app.use_cases.service import TranscriptionService
from qasr.domain import AudioClip, RecognitionOptions, Transcript
from qasr.testing import FakeRecognizer


class BlockingRecognizer:
    def __init__(self, block: bool) -> None:
        self.block = block
        self.inner = FakeRecognizer()

    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        if self.block and any(clip.duration > 2.0 for clip in clips):
            print("blocking", flush=True)
            threading.Event().wait()
        return self.inner.recognize(clips, options)


def main(data_dir: str, port: str, mode: str, max_attempts: str) -> None:
    settings = ServerSettings(
        port=int(port), api_keys=(KEY,), data_dir=Path(data_dir), model_name="fake",
        batch_size=1, max_attempts=int(max_attempts), rate_limit=0,
    )  # fmt: skip
    service = TranscriptionService(
        bootstrap.build_audio_source(), BlockingRecognizer(mode == "block"), batch_size=1
    )
    store = bootstrap.build_job_store(settings.jobs_database)
    run_server(create_app(service, store, settings), settings)


if __name__ == "__main__":
    main(*sys.argv[1:])
