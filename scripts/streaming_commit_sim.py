"""The committed text of long streams, fast: where the engine cuts its windows, then only the
committed windows decoded (issue 15's tuning of the window edges).

With `free_commit` (the default) a committed window's text is the prefix-free decoding of its
trimmed audio (voted among `vote_margins`), so the partial steps do not change it: a fake
decoder ("x" for any speech) answers the engine's partial steps, and the real model decodes
only the commits' calls, as the engine makes them (language forced, a stream step). Streams
are built as in scripts/streaming_eval.py (held-out clips from `skip`, pauses drawn with
`seed`); the errors are compared with each joined clip decoded alone.

    python scripts/streaming_commit_sim.py --data /tmp/heldout \\
        --streams 100:3,200:4,300:5,500:6,600:7,700:8 --settings '{}'
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "src"))

import streaming_eval as se  # noqa: E402

from qasr import Session  # noqa: E402
from qasr.app.use_cases.streaming import CommittedText, StreamingEngine, StreamSettings  # noqa: E402
from qasr.domain import AudioClip, Transcript, find_language  # noqa: E402
from qasr.training.metrics import edit_distance, normalize_transcript  # noqa: E402


def errors(reference: str, hypothesis: str) -> int:
    return edit_distance(
        normalize_transcript(reference).split(), normalize_transcript(hypothesis).split()
    )


class _Recording(StreamingEngine):
    """The engine, noting whether the decode it asks for is a commit's."""

    final = False

    def _decode(self, end: int, *, final: bool = False) -> Any:
        self.final = final
        return super()._decode(end, final=final)


def one_stream(
    session: Session, data: Path, skip: int, seed: int, settings: dict[str, Any]
) -> dict[str, Any]:
    pool = se.held_out(data, 60, skip=skip)
    audio, reference, used = se.long_stream(pool, 3.0, seed)
    alone = [session.transcribe(clip).text for clip, _ in pool[:used]]
    english = find_language("English")

    def fake(clip: AudioClip, options: Any) -> Transcript:
        if engine.final:
            return session._service.transcribe(clip, options, return_chunks=False)
        return Transcript(text="x", language=english)

    engine = _Recording(
        fake,
        settings=StreamSettings(**{"step_seconds": 2.0, "commit_after_silence": 0.45, **settings}),
    )
    events: list[Any] = []
    for first in range(0, len(audio), se.PIECE):
        events += engine.feed(audio[first : first + se.PIECE])
    events += engine.finish()
    texts = [event.text for event in events if isinstance(event, CommittedText) and event.text]
    return {
        "clips": f"{skip}-{skip + used - 1}",
        "seed": seed,
        "words": len(normalize_transcript(reference).split()),
        "streaming_errors": errors(reference, " ".join(texts)),
        "per_sentence_errors": errors(reference, " ".join(alone)),
        "windows": len(texts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny-en")
    parser.add_argument("--data", type=Path, default=Path("/tmp/heldout"))
    parser.add_argument(
        "--streams", default="100:3,200:4,300:5,500:6,600:7,700:8", help="skip:seed,..."
    )
    parser.add_argument("--settings", default="{}", help="StreamSettings as JSON")
    args = parser.parse_args()
    session = Session(args.model)
    settings = json.loads(args.settings)
    rows = [
        one_stream(session, args.data, int(skip), int(seed), settings)
        for skip, seed in (pair.split(":") for pair in args.streams.split(","))
    ]
    words = sum(row["words"] for row in rows)
    streamed = sum(row["streaming_errors"] for row in rows)
    alone = sum(row["per_sentence_errors"] for row in rows)
    print(json.dumps({
        "command": " ".join(["python", *sys.argv]),
        "settings": settings,
        "streams": rows,
        "words": words,
        "streaming_errors": streamed,
        "per_sentence_errors": alone,
        "gap_points": round(100 * (streamed - alone) / words, 2),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
