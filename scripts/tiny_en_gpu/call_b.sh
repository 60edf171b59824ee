# call B (with p2): MLX installed; snapshot code + espeak; corpus in the background; probes;
# then start the continued training in the background with the fastest mode. Arg 1: seconds
# the training may take from its start; arg 2: the pipeline (default pipeline.sh, run 2).
set -e
bash .devcarry/p2/recv.sh
mkdir -p /tmp/tiny && rm -rf /tmp/tiny/src /tmp/tiny/site
# the code: a frozen snapshot (run 2) or, without one, the carried tree itself (run 3)
snap=.devcarry/snap; [ -d $snap ] || snap=.
cp -r $snap/src /tmp/tiny/src && cp $snap/scripts/tiny_en.py /tmp/tiny/ && cp -r .devcarry/corpus/site /tmp/tiny/site
# the tokenizer files: carried (run 2), else the bundled model's (the same three files)
if [ -d .devcarry/tok ]; then cp -r .devcarry/tok /tmp/tiny/tok; else mkdir -p /tmp/tiny/tok && cp src/qasr/models/tiny-en/{vocab.json,merges.txt,tokenizer_config.json} /tmp/tiny/tok/; fi
cp scripts/tiny_en_gpu/*.sh /tmp/tiny/
source /tmp/tiny/env.sh
cd /tmp/tiny
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader; nproc
python3 -c "import mlx.core as mx, qasr; print('mlx', mx.__version__, mx.default_device(), qasr.__file__)"
echo "$1" > $W/train_seconds
setsid nohup bash $W/${2:-pipeline.sh} > $W/pipeline.log 2>&1 < /dev/null &
sleep 5
# wait for the probes (they run while the corpus is spoken), show what was chosen
for i in $(seq 1 100); do [ -f $W/chosen ] && break; sleep 5; done
cat $W/probes.txt 2>/dev/null; cat $W/chosen 2>/dev/null
tail -5 $W/pipeline.log
