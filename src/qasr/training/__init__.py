"""Fine-tuning Qwen3-ASR in MLX: `qasr train` (full or LoRA), checkpoints, export.

An adapter-level package: it drives the MLX model classes of `qasr.adapters.mlx` and is imported
only by `qasr train`, so `import qasr` stays light. Modules:

- `manifest`: JSON-lines training data, validated row by row.
- `metrics`: word and character error rates.
- `batches`: examples -> padded token batches with the loss mask (the eager path, validation).
- `features`: each clip's log-mel computed once into a memory-mapped cache.
- `padded`: examples as fixed-shape device tables; the length-bucketed order of the steps.
- `compiled`: the training step on those tables, equal to the eager loss, compiled per shape.
- `loss`: the masked cross-entropy over the transcript tokens.
- `lora`: low-rank adapters on the projections, merged into the base on export.
- `optimizer`: AdamW with warm-up and cosine decay.
- `state`: resumable training checkpoints.
- `export`: a trained model as an original-layout Qwen3-ASR checkpoint.
- `settings`: a run's `TrainingConfig`, and the checks on its output folder and its resume.
- `evaluation`: validation loss, and WER/CER of greedy transcripts.
- `progress`: the step and validation lines a run prints.
- `trainer`: the loop that ties them together.
"""
