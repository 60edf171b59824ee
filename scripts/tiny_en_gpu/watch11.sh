# Session 11's later calls: wait up to $1 seconds (or until pipeline11.sh is done), show the
# step log; with "collect", copy the JSONs and logs to $OUT.
source /tmp/tiny/env.sh
end=$(( $(date +%s) + $1 ))
while [ $(date +%s) -lt $end ] && [ ! -f $W/all.done ]; do sleep 5; done
cat $W/steps 2>/dev/null; grep -v "^+" $W/pipeline.log | tail -4
if [ "$2" = collect ]; then
  cd $W/out && tar -czf $OUT/results.tar.gz . && ls -la $W/out
fi
