# Session 8, second lease round: the log-mel without BLAS threads (mel.py's filter bands), the
# 1-hour profile again, and the aligner bench with its stand-in modules given specs.
source /tmp/h200/env.sh
cd $R
set -x
timeout 240 python3 scripts/longform_profile.py --seconds 3600 --batch-size 0 --tokens 105 \
  --dtype bfloat16 --out $O/longform-profile-h200.json > $W/long.log 2>&1; echo "long $?" >> $W/steps
timeout 420 python3 scripts/bench.py --sizes 0.6b --clips 10,3600 --dtypes bfloat16 \
  --batch-sizes 1,256 --tokens 105 --repeats 1 --tokenizer $W/tok \
  --out $O/h200-0.6b-bf16-1h.json > $W/bench.log 2>&1; echo "bench $?" >> $W/steps
timeout 300 python3 scripts/bench_aligner.py --clips 5,15,30 --repeats 3 \
  --out $O/aligner-h200.json > $W/aligner.log 2>&1; echo "aligner $?" >> $W/steps
touch $W/all.done
