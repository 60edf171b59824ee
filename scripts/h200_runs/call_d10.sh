# session 10, call D (carry .whl, .devcarry/tok): the official model's wheels (transformers
# 4.57.6, qwen-asr, tokenizers 0.22, huggingface-hub 0.36, ffmpeg-python) and the tokenizer
# files; then pipeline10.sh in the background, watched for $1 seconds
set -e
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
source /tmp/h200/env.sh
rm -rf $W/tok && cp -r .devcarry/tok $W/tok
cd $R && python3 -c "import transformers; print('transformers', transformers.__version__)"
setsid nohup bash $W/pipeline10.sh > $W/pipeline.log 2>&1 < /dev/null &
sleep 2; echo started
bash $W/watch.sh "${1:-400}"
