# session 7, call C (carry .devcarry/ray, .devcarry/tok): Ray core (jars and dashboard pages
# stripped) and the tokenizer files
set -e
source /tmp/h200/env.sh
mkdir -p /tmp/raysite && xz -dc .devcarry/ray/ray.tar.xz | tar -xf - -C /tmp/raysite
chmod +x /tmp/raysite/ray/core/src/ray/gcs/gcs_server /tmp/raysite/ray/core/src/ray/raylet/raylet
rm -rf $W/tok && cp -r .devcarry/tok $W/tok
ls $W/tok
