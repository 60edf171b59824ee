# later calls: wait up to $1 seconds (or until all steps end) and show progress; with "collect",
# copy the results and the logs' tails to $OUT
source /tmp/h200/env.sh
end=$(( $(date +%s) + $1 ))
while [ $(date +%s) -lt $end ] && [ ! -f $W/all.done ]; do sleep 5; done
date; cat $W/steps 2>/dev/null; ls $O
for f in serve batch ray stream step; do [ -f $W/$f.log ] && { echo "== $f"; tail -c 1500 $W/$f.log; }; done
if [ "$2" = collect ]; then
  cp $O/*.json $OUT/ 2>/dev/null
  for f in steps pipeline.log serve.log batch.log ray.log stream.log step.log; do
    echo "===== $f"; tail -c 12000 $W/$f 2>/dev/null; done > $OUT/logs.txt
  ls -la $OUT
fi
