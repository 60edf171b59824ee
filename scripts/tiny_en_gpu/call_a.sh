# call A (with p1): part 1 of MLX, and (run 2) the step-7372 checkpoint's weights and state
set -e
bash .devcarry/p1/recv.sh
# run 2 carried the step-7372 checkpoint in .devcarry/state; run 3 starts from the shipped model
if [ -d .devcarry/state ]; then mkdir -p /tmp/tiny/ckpt && cp .devcarry/state/* /tmp/tiny/ckpt/ && ls -la /tmp/tiny/ckpt; fi
