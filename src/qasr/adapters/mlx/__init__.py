"""The MLX backend: Qwen3-ASR and the forced aligner as port adapters (`recognizer`, `aligner`).

Subpackages, by concern: `model` (mel, audio encoder, text decoder, MRoPE, KV cache, generation,
the thinker), `checkpoint` (files and hub resolution, config and layout, weight names, reading,
writing, layout conversion, quantize, dequantize, convert) and `text` (tokenizer, prompt and output
parsing, aligner word units; pure Python). Only `backend` imports MLX; importing this package
or `text` / `checkpoint.files` does not.
"""
