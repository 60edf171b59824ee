"""Log-mel features of a manifest's clips, computed once and memory-mapped: the feature cache.

Computing a clip's log-mel (float64 STFT, docs/adr/0007) cost more host time per step than the
step of a tiny model, and it gives the same numbers every epoch and every run. `FeatureCache`
computes each clip's features once (the recognizer's `clip_samples`, then its log-mel, the
recognizer's own numpy float64 code: training sees what inference will), in parallel
processes, and stores them frame-major in one float32 file that later runs memory-map:

    <root>/<key>/mels.f32     [total frames, n_mels] float32, the clips one after the other
    <root>/<key>/index.json   frames per clip, n_mels, the clips' paths

`key` hashes the clips' paths, sizes and modification times and the mel settings, so an edited
corpus gets a new cache instead of stale features. A cache is written to a temporary folder and
renamed into place, so an interrupted build is never read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import attrs
import numpy as np
import numpy.typing as npt

from qasr.errors import InvalidInputError
from qasr.training.manifest import Example

FORMAT_VERSION = 2  # 2: the log-mel through numpy.fft (docs/adr/0007)
MELS = "mels.f32"
INDEX = "index.json"
ProgressSink = Callable[[str], None]
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cache_key(examples: Sequence[Example], n_mels: int) -> str:
    digest = hashlib.sha256(f"qasr-features-{FORMAT_VERSION}-{n_mels}".encode())
    for example in examples:
        path = example.audio.resolve()
        stat = path.stat()
        digest.update(f"\n{path}\t{stat.st_size}\t{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:24]


def numpy_log_mel(samples: npt.NDArray[np.float32], n_mels: int) -> npt.NDArray[np.float32]:
    """`mel.log_mel_spectrogram` as numpy, frame-major: [frames, n_mels] float32."""
    from qasr.adapters.mlx.model.mel import numpy_log_mel as log_mel

    mel: npt.NDArray[np.float32] = log_mel(samples, n_mels)
    return mel.T


def clip_features(path: Path, n_mels: int) -> npt.NDArray[np.float32]:
    """[frames, n_mels] float32: the log-mel the recognizer computes for the clip at `path`."""
    from qasr.adapters.audio import load_audio
    from qasr.training.batches import clip_samples

    return np.ascontiguousarray(numpy_log_mel(clip_samples(load_audio(path)), n_mels))


def _features_of(job: tuple[str, int]) -> npt.NDArray[np.float32]:
    return clip_features(Path(job[0]), job[1])


@attrs.frozen(eq=False)
class FeatureCache:
    """The cached log-mels of a list of clips: `mel(i)` is clip i's [n_mels, frames]."""

    folder: Path
    frames: npt.NDArray[np.int64]  # [N]
    offsets: npt.NDArray[np.int64]  # [N] first row of each clip in `rows`
    rows: npt.NDArray[np.float32]  # [total frames, n_mels], memory-mapped read-only

    @property
    def n_mels(self) -> int:
        return int(self.rows.shape[1])

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def mel(self, index: int) -> npt.NDArray[np.float32]:
        first = int(self.offsets[index])
        return np.asarray(self.rows[first : first + int(self.frames[index])]).T

    @classmethod
    def in_memory(cls, mels: Sequence[npt.NDArray[np.float32]]) -> FeatureCache:
        """A cache of already computed [n_mels, frames] mels, not written anywhere."""
        frames = np.array([mel.shape[1] for mel in mels], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(frames)[:-1]]).astype(np.int64)
        rows = np.concatenate([np.asarray(mel, dtype=np.float32).T for mel in mels])
        return cls(folder=Path(), frames=frames, offsets=offsets, rows=rows)

    @classmethod
    def open(cls, folder: Path) -> FeatureCache:
        index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
        frames = np.asarray(index["frames"], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(frames)[:-1]]).astype(np.int64)
        shape = (int(frames.sum()), int(index["n_mels"]))
        rows = np.memmap(folder / MELS, dtype=np.float32, mode="r", shape=shape)
        return cls(folder=folder, frames=frames, offsets=offsets, rows=rows)

    @classmethod
    def build(
        cls,
        root: Path,
        examples: Sequence[Example],
        n_mels: int,
        *,
        jobs: int | None = None,
        on_progress: ProgressSink | None = None,
    ) -> FeatureCache:
        """The cache of `examples` under `root`: opened if it exists, else computed first."""
        if not examples:
            raise InvalidInputError("no clips to compute features of")
        folder = root / cache_key(examples, n_mels)
        if (folder / INDEX).is_file():
            return cls.open(folder)
        report = on_progress or (lambda line: None)
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=root))
        try:
            frames = _write_rows(staging / MELS, examples, n_mels, jobs, report)
            index = {
                "version": FORMAT_VERSION,
                "n_mels": n_mels,
                "frames": frames,
                "clips": [str(example.audio) for example in examples],
            }
            (staging / INDEX).write_text(json.dumps(index) + "\n", encoding="utf-8")
            if folder.exists():  # another process finished the same cache first
                shutil.rmtree(staging)
            else:
                os.rename(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return cls.open(folder)


def _write_rows(
    target: Path,
    examples: Sequence[Example],
    n_mels: int,
    jobs: int | None,
    report: ProgressSink,
) -> list[int]:
    todo = [(str(example.audio), n_mels) for example in examples]
    workers = min(jobs or os.cpu_count() or 1, max(len(todo) // 64, 1))
    frames: list[int] = []
    step = max(len(todo) // 10, 1)
    with target.open("wb") as out:

        def keep(mel: npt.NDArray[np.float32]) -> None:
            out.write(mel.tobytes())
            frames.append(int(mel.shape[0]))
            if len(frames) % step == 0 or len(frames) == len(todo):
                report(f"features: {len(frames)}/{len(todo)} clips")

        if workers <= 1:
            for job in todo:
                keep(_features_of(job))
        else:
            # spawn, not fork: a forked MLX process can deadlock on its parent's thread pools.
            # One BLAS thread per worker: the workers already use every core.
            saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
            os.environ.update(dict.fromkeys(_THREAD_VARIABLES, "1"))
            try:
                with ProcessPoolExecutor(workers, get_context("spawn")) as pool:
                    for mel in pool.map(_features_of, todo, chunksize=32):
                        keep(mel)
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
    return frames


def default_cache_root(manifest: Path) -> Path:
    """Where `qasr train` keeps the features of a manifest's clips unless told otherwise."""
    return manifest.resolve().parent / ".qasr-features"


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m qasr.training.features train.jsonl`: fill the cache `qasr train` will read
    (by default next to the manifest) ahead of training, e.g. on all cores of a GPU machine."""
    import argparse
    import sys

    from qasr.training.manifest import read_manifest

    parser = argparse.ArgumentParser(
        prog="python -m qasr.training.features", description=main.__doc__
    )
    parser.add_argument("manifests", nargs="+", type=Path)
    parser.add_argument("--cache", type=Path, help="cache folder (default: next to each manifest)")
    parser.add_argument("--n-mels", type=int, default=128)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    for manifest in args.manifests:
        examples = read_manifest(manifest)
        cache = FeatureCache.build(
            args.cache or default_cache_root(manifest),
            examples,
            args.n_mels,
            jobs=args.jobs,
            on_progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
        print(f"{manifest}: {len(cache)} clips, {int(cache.frames.sum())} frames in {cache.folder}")
    return 0


__all__ = [
    "FeatureCache",
    "cache_key",
    "clip_features",
    "default_cache_root",
    "main",
    "numpy_log_mel",
]


if __name__ == "__main__":
    raise SystemExit(main())
