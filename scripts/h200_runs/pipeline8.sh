# The H200 measurements of session 8 (issue 16: long-form throughput, the aligner, `qasr batch`),
# one after another, each bounded by `timeout`; every step writes one JSON to $O. Started in the
# background by call_d8.sh.
source /tmp/h200/env.sh
cd $R
set -x
nvidia-smi -L > $O/gpu.txt; nproc >> $O/gpu.txt; lscpu | grep -i 'model name' >> $O/gpu.txt
# where a 1-hour recording's time goes: the recognizer's own batch size, then batches of 64
timeout 240 python3 scripts/longform_profile.py --seconds 3600 --batch-size 0 --tokens 105 \
  --dtype bfloat16 --out $O/longform-profile-h200.json > $W/long.log 2>&1; echo "long $?" >> $W/steps
timeout 180 python3 scripts/longform_profile.py --seconds 3600 --batch-size 64 --tokens 105 \
  --dtype bfloat16 --out $O/longform-profile-h200-batch64.json >> $W/long.log 2>&1
echo "long64 $?" >> $W/steps
# qasr vs the official model on a 1-hour recording, 105 tokens per chunk, side by side
timeout 540 python3 scripts/bench.py --sizes 0.6b --clips 3600 --dtypes bfloat16 \
  --batch-sizes 64,256 --tokens 105 --repeats 1 --tokenizer $W/tok \
  --out $O/h200-0.6b-bf16-1h.json > $W/bench.log 2>&1; echo "bench $?" >> $W/steps
# the forced aligner vs the official one
timeout 300 python3 scripts/bench_aligner.py --clips 5,15,30 --repeats 3 \
  --out $O/aligner-h200.json > $W/aligner.log 2>&1; echo "aligner $?" >> $W/steps
# `qasr batch` on two 1-hour files (session 7 saw it 2.8x slower than Session.transcribe)
timeout 300 python3 scripts/batch_bench.py --size 0.6b --files 2 --seconds 3600 --tokens 105 \
  --batch-size 64 --modes batch --files-per-task 1 --out $O/batch-h200-1h.json > $W/batch.log 2>&1
echo "batch $?" >> $W/steps
# the 1.7B on the same hour, side by side
timeout 480 python3 scripts/bench.py --sizes 1.7b --clips 3600 --dtypes bfloat16 \
  --batch-sizes 256 --tokens 105 --repeats 1 --tokenizer $W/tok \
  --out $O/h200-1.7b-bf16-1h.json > $W/bench17.log 2>&1; echo "bench17 $?" >> $W/steps
touch $W/all.done
