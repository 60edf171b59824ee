# Session 12, third lease: the hour again with and without the fused decode kernels, two pairs
# alone on the GPU (the first lease's second pair overlapped a test run), then the 1.7B hour
# fused beside the official model, and plain.
source /tmp/h200/env.sh
cd $R
set -x
for mode in 1 0 1 0; do
  QASR_FUSED_DECODE=$mode timeout 100 python3 scripts/longform_profile.py --seconds 3600 --batch-size 0 \
    --tokens 105 --dtype bfloat16 --out $O/longform-profile-h200-fused$mode-$RANDOM.json >> $W/long.log 2>&1
  echo "long$mode $?" >> $W/steps
done
timeout 240 python3 scripts/bench.py --sizes 1.7b --clips 3600 --dtypes bfloat16 --batch-sizes 256 \
  --tokens 105 --repeats 1 --tokenizer $W/tok --out $O/h200-1.7b-bf16-1h-fused.json > $W/bench.log 2>&1
echo "bench17 $?" >> $W/steps
QASR_FUSED_DECODE=0 timeout 120 python3 scripts/bench.py --sizes 1.7b --clips 3600 --dtypes bfloat16 \
  --batch-sizes 256 --tokens 105 --repeats 1 --no-official --tokenizer $W/tok \
  --out $O/h200-1.7b-bf16-1h-plain.json >> $W/bench.log 2>&1
echo "bench17plain $?" >> $W/steps
touch $W/all.done
