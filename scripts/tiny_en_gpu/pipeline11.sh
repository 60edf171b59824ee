# Session 11 (issue 20): the trainer step before and after the CTC gradient and GELU change, in
# one lease: kernels per step (train_step_kernels.py) and steps per second (tiny_en.py bench) at
# batch 64 and 128 with --compile update, then the new code with the whole step compiled.
source /tmp/tiny/env.sh
export PYTHONPATH=/opt/mlxsite:$W/repo/src:$W/site
mkdir -p $W/out && cd $W/repo
set -x
python3 -m qasr.training.synth $W/small --train 4096 --valid 16 --test 0 --seed 1 \
  --english everyday --jobs 16 > $W/synth.log 2>&1
python3 scripts/tiny_en.py init $W/small-init --corpus $W/small --tokenizer $W/tok --size tiny-en
python3 -m qasr.training.features $W/small/train.jsonl --jobs 16 | tail -1
echo "corpus $?" >> $W/steps
for code in new old; do
  src=$W/repo/src; [ $code = old ] && src=$W/old
  export PYTHONPATH=/opt/mlxsite:$src:$W/site
  timeout 120 python3 scripts/train_step_kernels.py --model $W/small-init \
    --data $W/small/train.jsonl --batch-size 64 --out $W/out/kernels-$code.json > $W/out/kernels-$code.log 2>&1
  echo "kernels $code $?" >> $W/steps
  for batch in 64 128; do
    timeout 150 python3 scripts/tiny_en.py bench --model $W/small-init --data $W/small/train.jsonl \
      --batch-size $batch --pad-chunks 4 --steps 300 --compile update --label "nvidia-h200 $code" \
      --work $W/bw --out $W/out/bench-$code-update-$batch.json > $W/out/bench-$code-update-$batch.log 2>&1
    echo "bench $code update $batch $?" >> $W/steps
  done
done
export PYTHONPATH=/opt/mlxsite:$W/repo/src:$W/site
timeout 240 python3 scripts/tiny_en.py bench --model $W/small-init --data $W/small/train.jsonl \
  --batch-size 64 --pad-chunks 4 --steps 300 --compile step --label "nvidia-h200 new" \
  --work $W/bw --out $W/out/bench-new-step-64.json > $W/out/bench-new-step-64.log 2>&1
echo "bench new step 64 $?" >> $W/steps
touch $W/all.done
