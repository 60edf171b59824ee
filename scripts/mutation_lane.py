"""Mutation lane: plant known bugs one at a time in a copy of the repository and check that the
default test run catches each (issue 21). Not part of the default run: ~6 minutes on 2 cores.

For every mutation the working tree is copied afresh to a temporary folder (tracked files and
untracked ones git does not ignore), the bug is planted there by exact text replacement (a
replacement that no longer matches the source fails the lane, so the list cannot silently rot),
and `python3 -m pytest` runs the tests that should catch it, in the copy. pyproject's
`pythonpath = ["src", "."]` makes that run import qasr from the copy, and tests/conftest.py stops
any run that does not; the first mutation checks that guard itself. Before the mutations, each
test selection runs once on the unmutated copy and must pass, so a failure means the bug.

    python3 scripts/mutation_lane.py [--only NAME ...] [--list] [--report PATH]

Writes docs/benchmarks/mutation-report.json (command, machine, versions, per-mutation result).
Exit status 0 when every baseline passes and every mutation is caught.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks" / "mutation-report.json"
RUN_LIMIT_S = 900
# A planted bug is caught when tests fail (pytest exit 1); the path guard refuses the run as a
# usage error (exit 4). Anything else (collection errors, a crash) is reported as not caught.
TESTS_FAILED, USAGE_ERROR = 1, 4


@dataclass(frozen=True)
class Edit:
    path: str
    old: str | None  # None: append `new` to the file
    new: str
    count: int = 1  # how many times `old` must occur (all are replaced)


@dataclass(frozen=True)
class Mutation:
    name: str
    item: int  # the numbered hole in issue 21 it belongs to
    what: str
    edits: tuple[Edit, ...]
    tests: tuple[str, ...]
    caught_by: int = TESTS_FAILED


MONOTONIC = "src/qasr/domain/monotonic.py"
CHUNKING = "src/qasr/domain/chunking.py"
SUBTITLES = "src/qasr/adapters/writers/subtitles.py"
MEL = "src/qasr/adapters/mlx/model/mel.py"
VOCAB = "tests/support/qwen_vocab.py"
BISECT_RIGHT, BISECT_LEFT = "bisect.bisect_right(tails, value)", "bisect.bisect_left(tails, value)"
AUDIO_START_LINE = '    ("<|audio_start|>", True),  # 151669\n'
AUDIO_END_LINE = '    ("<|audio_end|>", True),  # 151670\n'
RUN_END = "first + int(loud_after[0]) - 1"
ROUNDING = "Decimal(repr(float(seconds))) * 1000"
QUADRATIC_LIS = """

def longest_non_decreasing(values):  # planted: the reference's O(n^2) programme, same answers
    if not values:
        return []
    length, parent = [1] * len(values), [-1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] <= values[i] and length[j] + 1 > length[i]:
                length[i], parent[i] = length[j] + 1, j
    chain, index = [], length.index(max(length))
    while index != -1:
        chain.append(index)
        index = parent[index]
    return chain[::-1]
"""
OFFICIAL_API = "tests/parity/test_official_api_parity.py"

MUTATIONS = (
    Mutation(
        "pythonpath-without-src",
        1,
        "the old test path (['.']) with the LIS repair broken: another checkout's qasr is tested",
        (
            Edit("pyproject.toml", 'pythonpath = ["src", "."]', 'pythonpath = ["."]'),
            Edit(MONOTONIC, BISECT_RIGHT, BISECT_LEFT),
        ),
        ("tests/domain/test_monotonic.py",),
        caught_by=USAGE_ERROR,
    ),
    Mutation(
        "lis-strictly-increasing",
        7,
        "the LIS repair keeps a strictly increasing subsequence (ties break the chain)",
        (Edit(MONOTONIC, BISECT_RIGHT, BISECT_LEFT),),
        ("tests/domain/test_monotonic.py",),
    ),
    Mutation(
        "lis-quadratic",
        7,
        "the LIS search replaced by the reference's O(n^2) programme (right answers, slow)",
        (Edit(MONOTONIC, None, QUADRATIC_LIS),),
        ("tests/domain/test_monotonic.py::test_twenty_thousand_times_are_fast",),
    ),
    Mutation(
        "batch-results-reversed",
        2,
        "recognize() hands each batch's results back in reverse order",
        (
            Edit(
                "src/qasr/adapters/mlx/recognizer.py",
                "zip(batch, decoded, strict=True)",
                "zip(batch, decoded[::-1], strict=True)",
            ),
        ),
        ("tests/parity/test_batched_decoding.py::test_batch_equals_one_by_one",),
    ),
    Mutation(
        "quantize-4-bits-as-3",
        4,
        "a 4-bit conversion quantizes at 3 bits (consistently recorded, so it loads)",
        (
            Edit(
                "src/qasr/adapters/mlx/checkpoint/quantize.py",
                "        return self.bits\n",
                "        return 3 if self.bits == 4 else self.bits\n",
            ),
        ),
        ("tests/parity/test_quantized_agreement.py",),
    ),
    Mutation(
        "quantize-8-bits-as-6",
        4,
        "an 8-bit conversion quantizes at 6 bits (consistently recorded, so it loads)",
        (
            Edit(
                "src/qasr/adapters/mlx/checkpoint/quantize.py",
                "        return self.bits\n",
                "        return 6 if self.bits == 8 else self.bits\n",
            ),
        ),
        ("tests/parity/test_quantized_agreement.py",),
    ),
    Mutation(
        "vocab-audio-start-end-swapped",
        5,
        "the test vocabulary swaps <|audio_start|> and <|audio_end|> (fed to qasr and reference)",
        (
            Edit(
                VOCAB,
                AUDIO_START_LINE + AUDIO_END_LINE,
                AUDIO_END_LINE.replace("151670", "151669")
                + AUDIO_START_LINE.replace("151669", "151670"),
            ),
        ),
        (OFFICIAL_API,),
    ),
    Mutation(
        "vocab-asr-text-special",
        5,
        "the test vocabulary marks <asr_text> special (decoding then drops it on both sides)",
        (Edit(VOCAB, '("<asr_text>", False)', '("<asr_text>", True)'),),
        (OFFICIAL_API,),
    ),
    Mutation(
        "prompt-newline-before-im-end",
        5,
        "qasr's prompt and the chat template it writes both put a newline before <|im_end|>",
        (
            Edit("src/qasr/adapters/mlx/text/prompt.py", "}<|im_end|>", r"}\n<|im_end|>", 2),
            Edit(
                "src/qasr/adapters/mlx/checkpoint/official_files.py",
                r'''    "{{- '<|im_end|>\\n' -}}"''',
                r'''    "{{- '\\n<|im_end|>\\n' -}}"''',
            ),
        ),
        (OFFICIAL_API, "-k", "prompt"),
    ),
    Mutation(
        "k-norm-weight-ignored",
        6,
        "the decoder normalises keys without k_norm's weight",
        (
            Edit(
                "src/qasr/adapters/mlx/model/text_decoder.py",
                "keys = self.k_norm(keys.reshape(B, L, self.n_kv_heads, -1))",
                "keys = mx.fast.rms_norm(keys.reshape(B, L, self.n_kv_heads, -1), None, "
                "self.k_norm.eps)",
            ),
        ),
        (
            "tests/adapters/mlx/model/test_text_decoder.py",
            "tests/parity/test_text_decoder_parity.py",
            "-m",
            "not slow",
        ),
    ),
    Mutation(
        "chunk-midpoint-rounded-up",
        8,
        "the cut takes the middle of the quiet run rounded up",
        (Edit(CHUNKING, "cuts[(first + last) // 2]", "cuts[(first + last + 1) // 2]"),),
        ("tests/domain/test_chunking.py",),
    ),
    Mutation(
        "chunk-run-end-one-late",
        8,
        "the quiet run ends one cut after its last quiet cut",
        (Edit(CHUNKING, RUN_END, "first + int(loud_after[0])"),),
        ("tests/domain/test_chunking.py",),
    ),
    Mutation(
        "chunk-run-end-one-early",
        8,
        "the quiet run ends one cut before its last quiet cut",
        (Edit(CHUNKING, RUN_END, "first + int(loud_after[0]) - 2"),),
        ("tests/domain/test_chunking.py",),
    ),
    Mutation(
        "chunk-window-doubled",
        8,
        "the smoothing window is twice window_seconds",
        (
            Edit(
                CHUNKING,
                "int(window_seconds * sample_rate) // 2)",
                "int(window_seconds * sample_rate))",
            ),
        ),
        ("tests/domain/test_chunking.py",),
    ),
    Mutation(
        "subtitle-round-half-even",
        9,
        "subtitle times round half to even",
        (Edit(SUBTITLES, "rounding=ROUND_HALF_UP))", 'rounding="ROUND_HALF_EVEN"))'),),
        ("tests/adapters/writers/test_subtitle_format.py",),
    ),
    Mutation(
        "subtitle-rounds-float-product",
        9,
        "subtitle times round seconds * 1000 computed in floats",
        (Edit(SUBTITLES, ROUNDING, "Decimal(repr(float(seconds) * 1000))"),),
        ("tests/adapters/writers/test_subtitle_format.py",),
    ),
    Mutation(
        "subtitle-rounds-binary-value",
        9,
        "subtitle times round the exact binary value, not the decimal a reader sees",
        (Edit(SUBTITLES, ROUNDING, "Decimal(float(seconds)) * 1000"),),
        ("tests/adapters/writers/test_subtitle_format.py",),
    ),
    Mutation(
        "mel-scale-log-step",
        10,
        "the filterbank's mel scale uses log(6.0) for log(6.4) (both directions, so consistent)",
        (Edit(MEL, "np.log(6.4)", "np.log(6.0)", 2),),
        ("tests/adapters/mlx/model/test_mel.py",),
    ),
    Mutation(
        "mel-symmetric-window",
        10,
        "the STFT uses a symmetric Hann window instead of the periodic one",
        (Edit(MEL, "sample / n_fft)", "sample / (n_fft - 1))"),),
        ("tests/adapters/mlx/model/test_mel.py",),
    ),
)


def working_tree_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [path for path in listed.split("\0") if path and (ROOT / path).is_file()]


def copy_tree(files: list[str], target: Path) -> None:
    for path in files:
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, destination)


def plant(mutation: Mutation, copy: Path) -> None:
    for edit in mutation.edits:
        path = copy / edit.path
        text = path.read_text(encoding="utf-8")
        if edit.old is None:
            text += edit.new
        else:
            found = text.count(edit.old)
            if found != edit.count:
                raise SystemExit(
                    f"{mutation.name}: expected {edit.count} of {edit.old!r} in {edit.path}, "
                    f"found {found}; update the mutation to the current source"
                )
            text = text.replace(edit.old, edit.new)
        path.write_text(text, encoding="utf-8")


def run_tests(copy: Path, tests: tuple[str, ...]) -> dict[str, object]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", *tests]
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=copy,
            env=environment,
            capture_output=True,
            text=True,
            timeout=RUN_LIMIT_S,
        )
        returncode, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as expired:
        returncode, output = -1, f"timed out after {RUN_LIMIT_S} s: {expired}"
    lines = output.splitlines()
    failed = [line.removeprefix("FAILED ") for line in lines if line.startswith("FAILED ")]
    errors = [line for line in lines if line.startswith(("ERROR", "E   "))][:5]
    return {
        "returncode": returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "summary": lines[-1] if lines else "",
        "failed": failed[:12],
        "failed_count": len(failed),
        "errors": errors,
    }


def machine() -> dict[str, object]:
    versions = {}
    for name in ("qasr", "mlx", "numpy", "torch", "qwen-asr", "transformers", "pytest"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": list(os.getloadavg()),
        "versions": versions,
    }


def repository() -> dict[str, object]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    changed = [line for line in git("status", "--porcelain").splitlines() if line]
    return {"commit": git("rev-parse", "HEAD"), "uncommitted_paths": len(changed)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these mutations only")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args()
    if args.list:
        for mutation in MUTATIONS:
            print(f"{mutation.name:34} item {mutation.item:2}  {mutation.what}")
        return 0
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only]
    unknown = set(args.only or ()) - {m.name for m in chosen}
    if unknown:
        parser.error(f"unknown mutations: {', '.join(sorted(unknown))}")

    files = working_tree_files()
    report: dict[str, object] = {
        "command": " ".join(["python3", "scripts/mutation_lane.py", *sys.argv[1:]]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "repository": repository(),
        "how": "each mutation planted alone in a fresh copy of the working tree; the tests run "
        "there with `python3 -m pytest -q -p no:cacheprovider -rf TESTS`",
    }
    baselines, results = [], []
    with tempfile.TemporaryDirectory(prefix="qasr-mutation-") as scratch:
        clean = Path(scratch) / "clean"
        copy_tree(files, clean)
        for tests in dict.fromkeys(m.tests for m in chosen):
            outcome = run_tests(clean, tests)
            passed = outcome["returncode"] == 0
            baselines.append({"tests": list(tests), **outcome, "passed": passed})
            print(f"baseline {' '.join(tests)}: {outcome['summary']}", flush=True)
        for mutation in chosen:
            copy = Path(scratch) / mutation.name
            copy_tree(files, copy)
            plant(mutation, copy)
            outcome = run_tests(copy, mutation.tests)
            caught = outcome["returncode"] == mutation.caught_by
            shutil.rmtree(copy)
            results.append(
                {
                    "name": mutation.name,
                    "issue_item": mutation.item,
                    "what": mutation.what,
                    "files": sorted({edit.path for edit in mutation.edits}),
                    "tests": list(mutation.tests),
                    "caught": caught,
                    **outcome,
                }
            )
            verdict = "caught" if caught else "NOT CAUGHT"
            print(f"{mutation.name}: {verdict} ({outcome['summary']})", flush=True)
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    report["baselines"] = baselines
    report["mutations"] = results
    report["summary"] = {
        "planted": len(results),
        "caught": sum(bool(r["caught"]) for r in results),
        "baselines_passed": all(b["passed"] for b in baselines),
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report["summary"]))
    ok = report["summary"]["caught"] == len(results) and report["summary"]["baselines_passed"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
