# Session 12, third lease, call C (carry .whl): wheels, tokenizer, pipeline14.sh in the
# background, watched for $1 seconds.
set -e
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
source /tmp/h200/env.sh
mkdir -p $W/tok && cp src/qasr/models/tiny-en/{vocab.json,merges.txt,tokenizer_config.json} $W/tok/
rm -rf $R/src $R/tests $R/scripts && cp -r src tests scripts $R/ && cp scripts/h200_runs/*.sh $W/
setsid nohup bash "$W/pipeline14.sh" > $W/pipeline.log 2>&1 < /dev/null &
sleep 2; echo started
bash $W/watch12.sh "${1:-300}"
