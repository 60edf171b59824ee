"""Training rows are the inference prompt plus the answer, and only the answer is learnt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from tests.training.tiny import AUDIO_TOKEN_ID, IM_END_ID, tiny_tokenizer, tone

from qasr.adapters.mlx.model.lengths import audio_token_count
from qasr.adapters.mlx.text.prompt import build_prompt_ids
from qasr.domain import find_language
from qasr.training.batches import answer_text, make_batch, step_indices
from qasr.training.manifest import Example

TOKENIZER = tiny_tokenizer()


def example(text: str, language: str | None = "English", context: str = "") -> Example:
    return Example(
        audio=Path("unused.wav"),
        text=text,
        language=find_language(language) if language else None,
        context=context,
    )


def test_answer_is_what_the_model_writes_unforced() -> None:
    assert answer_text(example("hi there")) == "language English<asr_text>hi there"
    assert answer_text(example("侬好", "Wu")) == "language Chinese<asr_text>侬好"
    assert answer_text(example("", None)) == "language None<asr_text>"


def test_loss_mask_covers_exactly_the_answer_and_end_of_turn() -> None:
    examples = [example("hi there"), example("a much longer answer", context="ctx"), example("")]
    clips = [tone(1.0, 220, 0), tone(2.3, 330, 1), tone(0.6, 440, 2)]
    batch = make_batch(examples, clips, TOKENIZER, audio_token_id=AUDIO_TOKEN_ID, n_window=50)
    ids = np.array(batch.input_ids)
    mask = np.array(batch.loss_mask)
    assert mask.dtype == bool and ids.shape == mask.shape
    for row, (item, clip) in enumerate(zip(examples, clips, strict=True)):
        n_audio = audio_token_count(clip.size // 160, 50)
        prompt = build_prompt_ids(TOKENIZER, item.context, None, n_audio_tokens=n_audio)
        answer = [*TOKENIZER.encode(answer_text(item)), IM_END_ID]
        length = len(prompt) + len(answer)
        # The row is the recognizer's prompt, then the answer, then right padding.
        assert ids[row, : len(prompt)].tolist() == prompt
        assert ids[row][mask[row]].tolist() == answer
        assert not mask[row, : len(prompt)].any() and not mask[row, length:].any()
        assert int(np.array(batch.is_audio)[row].sum()) == n_audio
    # Each learnt token is predicted from the position before it.
    flat = ids.ravel()
    assert np.array(batch.targets).tolist() == flat[np.array(batch.predict_from) + 1].tolist()
    assert batch.n_targets == int(mask.sum())


def test_audio_rows_index_the_concatenated_audio_tokens_in_order() -> None:
    clips = [tone(1.0, 220, 0), tone(1.5, 330, 1)]
    batch = make_batch(
        [example("a"), example("b")], clips, TOKENIZER, audio_token_id=AUDIO_TOKEN_ID, n_window=50
    )
    rows = np.array(batch.audio_rows)[np.array(batch.is_audio)]
    assert rows.tolist() == list(range(rows.size))


@given(st.integers(1, 9), st.integers(1, 4), st.integers(0, 5))
def test_each_epoch_visits_every_example_once(n: int, batch_size: int, seed: int) -> None:
    steps = n * 3  # three epochs' worth of batches
    seen = [i for step in range(steps) for i in step_indices(n, batch_size, seed, step)]
    for epoch in range(3 * batch_size):
        assert sorted(seen[epoch * n : (epoch + 1) * n]) == list(range(n))
    assert step_indices(n, batch_size, seed, 5) == step_indices(n, batch_size, seed, 5)
