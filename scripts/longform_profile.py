"""Where a long recording's time goes: `Session.transcribe` of one long clip, stage by stage.

The recognizer's stages are wrapped with timers that evaluate each stage's output before
returning (so a stage's time is its own, not the next one's): the log-mel spectrogram, the
audio encoder, the prompt prefill and greedy decoding. What the clock sees outside them is the
service's own work (chunk planning, tokenizer decoding, joining texts). The model is the real
0.6B shape with random weights, each 30 s chunk decoding `--tokens` tokens (~3.5 per second of
speech: 105), so the work is the work of real speech.

    python scripts/longform_profile.py --seconds 3600 --batch-size 0 --tokens 105 \\
        --dtype bfloat16 --out docs/benchmarks/longform-profile-h200.json

Stage times are upper bounds on a pipelined run: the timers' syncs stop stages from overlapping.
The log-mels are host work in worker threads, overlapping the device's work: their thread time is
reported apart (`host_thread_seconds`), and what the main thread waits for them is `mel wait`.
The unwrapped run (`plain`) is measured too, in the same process, after the wrapped one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from batch_bench import write_model  # noqa: E402
from bench import speech_like  # noqa: E402


class Timers:
    """Seconds and calls per stage, from wrapped functions that evaluate what they return."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.threads: dict[str, float] = {}  # host work in worker threads, overlapping the rest
        self._guard = threading.Lock()

    def wrap_threads(self, name: str, fn: Callable[..., Any]) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._guard:
                    self.threads[name] = self.threads.get(name, 0.0) + time.perf_counter() - start

        return timed

    def wrap(self, name: str, fn: Callable[..., Any], inner: tuple[str, ...] = ()) -> Callable:
        from qasr.adapters.mlx.backend import mx

        def timed(*args: Any, **kwargs: Any) -> Any:
            before = {stage: self.seconds.get(stage, 0.0) for stage in inner}
            start = time.perf_counter()
            result = fn(*args, **kwargs)
            mx.eval(_arrays(result))
            spent = time.perf_counter() - start
            # A stage that calls another stage reports only its own share.
            spent -= sum(self.seconds.get(stage, 0.0) - before[stage] for stage in inner)
            self.seconds[name] = self.seconds.get(name, 0.0) + spent
            self.calls[name] = self.calls.get(name, 0) + 1
            return result

        return timed


def _arrays(value: Any) -> list[Any]:
    from qasr.adapters.mlx.backend import mx

    if isinstance(value, mx.array):
        return [value]
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in _arrays(item)]
    if hasattr(value, "hidden"):  # the prefill's record: its hidden states need its whole cache
        return [value.hidden]
    return []


def instrument(recognizer: Any, timers: Timers) -> None:
    import qasr.adapters.audio.arrays as arrays
    import qasr.adapters.mlx.recognizer as module
    import qasr.app.use_cases.service as service

    # The recognizer computes a batch's log-mels in threads while the device works; the main
    # thread waits for each one it needs in `mel_result` ("mel wait", inside the prefill).
    module.numpy_log_mel = timers.wrap_threads("mel", module.numpy_log_mel)
    module.mel_result = timers.wrap("mel wait", module.mel_result)
    encoder = recognizer.thinker.model.audio_tower
    encoder.encode_batch = timers.wrap("encoder", encoder.encode_batch)
    recognizer._prefill = timers.wrap("prefill", recognizer._prefill, inner=("mel wait", "encoder"))
    module.greedy_generate = timers.wrap("decode", module.greedy_generate)
    # Host work before the model: the input array checked and copied, the cuts planned.
    arrays.mono_samples = timers.wrap("audio input", arrays.mono_samples)
    service.plan_chunks = timers.wrap("chunk planning", service.plan_chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--batch-size", type=int, default=0, help="0: the recognizer picks")
    parser.add_argument("--tokens", type=int, default=105, help="tokens decoded per 30 s chunk")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--size", default="0.6b", choices=["tiny", "0.6b"])
    parser.add_argument(
        "--encode-group", type=int, help="clips per encoder call (default: the recognizer's)"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import qasr.adapters.mlx.recognizer as recognizer_module
    from qasr.adapters.mlx.backend import mx
    from qasr.adapters.mlx.recognizer import MlxRecognizer
    from qasr.app.entry.session import Session

    if args.encode_group:
        recognizer_module.ENCODE_GROUP = args.encode_group

    with tempfile.TemporaryDirectory() as work:
        folder = write_model(Path(work) / "model", args.size)
        recognizer = MlxRecognizer.from_pretrained(
            folder, dtype=args.dtype, batch_size=args.batch_size or None
        )
        session = Session(recognizer)
        samples = speech_like(args.seconds)
        session.transcribe(samples, max_new_tokens=args.tokens)  # kernels built, memory held

        start = time.perf_counter()
        session.transcribe(samples, max_new_tokens=args.tokens)
        plain = time.perf_counter() - start

        timers = Timers()
        instrument(recognizer, timers)
        start = time.perf_counter()
        transcript = session.transcribe(samples, max_new_tokens=args.tokens, return_chunks=True)
        wrapped = time.perf_counter() - start
        stages = {name: round(seconds, 3) for name, seconds in timers.seconds.items()}
        stages["service and host (the rest)"] = round(wrapped - sum(timers.seconds.values()), 3)
        report = {
            "command": " ".join(["python", *sys.argv]),
            "model": f"random {args.size} Qwen3-ASR shapes, {args.dtype}",
            "device": str(mx.default_device()),
            "mlx": mx.__version__,
            "audio_seconds": args.seconds,
            "chunks": len(transcript.chunks),
            "batch_size": args.batch_size or "auto",
            "encode_group": recognizer_module.ENCODE_GROUP,
            "batches": timers.calls.get("decode", 0),
            "tokens_per_chunk": args.tokens,
            "plain_seconds": round(plain, 3),
            "plain_audio_seconds_per_second": round(args.seconds / plain, 1),
            "wrapped_seconds": round(wrapped, 3),
            "stage_seconds": stages,
            "stage_calls": timers.calls,
            "host_thread_seconds": {name: round(sec, 3) for name, sec in timers.threads.items()},
            "stage_audio_seconds_per_second": {
                name: round(args.seconds / seconds, 1)
                for name, seconds in stages.items()
                if seconds > 0
            },
            "how": __doc__.split("\n\n")[1].replace("\n", " "),
        }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
