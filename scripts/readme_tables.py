"""The README's benchmark tables, rendered from the committed benchmark JSONs.

Each table sits in README.md between `<!-- table:NAME -->` and `<!-- /table:NAME -->`; this
script rewrites what is between the markers from the JSON named below, so a number in the README
is always one that a committed file holds (with the command that made it).

    python scripts/readme_tables.py          # rewrite README.md
    python scripts/readme_tables.py --check  # exit 1 if README.md differs (tests run this)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "docs" / "benchmarks"


def _load(name: str) -> Any:
    return json.loads((BENCHMARKS / name).read_text())


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def side_by_side(name: str) -> str:
    """qasr vs the official model from one `scripts/bench.py` JSON (its first run)."""
    run = _load(name)["runs"][0]
    ours, theirs = run["mlx"]["clips"], run["official"]["clips"]
    size = run["size"].upper()
    rows = []

    def row(label: str, a: float, b: float, unit: Callable[[float], str] = _ms) -> None:
        rows.append(f"| {size} {label} | {unit(a)} | {unit(b)} | {b / a:.1f}x |")

    for clip in ours:
        seconds = float(clip)
        mine, official = ours[clip], theirs[clip]
        chunks = mine["chunks"]
        what = f"{seconds:g} s clip" if chunks == 1 else f"{seconds / 60:g} min, {chunks} chunks"
        if chunks == 1:
            row(f"mel, {what}", mine["mel_ms"], official["mel_ms"])
            row(f"encoder, {what}", mine["encoder_ms"], official["encoder_ms"])
        for batch, result in mine["batches"].items():
            other = official["batches"][batch]
            per_token = f"decode, ms/token, batch {batch} ({what})"
            row(per_token, result["decode_ms_per_token"], other["decode_ms_per_token"],
                unit=lambda v: f"{v:.1f}")  # fmt: skip
            items = f"{result['items']} x " if chunks == 1 and result["items"] > 1 else ""
            row(f"end to end, {items}{what}, batch {batch}", result["end_to_end_ms"],
                other["end_to_end_ms"])  # fmt: skip
    head = "| | qasr | official | official / qasr |\n| --- | --- | --- | --- |"
    return "\n".join([head, *rows])


def decode_breakdown(name: str, batch: str = "1") -> str:
    """Where a decode step's time goes, op by op (`scripts/decode_breakdown.py`)."""
    result = _load(name)["batches"][batch]
    rows = ["| op | per step | µs each | µs per step | bandwidth floor, µs each |",
            "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for op in result["ops"]:
        rows.append(
            f"| {op['op']} | {op['per_step']} | {op['us_each']:.1f} | {op['us_per_step']:.0f} "
            f"| {op['floor_us_each']:.2g} |"
        )
    measured = result["measured_step_ms"]
    rows.append(
        f"| **sum of the {result['ops_per_step']} ops** | | | **{1e3 * result['sum_ms']:.0f}** "
        f"| {1e3 * result['bandwidth_floor_ms']:.0f} in all |"
    )
    rows.append(
        f"| measured step: dynamic / compiled | | | {1e3 * measured['dynamic']:.0f} / "
        f"{1e3 * measured['compiled']:.0f} | |"
    )
    return "\n".join(rows)


def longform_profile(name: str) -> str:
    """A long recording's time by stage (`scripts/longform_profile.py`)."""
    report = _load(name)
    rows = ["| stage | seconds | audio s/s if alone |", "| --- | --- | --- |"]
    for stage, seconds in report["stage_seconds"].items():
        rate = report["stage_audio_seconds_per_second"].get(stage, "")
        rows.append(f"| {stage} | {seconds:.2f} | {rate:g} |")
    rows.append(
        f"| **unwrapped run** | **{report['plain_seconds']:.2f}** | "
        f"**{report['plain_audio_seconds_per_second']:g}** |"
    )
    return "\n".join(rows)


def fused_decode(name: str) -> str:
    """ms/token with and without the fused CUDA kernels, per lease and batch
    (`scripts/bench_decode_step.py --fused both`)."""
    rows = [
        "| lease | batch | dynamic: fused / plain | plain / fused | compiled: fused / plain "
        "| plain / fused |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for lease, run in _load(name)["runs"].items():
        for batch, steps in run["batches"].items():
            cells = []
            for step in ("dynamic", "compiled"):
                fused = steps[f"fused/{step}"]["median_ms_per_token"]
                plain = steps[f"plain/{step}"]["median_ms_per_token"]
                cells.append(f"{fused:.2f} / {plain:.2f} | {plain / fused:.2f}x")
            rows.append(f"| {lease} | {batch} | {' | '.join(cells)} |")
    return "\n".join(rows)


TABLES: dict[str, Callable[[], str]] = {
    "h200-0.6b": lambda: side_by_side("h200-0.6b-bf16.json"),
    "h200-decode-step": lambda: decode_breakdown("decode-breakdown-h200.json"),
    "h200-one-hour": lambda: longform_profile("longform-profile-h200-fused.json"),
    "h200-fused-decode": lambda: fused_decode("decode-step-fused-h200.json"),
    "h200-0.6b-hour": lambda: side_by_side("h200-0.6b-bf16-1h.json"),
    "h200-1.7b-hour": lambda: side_by_side("h200-1.7b-bf16-1h.json"),
}


def _escaped(text: str) -> str:
    """`text` as a literal `re.sub` replacement."""
    return text.replace("\\", "\\\\")


def rendered(readme: str) -> str:
    for name, table in TABLES.items():
        pattern = re.compile(
            rf"(<!-- table:{re.escape(name)} -->\n)(?:.*?\n)?(<!-- /table:{re.escape(name)} -->)",
            re.DOTALL,
        )
        if not pattern.search(readme):
            raise SystemExit(f"README.md has no <!-- table:{name} --> markers")
        readme = pattern.sub(rf"\g<1>{_escaped(table())}\n\g<2>", readme)
    return readme


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only say whether README.md is current"
    )
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args()
    current = args.readme.read_text()
    fresh = rendered(current)
    if args.check:
        if fresh != current:
            print("README.md's tables differ from docs/benchmarks: run scripts/readme_tables.py")
            sys.exit(1)
        return
    args.readme.write_text(fresh)


if __name__ == "__main__":
    main()
