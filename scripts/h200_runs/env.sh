# sourced by every device call after staging: the frozen code, the staged wheels, the work folder
export W=/tmp/h200 R=/tmp/h200/repo O=/tmp/h200/out
export PYTHONPATH=/opt/mlxsite:$R/src:$R:/tmp/site:/tmp/raysite
export PYTHONUNBUFFERED=1 QASR_TOKENIZER_DIR=/tmp/h200/tok
# NVLink multicast stays off (the GPU machines' notes say why); one GPU here, set anyway
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
mkdir -p $W $O
