# Session 11, call B (carry .devcarry/p2, .devcarry/corpus, .devcarry/old): MLX's CUDA build, the
# code frozen under $W/repo, and beside it the code before this session's trainer change (the
# two files it touched, from .devcarry/old), so both are timed in one lease; then pipeline11.sh
# in the background, watched for $1 seconds.
set -e
bash .devcarry/p2/recv.sh
mkdir -p /tmp/tiny && rm -rf /tmp/tiny/repo /tmp/tiny/old /tmp/tiny/site /tmp/tiny/tok
cp -r .devcarry/corpus/site /tmp/tiny/site
cp scripts/tiny_en_gpu/*.sh /tmp/tiny/
source /tmp/tiny/env.sh
mkdir -p $W/repo $W/tok && cp -r src scripts tests pyproject.toml $W/repo/
cp src/qasr/models/tiny-en/{vocab.json,merges.txt,tokenizer_config.json} $W/tok/
cp -r $W/repo/src $W/old
cp .devcarry/old/ctc.py $W/old/qasr/training/ctc.py
cp .devcarry/old/activations.py $W/old/qasr/adapters/mlx/model/activations.py
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader; nproc
setsid nohup bash $W/pipeline11.sh > $W/pipeline.log 2>&1 < /dev/null &
sleep 2; echo started
bash $W/watch11.sh "${1:-300}"
