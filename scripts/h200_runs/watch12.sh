# Session 12's later calls: wait up to $1 seconds (or until all steps end), show each log's tail;
# with "collect", pack the results and logs into $OUT (the device returns at most eight files)
source /tmp/h200/env.sh
end=$(( $(date +%s) + $1 ))
while [ $(date +%s) -lt $end ] && [ ! -f $W/all.done ]; do sleep 5; done
date; cat $W/steps 2>/dev/null; ls $O
for f in $W/*.log; do echo "== $f"; tail -c 1000 $f; done
if [ "$2" = collect ]; then
  for f in $W/steps $W/*.log; do echo "===== $f"; tail -c 20000 $f 2>/dev/null; done > $O/logs.txt
  tar -czf $OUT/h200-results.tar.gz -C $O .
  ls -la $OUT
fi
