# Session 13, call C (carry .devcarry/diar), after call A (.devcarry/p1/recv.sh) and call B
# (call_b7.sh): the built-in diarizer on CUDA. .devcarry/diar holds what the GPU machine lacks:
# the two networks' weight files laid out as the wheels lay them (pk/silero_vad/data/
# silero_vad.jit, pk/resemblyzer/pretrained.pt: package_file finds them as namespace packages),
# pytest and hypothesis wheels, and the seed-2026 conversations that scripts/diarization_eval.py
# --save-audio wrote here (espeak-ng is not there). Steps: the CUDA kernel tests (tests/gpu and
# the fused decoder's, as session 12 left them unrun after a change to their reference), the
# diarizer's own tests, then the DER and real-time factor of the saved set on the H200.
#   bash scripts/h200_runs/call_c13.sh
# Staging .devcarry/diar here (36 MB; git-ignored), once per machine:
#   SP=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
#   mkdir -p .devcarry/diar/pk/silero_vad/data .devcarry/diar/pk/resemblyzer .devcarry/diar/whl
#   cp $SP/silero_vad/data/silero_vad.jit .devcarry/diar/pk/silero_vad/data/
#   cp $SP/resemblyzer/pretrained.pt .devcarry/diar/pk/resemblyzer/
#   cp .whl/{pytest,hypothesis,sortedcontainers,iniconfig,pluggy}*.whl .devcarry/diar/whl/
#   (cd scripts && python3 -c "import diarization_eval as e, pathlib; m, v = e.synthesised([2, 3, 4], 4, 2026); e.save_conversations(pathlib.Path('../.devcarry/diar/conv2026'), m, v, 2026, 0)")
set -e
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .devcarry/diar/whl/*.whl
source /tmp/h200/env.sh
export PYTHONPATH=$PYTHONPATH:$PWD/.devcarry/diar/pk
rm -rf $R/src $R/tests $R/scripts && cp -r src tests scripts $R/ && cp scripts/h200_runs/*.sh $W/
cd $R
python3 -c "import mlx.core as mx; print(mx.default_device())"
MLX_ENABLE_TF32=0 timeout 240 python3 -m pytest -q -p no:cacheprovider tests/gpu \
  tests/adapters/mlx/model/test_fused_decoder.py 2>&1 | tail -15 | tee $O/gputests.log
timeout 240 python3 -m pytest -q -p no:cacheprovider tests/adapters/diarization \
  -k "not pyannote" 2>&1 | tail -8 | tee $O/diarization-tests.log
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
timeout 300 python3 scripts/diarization_eval.py --audio $OLDPWD/.devcarry/diar/conv2026 \
  --machine "$gpu, $(nproc) cores, MLX $(python3 -c 'import mlx.core as m; print(m.__version__)') CUDA, lent through the device tool" \
  --out $O/diarization-h200.json 2>&1 | tail -22 | tee $O/diarization-run.log
cp $O/* $OUT/
