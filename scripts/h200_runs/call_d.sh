# Call D of any session (carry .whl, .devcarry/tok): the official model's wheels (transformers
# 4.57.6, qwen-asr, tokenizers 0.22, huggingface-hub 0.36, ffmpeg-python) and the tokenizer
# files; then the pipeline $1 (a script in scripts/h200_runs, copied to $W by call B) in the
# background, watched for $2 seconds. The numbered call_d*.sh before it are the same with the
# pipeline written in.
set -e
pipeline="${1:?usage: call_d.sh PIPELINE.sh [SECONDS]}"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
source /tmp/h200/env.sh
rm -rf $W/tok && cp -r .devcarry/tok $W/tok
cd $R && python3 -c "import transformers; print('transformers', transformers.__version__)"
setsid nohup bash "$W/$pipeline" > $W/pipeline.log 2>&1 < /dev/null &
sleep 2; echo started
bash $W/watch.sh "${2:-400}"
