# The official qwen_asr package imports nagisa, soynlp, librosa and soundfile at the top of
# modules the parity tests do not use (Japanese/Korean word splitting, file loading); none of
# them has a wheel the GPU machine can take. Stand-ins that fail on first use let `import
# qwen_asr` succeed, so a test that did use one would fail loudly, not pass.
mkdir -p /tmp/stubs
for name in nagisa soynlp librosa soundfile; do
  mkdir -p /tmp/stubs/$name
  cat > /tmp/stubs/$name/__init__.py <<PY
def __getattr__(attribute):
    raise ImportError("$name is a stand-in on the GPU machine (scripts/h200_runs/official_stubs.sh)")
PY
done
