# Session 12, call C of each lease (carry .whl), after call A (.devcarry/p1/recv.sh) and call B
# (call_b7.sh): the official model's wheels and pytest/hypothesis, the tokenizer files from the
# bundled demo model, a fresh copy of the code (this call may carry fixes), the official model's
# stand-ins (official_stubs.sh; only a PYTHONPATH that names /tmp/stubs sees them), with
# GPU_TESTS=1 the fused-kernel tests on CUDA in this call (so their result shows at once), then
# the pipeline $1 in the background, watched for $2 seconds. As run (three scripts then, one now;
# lease 1's had no stand-ins yet and kept 40 lines of the test output):
#   lease 1: GPU_TESTS=1 bash scripts/h200_runs/call_c12.sh pipeline12.sh 200
#   lease 2: GPU_TESTS=1 bash scripts/h200_runs/call_c12.sh pipeline13.sh 420
#   lease 3: bash scripts/h200_runs/call_c12.sh pipeline14.sh 420
set -e
pipeline="${1:?usage: call_c12.sh PIPELINE.sh [SECONDS]}"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
source /tmp/h200/env.sh
mkdir -p $W/tok && cp src/qasr/models/tiny-en/{vocab.json,merges.txt,tokenizer_config.json} $W/tok/
rm -rf $R/src $R/tests $R/scripts && cp -r src tests scripts $R/ && cp scripts/h200_runs/*.sh $W/
bash scripts/h200_runs/official_stubs.sh
cd $R
if [ "${GPU_TESTS:-0}" = 1 ]; then
  MLX_ENABLE_TF32=0 timeout 300 python3 -m pytest -q -p no:cacheprovider tests/gpu \
    tests/adapters/mlx/model/test_fused_decoder.py 2>&1 | tail -25 | tee $W/gputests.log
fi
setsid nohup bash "$W/$pipeline" > $W/pipeline.log 2>&1 < /dev/null &
sleep 2; echo started
bash $W/watch12.sh "${2:-300}"
