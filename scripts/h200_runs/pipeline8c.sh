# Session 8, third round: the aligner bench, then qasr vs official on the hour again with the
# banded log-mel (one batch of all 132 chunks on both sides).
source /tmp/h200/env.sh
cd $R
set -x
timeout 240 python3 scripts/bench_aligner.py --clips 5,15,30 --repeats 3 \
  --out $O/aligner-h200.json > $W/aligner.log 2>&1; echo "aligner $?" >> $W/steps
timeout 300 python3 scripts/bench.py --sizes 0.6b --clips 3600 --dtypes bfloat16 \
  --batch-sizes 256 --tokens 105 --repeats 1 --tokenizer $W/tok \
  --out $O/h200-0.6b-bf16-1h.json > $W/bench.log 2>&1; echo "bench $?" >> $W/steps
touch $W/all.done
