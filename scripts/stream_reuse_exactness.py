"""How far a stream step's fixed-piece computation (stream_reuse.py) is from a one-off decode.

Reuse on and off are equal to the bit (tests/adapters/mlx/test_stream_reuse.py). A stream step
is computed in pieces (each 8 s window encoded alone, the prompt prefilled segment by segment),
which rounds differently from encoding and prefilling the whole clip in one go, as BLAS rounds a
row by how many rows it multiplies together. This measures that difference on the demo model:
encoder output, the first token's logits, and whether the greedy tokens differ.

    python scripts/stream_reuse_exactness.py --out docs/benchmarks/streaming-reuse-exactness.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from qasr import load_audio  # noqa: E402
from qasr.adapters.mlx.backend import mx  # noqa: E402
from qasr.adapters.mlx.model.mel import log_mel_spectrogram  # noqa: E402
from qasr.adapters.mlx.prefix_recognizer import PrefixMlxRecognizer  # noqa: E402
from qasr.adapters.mlx.stream_reuse import StreamWork  # noqa: E402
from qasr.app import bootstrap  # noqa: E402
from qasr.domain import RecognitionOptions  # noqa: E402
from qasr.ports import ContinuationOptions  # noqa: E402

RATE = 16_000


def first_logits(recognizer: PrefixMlxRecognizer, clip: np.ndarray, options: Any) -> np.ndarray:
    with recognizer.thinker.lock:
        prefill = recognizer._prefill([clip], [options])
        return np.array(recognizer.thinker.model.logits(prefill.hidden[:, -1, :])[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny-en")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    recognizer = PrefixMlxRecognizer.from_pretrained(args.model, dtype="float32")
    encoder = recognizer.thinker.model.audio_tower
    clips = [load_audio(ROOT / "examples" / f"tiny-en-{n}.wav") for n in (1, 2)]
    pause = np.zeros(RATE // 2, np.float32)
    speech = np.concatenate([clips[0], pause, clips[1], pause] * 4)
    rows = []
    for seconds in (6, 10, 14, 18, 22, 26, 30):
        clip = speech[: seconds * RATE]
        whole = np.array(encoder(log_mel_spectrogram(clip)))
        mel = log_mel_spectrogram(clip, frames_per_chunk=encoder.config.window_frames)
        pieces = np.array(StreamWork().encode(encoder, mel, mx.float32, reuse=False)[0])
        plain_options = RecognitionOptions(language="English")
        step_options = ContinuationOptions(language="English", reuse_work=False)
        plain = first_logits(recognizer, clip, plain_options)
        step = first_logits(recognizer, clip, step_options)
        (plain_decoded,) = recognizer.decode_batch([clip], [plain_options])
        (step_decoded,) = recognizer.decode_batch([clip], [step_options])
        rows.append(
            {
                "audio_seconds": seconds,
                "encoder_max_abs_difference": float(np.abs(pieces - whole).max()),
                "encoder_max_abs_value": float(np.abs(whole).max()),
                "first_logits_max_abs_difference": float(np.abs(step - plain).max()),
                "same_tokens": step_decoded.tokens == plain_decoded.tokens,
                "tokens": len(plain_decoded.tokens),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    report = {
        "command": " ".join(["python", *sys.argv]),
        "machine": {
            "platform": platform.platform(),
            "cpu": bootstrap.cpu_model(),
            "mlx": bootstrap.mlx_backend_summary(),
        },
        "model": args.model,
        "what": "a stream step's fixed-piece computation against a one-off decode of the same "
        "audio (reuse on and off are equal to the bit, see the tests)",
        "rows": rows,
    }
    text = json.dumps(report, indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
