"""The MLX backend: Qwen3-ASR and the forced aligner. Import `backend` first for the BLAS preload."""

from qasr.adapters.mlx import backend as _backend  # noqa: F401  (loads OpenBLAS before mlx)
