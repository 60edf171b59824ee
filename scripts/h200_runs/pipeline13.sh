# Session 12, second lease: with nothing else on the GPU this time (the first lease's 10 s clip
# runs overlapped a test run), the 10 s clip end to end fused and plain beside the official
# model, the decode step again, then the parity suite on CUDA (official stand-ins: official_stubs.sh).
source /tmp/h200/env.sh
cd $R
set -x
timeout 200 python3 scripts/bench.py --sizes 0.6b --clips 10 --dtypes bfloat16 --batch-sizes 1,8 \
  --tokens 32 --repeats 5 --tokenizer $W/tok --out $O/h200-0.6b-bf16-fused.json > $W/bench.log 2>&1
echo "bench $?" >> $W/steps
QASR_FUSED_DECODE=0 timeout 150 python3 scripts/bench.py --sizes 0.6b --clips 10 --dtypes bfloat16 \
  --batch-sizes 1,8 --tokens 32 --repeats 5 --no-official --tokenizer $W/tok \
  --out $O/h200-0.6b-bf16-plain.json >> $W/bench.log 2>&1
echo "bench0 $?" >> $W/steps
timeout 200 python3 scripts/bench_decode_step.py --dtype bfloat16 --batch-sizes 1,128 \
  --prompt 450 --padding 7 --tokens 32 --rounds 7 --fused both \
  --out $O/decode-step-fused-h200-b.json > $W/step.log 2>&1; echo "step $?" >> $W/steps
PYTHONPATH=$PYTHONPATH:/tmp/stubs MLX_ENABLE_TF32=0 timeout 400 python3 -m pytest -q \
  -p no:cacheprovider tests/parity > $W/parity.log 2>&1; echo "parity $?" >> $W/steps
touch $W/all.done
