# Session 9 (issue 16): session 8's H200 measurements again on the code that lands (its result
# files were lost with the machine), the encoder now taking a batch's clips in groups as their
# log-mels arrive, and two new views: the log-mel's thread scaling on this host and a decode
# step op by op at batch 128. Most important first; each step bounded by `timeout`, one JSON
# each in $O. Started in the background by call_d9.sh.
source /tmp/h200/env.sh
cd $R
set -x
nvidia-smi -L > $O/gpu.txt; nproc >> $O/gpu.txt; lscpu | grep -iE 'model name|^core|^thread|^socket' >> $O/gpu.txt
# where a 1-hour recording's time goes, the recognizer choosing its batch (all 120 chunks)
timeout 240 python3 scripts/longform_profile.py --seconds 3600 --batch-size 0 --tokens 105 \
  --dtype bfloat16 --out $O/longform-profile-h200.json > $W/long.log 2>&1; echo "long $?" >> $W/steps
# qasr vs the official model on the hour, side by side, batches of 64 and 256
timeout 540 python3 scripts/bench.py --sizes 0.6b --clips 3600 --dtypes bfloat16 \
  --batch-sizes 64,256 --tokens 105 --repeats 1 --tokenizer $W/tok \
  --out $O/h200-0.6b-bf16-1h.json > $W/bench.log 2>&1; echo "bench $?" >> $W/steps
# the forced aligner vs the official one (both float32, TF32 off on the official side)
timeout 300 python3 scripts/bench_aligner.py --clips 5,15,30 --repeats 3 \
  --out $O/aligner-h200.json > $W/aligner.log 2>&1; echo "aligner $?" >> $W/steps
# `qasr batch` on two 1-hour files
timeout 300 python3 scripts/batch_bench.py --size 0.6b --files 2 --seconds 3600 --tokens 105 \
  --batch-size 64 --modes batch --files-per-task 1 --out $O/batch-h200-1h.json > $W/batch.log 2>&1
echo "batch $?" >> $W/steps
# the log-mel in 1..16 threads on this host (session 8 saw 66 ms a clip in 16 threads)
timeout 150 python3 scripts/mel_threads.py --clips 64 --threads 1,2,4,8,16 \
  --out $O/mel-threads-h200.json > $W/mel.log 2>&1; echo "mel $?" >> $W/steps
timeout 180 python3 scripts/longform_profile.py --seconds 3600 --batch-size 64 --tokens 105 \
  --dtype bfloat16 --out $O/longform-profile-h200-batch64.json >> $W/long.log 2>&1
echo "long64 $?" >> $W/steps
# a decode step op by op where the hour decodes: batch 128, ~450 cached positions
timeout 200 python3 scripts/decode_breakdown.py --batch-sizes 128 --prompt 450 --copies 50 \
  --dtype bfloat16 --out $O/decode-breakdown-h200-b128.json > $W/break.log 2>&1
echo "break $?" >> $W/steps
# the 1.7B on the same hour, side by side
timeout 480 python3 scripts/bench.py --sizes 1.7b --clips 3600 --dtypes bfloat16 \
  --batch-sizes 256 --tokens 105 --repeats 1 --tokenizer $W/tok \
  --out $O/h200-1.7b-bf16-1h.json > $W/bench17.log 2>&1; echo "bench17 $?" >> $W/steps
touch $W/all.done
