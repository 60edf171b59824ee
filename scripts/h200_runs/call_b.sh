# call B (carry .devcarry/p2, .whl): MLX's CUDA build, the server's wheels, the code frozen
set -e
bash .devcarry/p2/recv.sh
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
source scripts/h200_runs/env.sh
rm -rf $R && mkdir -p $R && cp -r src scripts tests pyproject.toml $R/
cp scripts/h200_runs/*.sh $W/
nvidia-smi --query-gpu=name,memory.used,memory.total,driver_version --format=csv,noheader; nproc
cd $R && python3 -c "import mlx.core as mx, fastapi, uvicorn, qasr; print('mlx', mx.__version__, mx.default_device(), 'fastapi', fastapi.__version__, qasr.__file__)"
