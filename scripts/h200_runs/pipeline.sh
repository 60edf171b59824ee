# The H200 measurements of session 5, one after another, each bounded; results in $O.
source /tmp/h200/env.sh
cd $R
set -x
nvidia-smi -L > $O/gpu.txt
# issue 13: what batching across requests buys at full size (random 0.6B, bfloat16)
timeout 480 python3 scripts/serve_load.py --model 0.6b --batch-size 64 --max-queue 128 \
  --concurrency 1,8,32,64 --allow-text-variation --time-limit 450 \
  --out $O/serve-load-h200.json > $W/serve.log 2>&1; echo "serve $?" >> $W/steps
# issue 17: qasr batch vs the plain CLI loop, 100 files of 20 s, ~3.5 tokens per second of audio
timeout 900 python3 scripts/batch_bench.py --size 0.6b --files 100 --seconds 20 --tokens 70 \
  --batch-size 64 --modes batch,cli-loop --out $O/batch-h200.json > $W/batch.log 2>&1
echo "batch $?" >> $W/steps
# issue 18 on one GPU: 1 vs 2 Ray actors (sharing it), 1-hour files, 105 tokens per 30 s chunk
timeout 600 python3 scripts/batch_bench.py --size 0.6b --files 8 --seconds 3600 --tokens 105 \
  --batch-size 64 --modes batch,ray-1,ray-2 --files-per-task 1 \
  --out $O/batch-ray-1gpu-h200.json > $W/ray.log 2>&1; echo "ray $?" >> $W/steps
# issue 15: streaming speed of the real 0.6B shapes (random weights: speed only)
timeout 420 python3 scripts/streaming_eval.py --model 0.6b --speed-only --stream-minutes 3 \
  --steps 1,2 --tokens-per-second 3.5 --out $O/streaming-h200.json > $W/stream.log 2>&1
echo "stream $?" >> $W/steps
# issue 16: the decode step (dynamic, static, compiled) and its kernel counts at full size
timeout 300 python3 scripts/bench_decode_step.py --batch-sizes 1,64 --tokens 32 --rounds 5 \
  --out $O/decode-step-h200.json > $W/step.log 2>&1; echo "step $?" >> $W/steps
timeout 120 python3 scripts/count_kernels.py --batch-sizes 1,64 \
  --out $O/decode-kernels-h200.json >> $W/step.log 2>&1; echo "kernels $?" >> $W/steps
touch $W/all.done
