# sourced by every device call after staging: the code snapshot, espeak-ng, the work folder
source /opt/qasr-env.sh
export W=/tmp/tiny C=/tmp/tiny/corpus
export PYTHONPATH=/opt/mlxsite:$W/src:$W/site
export PYTHONUNBUFFERED=1 QASR_SYNTH_BACKEND=wheel
mkdir -p $W
