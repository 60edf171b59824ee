# call A (with p1): part 1 of MLX, and the step-7372 checkpoint's weights and state
set -e
bash .devcarry/p1/recv.sh
mkdir -p /tmp/tiny/ckpt && cp .devcarry/state/* /tmp/tiny/ckpt/ && ls -la /tmp/tiny/ckpt
