# Session 12, call C (carry .whl): the official model's wheels and pytest/hypothesis, the
# tokenizer files from the bundled demo model, the fused-kernel tests on CUDA (in this call,
# so their result shows at once), then pipeline12.sh in the background, watched for $1 seconds.
set -e
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
source /tmp/h200/env.sh
mkdir -p $W/tok && cp src/qasr/models/tiny-en/{vocab.json,merges.txt,tokenizer_config.json} $W/tok/
# a fresh copy of the code (call B froze the same tree; this call may carry fixes)
rm -rf $R/src $R/tests $R/scripts && cp -r src tests scripts $R/ && cp scripts/h200_runs/*.sh $W/
cd $R
MLX_ENABLE_TF32=0 timeout 300 python3 -m pytest -q -p no:cacheprovider tests/gpu \
  tests/adapters/mlx/model/test_fused_decoder.py 2>&1 | tail -40 | tee $W/gputests.log
setsid nohup bash "$W/pipeline12.sh" > $W/pipeline.log 2>&1 < /dev/null &
sleep 2; echo started
bash $W/watch12.sh "${1:-300}"
