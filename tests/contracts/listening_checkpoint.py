"""A tiny random Qwen3-ASR checkpoint that hears its audio and can stop (the recognizer contract).

At MLX's default initialisation a tiny encoder's output is its biases and positions: tones of
220, 500 and 1500 Hz give one text, and the end token, one of 151,936, never wins. Three
deliberate changes make the contract's real-model case bite (issue 21, item 3):

- the encoder's matrices are scaled up (x4), so its output moves with the mel frames;
- the output layer can say only a few words and the two end tokens: every other row is zero and
  the words' rows are random, so `<|endoftext|>` wins now and then, as any word would;
- the `<|im_end|>` row is a linear read-out fitted on the decoder's own first-step states:
  positive after silence, negative after tones, so silence ends at once (no text, no language)
  and sound is always transcribed.

Everything else is the real model: mel frontend, encoder, decoder, prompt, greedy decoding and
output parsing run unchanged on the checkpoint as written to disk.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tests.support.official import TINY_AUDIO, TINY_TEXT

from qasr.domain import RecognitionOptions
from qasr.testing import noisy_tone_clip, silent_clip, tone_clip

if TYPE_CHECKING:
    from qasr.adapters.mlx.recognizer import MlxRecognizer

ENCODER_SCALE = 4.0
WORDS = (
    " one", " two", " three", " four", " five", " six", " seven", " eight", " nine", " ten",
    " alpha", " delta", " echo", " golf", " hotel", " india", " mike",
)  # fmt: skip
# The silence read-out's logit is about +-END_SCALE; a word's logit is about N(0, 1).
END_SCALE = 8.0
# The prompts the read-out must hold for: plain, a forced language, a context.
PROMPTS = (
    RecognitionOptions(),
    RecognitionOptions(language="German"),
    RecognitionOptions(language="Chinese"),
    RecognitionOptions(context="MLX, Qwen"),
)
SILENCE_SECONDS = (0.3, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0)
SOUNDS = 64


def write_listening_checkpoint(folder: Path, tokenizer_folder: Path, seed: int = 0) -> Path:
    """Write the checkpoint into `folder`, with the tokenizer files of `tokenizer_folder`."""
    from qasr.adapters.mlx.backend import mx, tree_flatten
    from qasr.adapters.mlx.recognizer import MlxRecognizer
    from qasr.training.export import export_checkpoint
    from qasr.training.scratch import scratch_config, write_scratch_checkpoint

    draft = folder.with_name(folder.name + "-draft")
    config = scratch_config(TINY_AUDIO, {**TINY_TEXT, "tie_word_embeddings": False})
    write_scratch_checkpoint(draft, config, tokenizer_folder, seed=seed)
    recognizer = MlxRecognizer.from_pretrained(draft, dtype="float32")
    model = recognizer.thinker.model
    encoder = tree_flatten(model.audio_tower.parameters())
    model.audio_tower.load_weights(
        [(name, weight * ENCODER_SCALE) for name, weight in encoder if weight.ndim >= 2],
        strict=False,
    )

    rng = np.random.default_rng(seed)
    rows, hidden = model.lm_head.weight.shape
    head = np.zeros((rows, hidden), dtype=np.float32)
    spoken = [word_token_id(recognizer, word) for word in WORDS]
    for token in [*spoken, token_id(recognizer, "<|endoftext|>")]:
        head[token] = rng.normal(0.0, 1.0 / np.sqrt(hidden), hidden)
    head[token_id(recognizer, "<|im_end|>")] = END_SCALE * silence_readout(recognizer, seed)
    model.lm_head.weight = mx.array(head)

    export_checkpoint(model, recognizer.thinker.config, draft, folder)
    shutil.rmtree(draft, ignore_errors=True)
    return folder


def token_id(recognizer: MlxRecognizer, token: str) -> int:
    found = recognizer.tokenizer.token_to_id(token)
    assert found is not None, token
    return int(found)


def word_token_id(recognizer: MlxRecognizer, word: str) -> int:
    [only] = recognizer.tokenizer.encode(word)  # every word of WORDS is one token
    return int(only)


def silence_readout(recognizer: MlxRecognizer, seed: int) -> np.ndarray:
    """A direction v with v.h near +1 for the decoder's first-step state h after silence and
    near -1 after a tone: ridge regression on the states of silences under every prompt and of
    tones (half of them noisy, like the contract's clips), silences weighted up to count as much
    as the more numerous tones. On 20 held-out silences and 100 held-out tones the `<|im_end|>`
    logit is >= 5.5 after silence (the best word <= 1.8) and <= -0.9 after a tone (the best word
    >= 0.95): no clip is near the boundary."""
    examples = [
        (silent_clip(seconds).samples, options, 1.0)
        for seconds in SILENCE_SECONDS
        for options in PROMPTS
    ]
    rng = np.random.default_rng(seed)
    for index in range(SOUNDS):
        seconds, frequency = rng.uniform(0.3, 3.0), rng.uniform(100.0, 2_000.0)
        if index % 2:
            clip = noisy_tone_clip(seconds, frequency, seed=index)
        else:
            clip = tone_clip(seconds, frequency)
        examples.append((clip.samples, PROMPTS[index % len(PROMPTS)], -1.0))
    states = np.array([first_step_state(recognizer, s, o) for s, o, _ in examples])
    target = np.array([label for _, _, label in examples])
    weight = np.where(target > 0, SOUNDS / (len(SILENCE_SECONDS) * len(PROMPTS)), 1.0)[:, None]
    gram = (states * weight).T @ states + np.eye(states.shape[1])
    return np.linalg.solve(gram, (states * weight).T @ target).astype(np.float32)


def first_step_state(
    recognizer: MlxRecognizer, samples: np.ndarray, options: RecognitionOptions
) -> np.ndarray:
    """The decoder's final (normed) state at the last prompt position, which the first generated
    token is read from: with the output layer set to the identity, the prompt logits are the
    states."""
    from qasr.adapters.mlx.backend import mx

    model = recognizer.thinker.model
    head = model.lm_head.weight
    model.lm_head.weight = mx.eye(head.shape[1], dtype=head.dtype)
    try:
        return np.array(recognizer.prompt_logits(samples, options)[-1])
    finally:
        model.lm_head.weight = head
