# run 3 (session 6), in the background: a 2.5x larger corpus (120,000 clips, seed 0: the same
# held-out splits, the first 48,000 clips those of runs 1-2), features, the float start from the
# shipped 4-bit tiny-en (`tiny_en.py warm`), then a warm restart with SpecAugment masks at run 2's
# fastest step (--compile update, batch 128), sized to the time left.
source /tmp/tiny/env.sh
cd $W
set -x
t0=$(date +%s)
echo "update 128 (run 2's fastest probe, 9.68 steps/s)" > $W/chosen
echo run3 > $W/run_name
python3 -m qasr.training.synth $C --train 120000 --valid 200 --test 1000 --seed 0 --english everyday --jobs 16 > $W/synth.log 2>&1
python3 -m qasr.training.features $C/train.jsonl --jobs 16 | tail -1
python3 $W/tiny_en.py warm $W/start --from $W/src/qasr/models/tiny-en
t1=$(date +%s)
echo "corpus+features+start $((t1-t0)) s" > $W/corpus.done
budget=$(( $(cat $W/train_seconds) - (t1 - t0) ))
# 90% of run 2's rate: validation of 200 clips, checkpoints and the masks cost the rest
steps=$(python3 -c "print(int(9.68 * $budget * 0.90 / 100) * 100)")
echo "budget $budget s -> steps $steps" | tee $W/plan.txt
python3 -m qasr train --model $W/start --data $C/train.jsonl --valid $C/valid.jsonl --output $W/run3 \
  --steps $steps --batch-size 128 --lr 6e-4 --warmup-steps 300 --ctc-weight 0.5 --eval-every 1000 \
  --save-every 500 --eval-clips 200 --pad-chunks 4 --log-every 100 --compile update \
  --time-masks 1 --time-mask-width 20 --freq-masks 2 --freq-mask-width 20 \
  --time-limit $budget 2>&1 | grep --line-buffered -v "qasr: features" > $W/train.log
echo done > $W/train.done
