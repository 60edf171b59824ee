# Session 12, call B (carry .devcarry/p2): MLX's CUDA build, the code frozen under $R
set -e
bash .devcarry/p2/recv.sh
source scripts/h200_runs/env.sh
rm -rf $R && mkdir -p $R && cp -r src scripts tests pyproject.toml $R/
cp scripts/h200_runs/*.sh $W/
nvidia-smi --query-gpu=name,memory.used,memory.total,driver_version --format=csv,noheader; nproc
cd $R && python3 -c "import mlx.core as mx, qasr; print('mlx', mx.__version__, mx.default_device(), qasr.__file__)"
