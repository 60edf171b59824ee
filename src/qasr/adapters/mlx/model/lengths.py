"""How many audio tokens the encoder makes from a number of log-mel frames: the one formula.

Pure Python, so checkpoint code (layout conversion) and training batches use it without MLX.
"""

from __future__ import annotations

from qasr.errors import InvalidInputError


def conv_output_length(length: int) -> int:
    """Frames (or mel bins) left after the conv stem: three convolutions with kernel 3, stride 2,
    padding 1, each halving the length, rounding up."""
    for _ in range(3):
        length = (length - 1) // 2 + 1
    return length


def tokens_per_chunk(n_window: int) -> int:
    """Audio tokens of one whole encoder chunk (`2 * n_window` mel frames): 13 for n_window 50."""
    return conv_output_length(2 * n_window)


def audio_token_count(mel_frames: int, n_window: int = 50) -> int:
    """Audio tokens the encoder makes from `mel_frames` log-mel frames.

    Equals the official `_get_feat_extract_output_lengths`, which hard-codes the real
    checkpoints' 100-frame chunks (n_window 50): 13 tokens per full chunk plus the tail's.
    """
    if mel_frames < 0:
        raise InvalidInputError(f"mel_frames must be >= 0, got {mel_frames}")
    full_chunks, tail_frames = divmod(mel_frames, 2 * n_window)
    return full_chunks * tokens_per_chunk(n_window) + conv_output_length(tail_frames)


__all__ = ["audio_token_count", "conv_output_length", "tokens_per_chunk"]
