# session 7, call D (carry .whl): the official model's wheels (transformers 4.57.6, qwen-asr,
# tokenizers 0.22, huggingface-hub 0.36) and Ray's jsonschema; then pipeline7.sh in the background
set -e
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
source /tmp/h200/env.sh
cd $R && python3 -c "import ray, transformers; print('ray', ray.__version__, 'transformers', transformers.__version__)"
setsid nohup bash $W/pipeline7.sh > $W/pipeline.log 2>&1 < /dev/null &
sleep 2; echo started
bash $W/watch.sh "${1:-400}"
