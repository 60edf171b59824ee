"""The MLX backend: Qwen3-ASR and the forced aligner. `backend` is imported first (BLAS preload)."""

from qasr.adapters.mlx import backend as _backend  # noqa: F401  (loads OpenBLAS before mlx)
