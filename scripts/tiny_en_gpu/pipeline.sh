# background: corpus (nice) || probes on a small corpus; then features, export, training
source /tmp/tiny/env.sh
cd $W
set -x
t0=$(date +%s)
( nice -n 10 python3 -m qasr.training.synth $C --train 48000 --valid 200 --test 1000 --seed 0 --english everyday --jobs 15 > $W/synth.log 2>&1; echo $? > $W/synth.rc ) &
python3 -m qasr.training.synth $W/small --train 1024 --valid 16 --test 0 --seed 1 --english everyday --jobs 1 > /dev/null 2>&1
python3 $W/tiny_en.py init $W/small-init --corpus $W/small --tokenizer $W/tok --size tiny-en
python3 -m qasr.training.features $W/small/train.jsonl --jobs 1 | tail -1
: > $W/probes.txt
for probe in "none 64" "update 64" "none 128" "update 128"; do
  set -- $probe
  if [ "$1" = update ] && grep -q "^update 64 0 " $W/probes.txt; then continue; fi
  timeout 120 python3 $W/tiny_en.py bench --model $W/small-init --data $W/small/train.jsonl --batch-size $2 --pad-chunks 4 --steps 120 --compile $1 --label nvidia-h200 --work $W/bw --out $W/bench-$1-$2.json > $W/bench-$1-$2.log 2>&1
  python3 - "$1" "$2" >> $W/probes.txt <<'PY'
import json, sys
mode, batch = sys.argv[1], int(sys.argv[2])
try:
    d = json.load(open(f"/tmp/tiny/bench-{mode}-{batch}.json"))
    sps = d["fast"]["steps_per_second"]
    print(mode, batch, round(sps, 2), round(sps * batch, 1))
except Exception as e:
    print(mode, batch, 0, 0, "failed", type(e).__name__)
PY
done
# the fastest in clips per second
sort -k4 -g -r $W/probes.txt | head -1 > $W/chosen
wait
t1=$(date +%s)
nice -n 5 python3 -m qasr.training.features $C/train.jsonl --jobs 16 | tail -1
python3 $W/tiny_en.py init $W/tiny-en-init --corpus $C --tokenizer $W/tok
python3 $W/tiny_en.py export $W/ckpt $W/start --base $W/tiny-en-init
t2=$(date +%s)
echo "corpus+probes $((t1-t0)) s, features+init+export $((t2-t1)) s" > $W/corpus.done
read mode batch sps cps rest < $W/chosen
budget=$(( $(cat $W/train_seconds) - (t2 - t0) ))
# the schedule fits the time: 92% of the probe's rate (validation and checkpoints cost the rest)
steps=$(python3 -c "print(int($sps * $budget * 0.92 / 100) * 100)")
lr=$(python3 -c "print(7e-4 if $batch <= 64 else 1e-3)")
echo "mode $mode batch $batch rate $sps budget $budget s -> steps $steps lr $lr" | tee $W/plan.txt
python3 -m qasr train --model $W/start --data $C/train.jsonl --valid $C/valid.jsonl --output $W/run2 \
  --steps $steps --batch-size $batch --lr $lr --warmup-steps 300 --ctc-weight 0.5 --eval-every 1500 \
  --save-every 500 --eval-clips 64 --pad-chunks 4 --log-every 100 --compile $mode \
  --time-limit $budget 2>&1 | grep --line-buffered -v "qasr: features" > $W/train.log
echo done > $W/train.done
