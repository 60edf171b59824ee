# Session 9, second lease round: the log-mel in 512-frame chunks with its filter sums grouped by
# width (half the single-core time of 4096-frame chunks), its thread scaling by chunk size, the
# hour again (the encoder in groups of 16 as the log-mels arrive, and in one call, for the
# difference), and qasr vs official on the hour at batch 256 side by side.
source /tmp/h200/env.sh
cd $R
set -x
timeout 150 python3 scripts/mel_threads.py --clips 64 --threads 1,4,8,16 \
  --frames-per-chunk 4096,512,256 --out $O/mel-threads-h200.json > $W/mel.log 2>&1
echo "mel $?" >> $W/steps
timeout 200 python3 scripts/longform_profile.py --seconds 3600 --batch-size 0 --tokens 105 \
  --dtype bfloat16 --out $O/longform-profile-h200.json > $W/long.log 2>&1; echo "long $?" >> $W/steps
timeout 200 python3 scripts/longform_profile.py --seconds 3600 --batch-size 0 --tokens 105 \
  --dtype bfloat16 --encode-group 1000 --out $O/longform-profile-h200-one-encode.json \
  >> $W/long.log 2>&1; echo "long1 $?" >> $W/steps
timeout 300 python3 scripts/bench.py --sizes 0.6b --clips 3600 --dtypes bfloat16 \
  --batch-sizes 256 --tokens 105 --repeats 1 --tokenizer $W/tok \
  --out $O/h200-0.6b-bf16-1h-b256.json > $W/bench.log 2>&1; echo "bench $?" >> $W/steps
# `qasr batch` on two 1-hour files, the recognizer choosing its batch (each file alone)
timeout 200 python3 scripts/batch_bench.py --size 0.6b --files 2 --seconds 3600 --tokens 105 \
  --batch-size 0 --modes batch --files-per-task 1 --out $O/batch-h200-1h-auto.json > $W/batch.log 2>&1
echo "batch $?" >> $W/steps
touch $W/all.done
