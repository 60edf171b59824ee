"""The one module that imports MLX, so a fast BLAS is always loaded first on Linux CPUs.

Every other module takes `mx`, `nn`, `optim` and the tree helpers from here (an import-linter
contract forbids `import mlx` anywhere else); importing MLX elsewhere first would silently skip
the preload below.

MLX's Linux CPU wheel falls back to the reference BLAS, ~30x slower than OpenBLAS for float32
matmul (docs/adr/0006-cpu-blas.md). Loading a BLAS with RTLD_GLOBAL before `import mlx` makes
MLX's `sgemm` calls resolve to it: Intel's MKL when its wheel is installed (the `cpu` extra on
x86-64 Linux), because MLX sends a decode step's matrix-vector products to `sgemm` with one row
and MKL serves those at ~2x OpenBLAS's bandwidth; else the system's OpenBLAS. `QASR_BLAS` names
another library (a path), or the one to prefer (`mkl`, `openblas`); `QASR_BLAS=none` opts out.
"""

from __future__ import annotations

import ctypes
import os
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from qasr.errors import InvalidInputError, MissingExtraError

_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
    "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
    "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
    "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
    "/usr/lib64/libopenblas.so.0",
)


def _installed_mkl() -> str | None:
    """libmkl_rt from the `mkl` wheel, if it is installed."""
    try:
        mkl = distribution("mkl")
    except PackageNotFoundError:
        return None
    for file in mkl.files or []:
        if file.name.startswith("libmkl_rt.so"):
            return str(Path(str(mkl.locate_file(file))).resolve())
    return None


def _mkl_threading() -> None:
    """MKL's OpenMP layer: GNU's libgomp where it loads (no second OpenMP runtime beside the
    one torch and others bring), else one thread. A layer the user set is kept."""
    if "MKL_THREADING_LAYER" in os.environ:
        return
    try:
        ctypes.CDLL("libgomp.so.1")
        os.environ["MKL_THREADING_LAYER"] = "GNU"
    except OSError:
        os.environ["MKL_THREADING_LAYER"] = "SEQUENTIAL"


def blas_candidates(choice: str) -> tuple[str | None, ...]:
    """The libraries to try, in order, for a QASR_BLAS value: a path alone; `mkl` or `openblas`
    first and the other after; nothing for `none`; MKL, then OpenBLAS, when unset."""
    preference = choice.lower()
    if preference == "none":
        return ()
    if preference not in ("", "mkl", "openblas"):
        return (choice,)  # a path: the wheel's metadata need not be read
    mkl = _installed_mkl()
    return (*_CANDIDATES, mkl) if preference == "openblas" else (mkl, *_CANDIDATES)


def _preload_blas() -> str | None:
    if not sys.platform.startswith("linux") or "mlx.core" in sys.modules:
        return None
    for path in blas_candidates(os.environ.get("QASR_BLAS", "")):
        if path and Path(path).exists():
            if "mkl" in Path(path).name:
                _mkl_threading()
            ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            return path
    return None


BLAS_PATH = _preload_blas()

try:
    import mlx.core as mx
    import mlx.nn as nn
    import mlx.optimizers as optim
    from mlx.utils import tree_flatten, tree_map, tree_reduce, tree_unflatten
except ImportError as error:  # pragma: no cover - depends on the install
    raise MissingExtraError("mlx", "cpu", "The MLX backend") from error


# The float dtypes a checkpoint is run or written in, by the names config.json and --dtype use.
DTYPES = {"float32": mx.float32, "bfloat16": mx.bfloat16, "float16": mx.float16}


def parse_dtype(name: str | None) -> mx.Dtype | None:
    """`--dtype` / `dtype=` (also fp32, bf16) as an MLX dtype; None stays None (the default)."""
    if name is None:
        return None
    try:
        return DTYPES[name.lower().replace("fp32", "float32").replace("bf16", "bfloat16")]
    except KeyError:
        raise InvalidInputError(
            f"unknown dtype {name!r}; choose one of {', '.join(DTYPES)}"
        ) from None


def dtype_name(dtype: mx.Dtype) -> str:
    """The config.json name of an MLX dtype (`mx.bfloat16` -> "bfloat16")."""
    return str(dtype).removeprefix("mlx.core.")


def default_dtype() -> mx.Dtype:
    """float32 on CPU (MLX's CPU half-precision matmul is very slow), bfloat16 on a GPU."""
    return mx.float32 if mx.default_device() == mx.cpu else mx.bfloat16


__all__ = [
    "BLAS_PATH",
    "DTYPES",
    "default_dtype",
    "dtype_name",
    "mx",
    "nn",
    "optim",
    "parse_dtype",
    "tree_flatten",
    "tree_map",
    "tree_reduce",
    "tree_unflatten",
]
