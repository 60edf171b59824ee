# later calls: wait up to $1 seconds (or until training ends), show progress; with "collect",
# copy the newest checkpoint's weights and state and the logs to $OUT
source /tmp/tiny/env.sh
end=$(( $(date +%s) + $1 ))
while [ $(date +%s) -lt $end ] && [ ! -f $W/train.done ]; do sleep 10; done
cat $W/plan.txt 2>/dev/null; cat $W/corpus.done 2>/dev/null; grep -v "^+" $W/pipeline.log | tail -3
grep validation $W/train.log; tail -3 $W/train.log
if [ "$2" = collect ]; then
  last=$(ls -d $W/run2/checkpoints/step-* 2>/dev/null | sort | tail -1)
  echo "latest: $last"
  [ -n "$last" ] && cp $last/trainable-* $last/trainer_state.json $OUT/
  cp $W/train.log $W/probes.txt $W/plan.txt $OUT/ 2>/dev/null
  ls -la $OUT
fi
