"""Count the primitive ops (kernels) of one `qasr train` step's forward and backward, per bucket.

The trainer's step on a GPU is bound by its host work, ~10 us per op on MLX's CUDA backend (ADR
0021), so the count says what a step costs there. The step is built as the trainer builds it
(`CompiledSteps.loss` under `nn.value_and_grad`, uncompiled: `--compile update`'s forward and
backward), left lazy and written with `mx.export_to_dot`; view-like primitives (reshape, slice,
broadcast, ...) launch no kernel and are counted apart. Which primitives appear depends on the
device (a fast op with no GPU kernel for its backward falls back to plain ops), so count on the
device the step will run on.

    python scripts/train_step_kernels.py --model work/tiny-init --data corpus/train.jsonl \\
        --batch-size 64 --out counts.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.count_kernels import VIEWS, count_primitives


def count_graph(*outputs: Any) -> dict[str, Any]:
    """count_kernels.count_primitives of the outputs' graph, in this script's report keys."""
    from qasr.adapters.mlx.backend import mx

    with tempfile.TemporaryDirectory() as folder:
        dot = Path(folder) / "graph.dot"
        mx.export_to_dot(str(dot), *outputs)
        counts = count_primitives(dot.read_text())
    by_op = {name: n for name, n in counts["by_primitive"].items() if name not in VIEWS}
    return {"nodes": counts["primitives"], "kernels": counts["kernels"], "by_op": by_op}


def _bucket(shape: Any) -> dict[str, int]:
    return {name: getattr(shape, name) for name in ("chunks", "row_length", "text_length")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a checkpoint folder (tiny_en.py init)")
    parser.add_argument("--data", type=Path, required=True, help="a training manifest")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--pad-chunks", type=int, default=4)
    parser.add_argument("--ctc-weight", type=float, default=0.5)
    parser.add_argument("--shapes", type=int, default=3, help="distinct bucket shapes to count")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    from mlx.utils import tree_flatten

    from qasr.adapters.mlx.backend import mx, nn
    from qasr.training.settings import TrainingConfig
    from qasr.training.trainer import Trainer

    with tempfile.TemporaryDirectory() as output:
        config = TrainingConfig(
            data=args.data,
            model=args.model,
            output=Path(output),
            steps=1000,
            batch_size=args.batch_size,
            learning_rate=1e-3,
            warmup_steps=10,
            ctc_weight=args.ctc_weight,
            pad_chunks=args.pad_chunks,
            eval_every=0,
            save_every=0,
            compile="none",
        )
        trainer = Trainer.from_config(config)
        steps = trainer.compiled_steps
        counted: dict[Any, dict[str, Any]] = {}
        for step in range(200):
            ids = trainer.step_examples(step)
            shape = steps.tables.batch_shape(ids)
            if shape in counted:
                continue
            loss_and_grad = nn.value_and_grad(
                steps.model, lambda model, ids, shape=shape: steps.loss(model, ids, shape)
            )
            (loss, _), grads = loss_and_grad(steps.model, mx.array(ids.astype("int32")))
            counted[shape] = count_graph(loss, *(grad for _, grad in tree_flatten(grads)))
            if len(counted) == args.shapes:
                break
    report = {
        "benchmark": "kernels of one qasr train step (forward and backward, uncompiled)",
        "command": " ".join(["python", *sys.argv]),
        "device": str(mx.default_device()),
        "mlx": mx.__version__,
        "batch_size": args.batch_size,
        "ctc_weight": args.ctc_weight,
        "shapes": [{"bucket": _bucket(shape), **counts} for shape, counts in counted.items()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    for entry in report["shapes"]:
        print(entry["bucket"], "kernels", entry["kernels"], "nodes", entry["nodes"])


if __name__ == "__main__":
    main()
