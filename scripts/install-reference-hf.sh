#!/usr/bin/env bash
# Install transformers' own Qwen3-ASR (the `-hf` checkpoint layout's reference) into .venv-hf/.
# It needs transformers 5, while qwen-asr pins 4.57.6, so it cannot share the system environment;
# tests/parity_hf runs it in a subprocess with .venv-hf/bin/python (docs/adr/0010).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv-hf

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
pip_install() { "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@"; }
# The CPU build of torch: `2.13.0+cpu` sorts above PyPI's CUDA `2.13.0`, so pip picks the CPU
# wheel wherever one is reachable (find-links on this machine's disk, or the PyTorch CPU index).
pip_install torch==2.13.0
# librosa/soundfile are not imported by the Qwen3-ASR feature extractor (it computes the mel in
# numpy/torch), so the processor needs only tokenizers, which transformers brings.
pip_install transformers==5.23.0 numpy safetensors

"$VENV/bin/python" - <<'EOF'
import torch
import transformers

assert torch.version.cuda is None, f"expected the CPU torch build, got CUDA {torch.version.cuda}"
assert transformers.__version__ == "5.23.0", transformers.__version__
from transformers import Qwen3ASRConfig, Qwen3ASRForConditionalGeneration  # noqa: F401

print(f".venv-hf: torch {torch.__version__}, transformers {transformers.__version__}")
EOF
