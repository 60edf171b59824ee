# Session 12: the fused decode kernels (cuda_decode_kernels.py) on the H200. The decode step with
# and without them, turn by turn in one process (batch 1 unpadded; 8, 64, 128 with left padding,
# so the masked path runs); kernels per step; the 10 s clip and the hour end to end, fused and
# plain; then the parity suite on CUDA (the erf GELU and the fused step against the official model).
source /tmp/h200/env.sh
cd $R
set -x
timeout 300 python3 scripts/bench_decode_step.py --dtype bfloat16 --batch-sizes 1,8,64,128 \
  --prompt 450 --padding 7 --tokens 32 --rounds 5 --fused both \
  --out $O/decode-step-fused-h200.json > $W/step.log 2>&1; echo "step $?" >> $W/steps
for mode in 1 0; do
  QASR_FUSED_DECODE=$mode timeout 120 python3 scripts/count_kernels.py --dtype bfloat16 \
    --batch-sizes 1,64 --label fused$mode --out $O/decode-kernels-fused-h200.json >> $W/kernels.log 2>&1
  echo "kernels$mode $?" >> $W/steps
done
for mode in 1 0 1 0; do
  QASR_FUSED_DECODE=$mode timeout 150 python3 scripts/longform_profile.py --seconds 3600 --batch-size 0 \
    --tokens 105 --dtype bfloat16 --out $O/longform-profile-h200-fused$mode-$RANDOM.json >> $W/long.log 2>&1
  echo "long$mode $?" >> $W/steps
done
timeout 240 python3 scripts/bench.py --sizes 0.6b --clips 10 --dtypes bfloat16 --batch-sizes 1,8 \
  --tokens 32 --repeats 3 --tokenizer $W/tok --out $O/h200-0.6b-bf16-fused.json > $W/bench.log 2>&1
echo "bench $?" >> $W/steps
QASR_FUSED_DECODE=0 timeout 150 python3 scripts/bench.py --sizes 0.6b --clips 10 --dtypes bfloat16 \
  --batch-sizes 1,8 --tokens 32 --repeats 3 --no-official --tokenizer $W/tok \
  --out $O/h200-0.6b-bf16-plain.json >> $W/bench.log 2>&1
echo "bench0 $?" >> $W/steps
MLX_ENABLE_TF32=0 timeout 600 python3 -m pytest -q -p no:cacheprovider -x tests/parity \
  > $W/parity.log 2>&1; echo "parity $?" >> $W/steps
touch $W/all.done
