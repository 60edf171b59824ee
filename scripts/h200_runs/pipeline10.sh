# Session 10: the hour on the code that lands (the STFT chunk chosen by the mel thread count:
# 4096 frames in 16 threads), twice for the run-to-run spread, and `qasr batch` on it.
source /tmp/h200/env.sh
cd $R
set -x
for run in 1 2; do
  timeout 120 python3 scripts/longform_profile.py --seconds 3600 --batch-size 0 --tokens 105 \
    --dtype bfloat16 --out $O/longform-profile-h200-run$run.json >> $W/long.log 2>&1
  echo "long$run $?" >> $W/steps
done
timeout 200 python3 scripts/batch_bench.py --size 0.6b --files 2 --seconds 3600 --tokens 105 \
  --batch-size 0 --modes batch --files-per-task 1 --out $O/batch-h200-1h-auto.json > $W/batch.log 2>&1
echo "batch $?" >> $W/steps
touch $W/all.done
