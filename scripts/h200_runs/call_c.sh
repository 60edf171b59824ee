# call C (carry .devcarry/ray, .devcarry/tok): Ray core (jars and dashboard pages stripped), the
# tokenizer files; then the measurements start in the background (pipeline.sh)
set -e
source /tmp/h200/env.sh
mkdir -p /tmp/raysite && xz -dc .devcarry/ray/ray.tar.xz | tar -xf - -C /tmp/raysite
# python -m zipfile drops execute bits: Ray starts these programs itself
chmod +x /tmp/raysite/ray/core/src/ray/gcs/gcs_server /tmp/raysite/ray/core/src/ray/raylet/raylet
rm -rf $W/tok && cp -r .devcarry/tok $W/tok
cd $R && python3 -c "import ray; print('ray', ray.__version__)"
setsid nohup bash $W/pipeline.sh > $W/pipeline.log 2>&1 < /dev/null &
sleep 2; echo started
bash $W/watch.sh "${1:-400}"
