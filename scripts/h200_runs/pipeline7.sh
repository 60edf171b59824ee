# The H200 measurements of session 7 (issues 18, 16, 15), one after another, each bounded by
# `timeout`; every step writes one JSON to $O. Started in the background by call_d7.sh.
source /tmp/h200/env.sh
cd $R
set -x
nvidia-smi -L > $O/gpu.txt; nproc >> $O/gpu.txt; lscpu | grep -i 'model name' >> $O/gpu.txt
# issue 18 on one GPU: 1 vs 2 Ray actors sharing it, 1-hour files, 105 tokens per 30 s chunk
timeout 420 python3 scripts/batch_bench.py --size 0.6b --files 4 --seconds 3600 --tokens 105 \
  --batch-size 64 --modes batch,ray-1,ray-2 --files-per-task 1 \
  --out $O/batch-ray-1gpu-h200.json > $W/ray.log 2>&1; echo "ray $?" >> $W/steps
# issue 16: where a 1-hour recording's time goes, stage by stage (realistic token counts)
timeout 300 python3 scripts/longform_profile.py --seconds 3600 --batch-size 64 --tokens 105 \
  --dtype bfloat16 --out $O/longform-profile-h200.json > $W/long.log 2>&1
echo "long $?" >> $W/steps
# issue 16: a decode step op by op
timeout 300 python3 scripts/decode_breakdown.py --batch-sizes 1,64 --dtype bfloat16 \
  --out $O/decode-breakdown-h200.json > $W/break.log 2>&1; echo "break $?" >> $W/steps
# issue 16: qasr vs the official model side by side (bf16, 10 s and 600 s, batch 1 and 64)
timeout 480 python3 scripts/bench.py --sizes 0.6b --clips 10,600 --dtypes bfloat16 \
  --batch-sizes 1,64 --tokens 32 --repeats 3 --tokenizer $W/tok \
  --out $O/h200-0.6b-bf16.json > $W/bench.log 2>&1; echo "bench $?" >> $W/steps
# issue 15: streaming speed of the real 0.6B shapes (random weights: speed only)
timeout 420 python3 scripts/streaming_eval.py --model 0.6b --dtype bfloat16 --speed-only --stream-minutes 3 \
  --steps 1,2 --tokens-per-second 3.5 --out $O/streaming-h200.json > $W/stream.log 2>&1
echo "stream $?" >> $W/steps
# issue 16: the forced aligner vs the official one
timeout 300 python3 scripts/bench_aligner.py --clips 5,15,30 --repeats 3 \
  --out $O/aligner-h200.json > $W/aligner.log 2>&1; echo "aligner $?" >> $W/steps
# issue 16: dynamic / static / compiled decode steps and their kernel counts
timeout 240 python3 scripts/bench_decode_step.py --dtype bfloat16 --batch-sizes 1,64 \
  --tokens 32 --rounds 5 --out $O/decode-step-h200.json > $W/step.log 2>&1
echo "step $?" >> $W/steps
timeout 120 python3 scripts/count_kernels.py --dtype bfloat16 --batch-sizes 1,64 --label dynamic \
  --out $O/decode-kernels-h200.json >> $W/step.log 2>&1; echo "kernels $?" >> $W/steps
timeout 120 python3 scripts/count_kernels.py --dtype bfloat16 --batch-sizes 1,64 \
  --decode-step compiled --label compiled --out $O/decode-kernels-h200.json >> $W/step.log 2>&1
echo "kernels-compiled $?" >> $W/steps
timeout 120 python3 scripts/gelu_bench.py --out $O/gelu-h200.json > $W/gelu.log 2>&1
echo "gelu $?" >> $W/steps
touch $W/all.done
