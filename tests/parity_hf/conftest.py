"""The session fixture `hf_reference` (see hf_cases.py): transformers' Qwen3-ASR outputs."""

from tests.parity_hf.hf_cases import hf_reference

__all__ = ["hf_reference"]
