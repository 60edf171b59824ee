# later calls: wait up to $1 seconds (or until training ends), show progress; with "collect",
# copy the newest checkpoint's weights and state and the logs to $OUT
source /tmp/tiny/env.sh
end=$(( $(date +%s) + $1 ))
while [ $(date +%s) -lt $end ] && [ ! -f $W/train.done ]; do sleep 10; done
cat $W/plan.txt 2>/dev/null; cat $W/corpus.done 2>/dev/null; grep -v "^+" $W/pipeline.log | tail -3
grep validation $W/train.log; tail -3 $W/train.log
if [ "$2" = collect ]; then
  run=$W/$(cat $W/run_name 2>/dev/null || echo run2)
  last=$(ls -d $run/checkpoints/step-* 2>/dev/null | sort | tail -1)
  echo "latest: $last"
  [ -n "$last" ] && cp $last/trainable-* $last/trainer_state.json $OUT/
  # run 3 also brings the checkpoint of the best validation WER, when it is not the latest
  best=$(python3 - $W/train.log <<'PY'
import re, sys
scores = [(float(m[2]), -int(m[1])) for m in re.finditer(r"step (\d+)  validation loss \S+  WER ([\d.]+)%", open(sys.argv[1]).read())]
print(f"step-{-min(scores)[1]:06d}" if scores else "")
PY
)
  echo "best validation: $best"
  if [ -f $W/run_name ] && [ -n "$best" ] && [ "$run/checkpoints/$best" != "$last" ] && [ -d $run/checkpoints/$best ]; then
    mkdir -p $OUT/best && cp $run/checkpoints/$best/trainable-* $run/checkpoints/$best/trainer_state.json $OUT/best/
  fi
  cp $W/train.log $W/probes.txt $W/plan.txt $OUT/ 2>/dev/null
  ls -la $OUT
fi
