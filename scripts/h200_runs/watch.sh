# later calls: wait up to $1 seconds (or until all steps end) and show progress; with "collect",
# pack the results and the logs' tails into $OUT (two files: the device returns at most eight)
source /tmp/h200/env.sh
end=$(( $(date +%s) + $1 ))
while [ $(date +%s) -lt $end ] && [ ! -f $W/all.done ]; do sleep 5; done
date; cat $W/steps 2>/dev/null; ls $O
for f in serve batch ray long break stream bench bench17 aligner step gelu mel; do
  [ -f $W/$f.log ] && { echo "== $f"; tail -c 1200 $W/$f.log; }; done
if [ "$2" = collect ]; then
  for f in steps pipeline.log serve.log batch.log ray.log long.log break.log stream.log bench.log \
      aligner.log step.log gelu.log bench17.log mel.log; do
    echo "===== $f"; tail -c 12000 $W/$f 2>/dev/null; done > $O/logs.txt
  tar -czf $OUT/h200-results.tar.gz -C $O .
  ls -la $OUT
fi
