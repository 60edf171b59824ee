"""`MlxRecognizer`: the `qasr.ports.Recognizer` that runs Qwen3-ASR in MLX.

Per clip: log-mel -> audio encoder -> prompt with one `<|audio_pad|>` per audio token -> prefill
-> greedy decoding -> `parse_asr_output`, exactly as the official transformers backend does.
Several clips decode together as one left-padded batch (one forward per step for all of them),
as the official backend batches; each row gets its own context, language and token budget.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from qasr.adapters.mlx.backend import default_dtype, mx, parse_dtype
from qasr.adapters.mlx.batch_size import CPU_BATCH_SIZE, RowShape, auto_batch_size
from qasr.adapters.mlx.checkpoint.files import resolve_model_folder
from qasr.adapters.mlx.checkpoint.reading import LoadedThinker, load_thinker
from qasr.adapters.mlx.model.generate import (
    GenerationResult,
    default_max_new_tokens,
    greedy_generate,
)
from qasr.adapters.mlx.model.kv_cache import KVCache
from qasr.adapters.mlx.model.mel import (
    GivenMel,
    frames_per_chunk,
    log_mel_batch,
    log_mel_spectrogram,
    mel_result,
    mel_workers,
    numpy_log_mel,
)
from qasr.adapters.mlx.model.prefilled_decoder import PrefilledDecoder
from qasr.adapters.mlx.model.speculative import check_draft_tokens, speculative_generate
from qasr.adapters.mlx.model.static_decoder import (
    StaticDecoder,
    check_decode_step,
    default_decode_step,
)
from qasr.adapters.mlx.model.text_decoder import padded_causal_mask
from qasr.adapters.mlx.model.thinker import Qwen3ASRThinker, model_input_samples
from qasr.adapters.mlx.stream_reuse import Segment, StreamWork, prompt_segments
from qasr.adapters.mlx.text.output import parsed_transcript
from qasr.adapters.mlx.text.prompt import build_prompt_ids
from qasr.adapters.mlx.text.tokenizer import Tokenizer
from qasr.domain import (
    SAMPLE_RATE,
    AudioClip,
    FinishReason,
    RecognitionOptions,
    Transcript,
    prompt_languages,
)
from qasr.errors import CheckpointError, InvalidInputError
from qasr.ports import ContinuationOptions

DEFAULT_BATCH_SIZE = CPU_BATCH_SIZE  # a CPU's; None asks for auto_batch_size (batch_size.py)
DEFAULT_DRAFT_TOKENS = 4  # mlx-qwen3-asr's default; ADR 0021 has the measurements
_DEFAULT_OPTIONS = RecognitionOptions()
# Clips whose audio the encoder takes at once while the next ones' log-mels are computed: big
# enough for the device's matrix products, small enough to start soon (one mel thread per clip).
ENCODE_GROUP = 16


@attrs.frozen
class Decoded:
    """One clip's decoding, before parsing: what parity tests compare."""

    prompt_ids: tuple[int, ...]
    tokens: tuple[int, ...]
    finish_reason: FinishReason
    raw_text: str


@attrs.frozen
class _Prefill:
    prompts: list[list[int]]
    cache: list[KVCache]
    hidden: mx.array  # [B, L, D]
    starts: mx.array  # [B] rope position of column 0: minus the row's left padding
    key_mask: mx.array | None  # [B, L] 1 for real tokens; None when nothing is padded

    def decoder(self, thinker: Qwen3ASRThinker, room: int) -> PrefilledDecoder:
        return PrefilledDecoder(thinker, self.cache, self.starts, self.key_mask, room)


class MlxRecognizer:
    def __init__(
        self,
        thinker: LoadedThinker,
        tokenizer: Tokenizer,
        *,
        source: str,
        batch_size: int | None = None,
        draft: MlxRecognizer | None = None,
        num_draft_tokens: int = DEFAULT_DRAFT_TOKENS,
        decode_step: str | None = None,
    ) -> None:
        if batch_size is not None and batch_size < 1:
            raise InvalidInputError(f"batch size must be at least 1, got {batch_size}")
        if thinker.config.is_aligner:
            raise CheckpointError(
                f"{thinker.folder} is a forced aligner, not a speech recognition model; pass it "
                "as --forced-aligner and a Qwen3-ASR checkpoint as --model"
            )
        self.thinker = thinker
        self.tokenizer = tokenizer
        self.source = source
        self.batch_size = batch_size
        self.eos_ids = frozenset(thinker.config.eos_token_ids) | tokenizer.eos_ids
        if draft is not None:
            _check_draft(self, draft)
        self.draft = draft
        self.num_draft_tokens = check_draft_tokens(num_draft_tokens)
        # dynamic, static or compiled (model/static_decoder.py); all give the same tokens.
        self.decode_step = check_decode_step(decode_step or default_decode_step())
        self.last_generation: GenerationResult | None = None  # for benchmarks: acceptance
        # What a stream's re-decodes share (ContinuationOptions.reuse_work, stream_reuse.py).
        self.work = StreamWork()

    def with_draft(
        self, draft: MlxRecognizer | None, num_draft_tokens: int = DEFAULT_DRAFT_TOKENS
    ) -> MlxRecognizer:
        """This model (shared, not copied) decoding speculatively with `draft`'s proposals:
        the same transcripts, in fewer target passes when the draft agrees often."""
        drafted = type(self)(
            self.thinker,
            self.tokenizer,
            source=self.source,
            batch_size=self.batch_size,
            draft=draft,
            num_draft_tokens=num_draft_tokens,
            decode_step=self.decode_step,
        )
        drafted.eos_ids = self.eos_ids
        drafted.work = self.work  # the same model: its cached work is the same
        return drafted

    @classmethod
    def from_pretrained(
        cls, model: str | Path, *, dtype: str | None = None, batch_size: int | None = None
    ) -> MlxRecognizer:
        folder = resolve_model_folder(model)
        thinker = load_thinker(folder, parse_dtype(dtype) or default_dtype())
        tokenizer = Tokenizer.from_folder(folder)
        return cls(thinker, tokenizer, source=str(model), batch_size=batch_size)

    def recognize(
        self, clips: Sequence[AudioClip], options: Sequence[RecognitionOptions]
    ) -> list[Transcript]:
        if len(clips) != len(options):
            raise InvalidInputError(f"{len(clips)} clips but {len(options)} option sets")
        for clip in clips:
            if clip.sample_rate != SAMPLE_RATE:
                raise InvalidInputError(
                    f"the recognizer takes 16 kHz audio, got {clip.sample_rate} Hz"
                )
        # Similar lengths batch together so that little is padded; results keep the input order.
        order = sorted(range(len(clips)), key=lambda index: clips[index].num_samples)
        size = self.batch_size or auto_batch_size(self._row_shape())
        batches = [order[first : first + size] for first in range(0, len(order), size)]
        transcripts: dict[int, Transcript] = {}
        # The host computes the next batch's log-mels while the device decodes this one.
        workers = mel_workers(size)
        with ThreadPoolExecutor(workers, thread_name_prefix="qasr-mel") as pool:
            submit = functools.partial(self._submit_mels, pool, frames_per_chunk(workers))
            upcoming = submit(clips, options, batches[0]) if batches else []
            for number, batch in enumerate(batches):
                mels = upcoming  # waited for in `_encode`, group by group
                if number + 1 < len(batches):
                    upcoming = submit(clips, options, batches[number + 1])
                decoded = self.decode_batch(
                    [clips[index].samples for index in batch],
                    [options[index] for index in batch],
                    mels=mels,
                )
                for index, result in zip(batch, decoded, strict=True):
                    transcripts[index] = self._transcript(clips[index], options[index], result)
        return [transcripts[index] for index in range(len(clips))]

    def _submit_mels(
        self,
        pool: ThreadPoolExecutor,
        chunk: int,
        clips: Sequence[AudioClip],
        options: Sequence[RecognitionOptions],
        batch: Sequence[int],
    ) -> list[Future[np.ndarray] | None]:
        """The log-mels of a batch's plain clips, computing (a stream's clip is None: its mel is
        taken window by window in `_encode`)."""
        pad_short = self.thinker.config.pads_short_clips
        return [
            pool.submit(
                numpy_log_mel,
                model_input_samples(clips[index].samples, pad_short),
                frames_per_chunk=chunk,
            )
            if reuse_mode(options[index]) is None
            else None
            for index in batch
        ]

    def _row_shape(self) -> RowShape:
        text = self.thinker.model.model.config
        audio = self.thinker.model.audio_tower.config
        return RowShape(
            layers=text.num_hidden_layers,
            kv_heads=text.num_key_value_heads,
            head_dim=text.head_dim,
            n_mels=audio.num_mel_bins,
            stem_channels=audio.downsample_hidden_size,
            itemsize=self.thinker.dtype.size,
        )

    @staticmethod
    def _transcript(clip: AudioClip, options: RecognitionOptions, decoded: Decoded) -> Transcript:
        return parsed_transcript(clip, options, decoded.raw_text, decoded.finish_reason)

    def decode(
        self, samples: np.ndarray, options: RecognitionOptions = _DEFAULT_OPTIONS
    ) -> Decoded:
        """Greedy-decode one 16 kHz clip."""
        return self.decode_batch([samples], [options])[0]

    def decode_batch(
        self,
        samples: Sequence[np.ndarray],
        options: Sequence[RecognitionOptions],
        *,
        mels: Sequence[GivenMel | None] | None = None,
    ) -> list[Decoded]:
        """Greedy-decode clips together; each result equals that clip's own `decode`, with or
        without a draft model. `mels` may bring the clips' log-mels, computed or computing."""
        if not samples:
            return []
        pad_short = self.thinker.config.pads_short_clips
        clips = [model_input_samples(clip, pad_short) for clip in samples]
        budgets = [
            option.max_new_tokens or default_max_new_tokens(clip.size / SAMPLE_RATE)
            for clip, option in zip(clips, options, strict=True)
        ]
        room = max(budgets) + (self.num_draft_tokens + 1 if self.draft else 0)
        with contextlib.ExitStack() as locks:
            locks.enter_context(self.thinker.lock)
            if self.draft is not None and self.draft.thinker.lock is not self.thinker.lock:
                locks.enter_context(self.draft.thinker.lock)
            prefill = self._prefill(clips, options, mels)
            first_logits = self.thinker.model.logits(prefill.hidden[:, -1, :])
            target = prefill.decoder(self.thinker.model, room)
            if self.draft is None:
                stepper = target if self.decode_step == "dynamic" else self._static(prefill, room)
                result = greedy_generate(
                    stepper.feed,
                    first_logits,
                    eos_ids=self.eos_ids,
                    max_new_tokens=max(budgets),
                )
            else:
                draft_prefill = self.draft._prefill(clips, options, mels)
                result = speculative_generate(
                    target,
                    draft_prefill.decoder(self.draft.thinker.model, room),
                    first_logits,
                    eos_ids=self.eos_ids,
                    max_new_tokens=max(budgets),
                    num_draft_tokens=self.num_draft_tokens,
                )
            self.last_generation = result
        decoded = []
        for prompt, tokens, reason, budget in zip(
            prefill.prompts, result.tokens, result.finish_reasons, budgets, strict=True
        ):
            # A row with a smaller budget than the batch's ends where it would have alone.
            if len(tokens) >= budget:
                tokens, reason = tokens[:budget], FinishReason.LENGTH
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            decoded.append(Decoded(tuple(prompt), tuple(tokens), reason, text))
        return decoded

    def _static(self, prefill: _Prefill, room: int) -> StaticDecoder:
        compiled = self.decode_step == "compiled"
        return StaticDecoder(
            self.thinker.model, prefill.cache, prefill.starts, prefill.key_mask, room,
            compiled=compiled,
        )  # fmt: skip

    def prompt_logits(
        self, samples: np.ndarray, options: RecognitionOptions = _DEFAULT_OPTIONS
    ) -> mx.array:
        """Logits [L, V] at every prompt position: the prefill that parity tests compare."""
        with self.thinker.lock:
            clip = model_input_samples(samples, self.thinker.config.pads_short_clips)
            prefill = self._prefill([clip], [options])
            return self.thinker.model.logits(prefill.hidden[0])

    def _prompt_ids(self, option: RecognitionOptions, audio_tokens: int) -> list[int]:
        """The prompt of one row (a subclass may append to it: prefix_recognizer.py)."""
        return build_prompt_ids(
            self.tokenizer, option.context, option.language, n_audio_tokens=audio_tokens
        )

    def _prefill(
        self,
        clips: Sequence[np.ndarray],
        options: Sequence[RecognitionOptions],
        mels: Sequence[GivenMel | None] | None = None,
    ) -> _Prefill:
        model = self.thinker.model
        audios, pieces = self._encode(clips, options, mels)
        prompts = [
            self._prompt_ids(option, audio.shape[0])
            for audio, option in zip(audios, options, strict=True)
        ]
        reuse = reuse_mode(options[0])
        if len(clips) == 1 and reuse is not None and pieces[0] is not None:
            # One stream's step: prefilled in segments, the shared ones reused (stream_reuse.py).
            embeds = model.embed_prompt(mx.array(prompts[0]), audios[0], self._audio_token)
            segments = prompt_segments(prompts[0], self._audio_token, pieces[0])
            cache, hidden = self.work.prefill(model.model, embeds, segments, reuse)
            return _Prefill(prompts, cache, hidden, mx.array([0], dtype=mx.int32), None)
        length = max(len(prompt) for prompt in prompts)
        pads = [length - len(prompt) for prompt in prompts]
        rows = []
        for prompt, audio, pad in zip(prompts, audios, pads, strict=True):
            ids = mx.array(prompt, dtype=mx.int32)
            embeds = model.embed_prompt(ids, audio, self.thinker.config.audio_token_id)
            rows.append(mx.pad(embeds, [(pad, 0), (0, 0)]) if pad else embeds)
        cache = model.model.make_cache()
        starts = mx.array([-pad for pad in pads], dtype=mx.int32)
        if any(pads):
            key_mask = mx.array([[0] * pad + [1] * (length - pad) for pad in pads], dtype=mx.int32)
            mask = padded_causal_mask(key_mask, length)
        else:
            key_mask, mask = None, None
        hidden = model.model(mx.stack(rows), starts, cache, mask)
        return _Prefill(prompts, cache, hidden, starts, key_mask)

    @property
    def _audio_token(self) -> int:
        return self.thinker.config.audio_token_id

    def _encode(
        self,
        clips: Sequence[np.ndarray],
        options: Sequence[RecognitionOptions],
        given: Sequence[GivenMel | None] | None = None,
    ) -> tuple[list[mx.array], list[list[Segment] | None]]:
        """Audio tokens per clip; a stream's clip is encoded window by window, with the
        segments they form (stream_reuse.py), the others together as one batch."""
        encoder, dtype = self.thinker.model.audio_tower, self.thinker.dtype
        audios: list[mx.array | None] = [None] * len(clips)
        pieces: list[list[Segment] | None] = [None] * len(clips)
        plain = []
        for index, (clip, option) in enumerate(zip(clips, options, strict=True)):
            reuse = reuse_mode(option)
            if reuse is None:
                plain.append(index)
                continue
            # Window-sized mel blocks: a complete window's frames then never depend on its length.
            mel = log_mel_spectrogram(clip, frames_per_chunk=encoder.config.window_frames)
            audios[index], pieces[index] = self.work.encode(encoder, mel, dtype, reuse)
        known: list[GivenMel | None] = list(given or [None] * len(clips))
        missing = [index for index in plain if known[index] is None]
        for index, mel in zip(missing, log_mel_batch([clips[i] for i in missing]), strict=True):
            known[index] = mel
        # Encoded in groups as their log-mels arrive from the worker threads: the device encodes
        # one group while the host finishes the next (a GPU's batch of a whole hour otherwise
        # waits for all 120 log-mels before its first encoder op).
        for first in range(0, len(plain), ENCODE_GROUP):
            group = plain[first : first + ENCODE_GROUP]
            mels = [mx.array(mel_result(known[index])).astype(dtype) for index in group]
            encoded = encoder.encode_batch(mels)
            mx.async_eval(encoded)
            for index, audio in zip(group, encoded, strict=True):
                audios[index] = audio
        return [audio for audio in audios if audio is not None], pieces

    def model_info(self) -> dict[str, Any]:
        return {
            **self.thinker.describe(self.source),
            "vocab_size": self.thinker.model.model.config.vocab_size,
            "batch_size": self.batch_size or "auto",
            "draft_model": None if self.draft is None else self.draft.source,
            "num_draft_tokens": self.num_draft_tokens,
            "languages": [language.name for language in prompt_languages()],
        }


def reuse_mode(options: RecognitionOptions) -> bool | None:
    """None for a one-off decode; True / False for a stream's step, with / without reuse."""
    return options.reuse_work if isinstance(options, ContinuationOptions) else None


def _check_draft(target: MlxRecognizer, draft: MlxRecognizer) -> None:
    """A draft proposes token ids, so it must speak the target's vocabulary."""
    if draft.draft is not None:
        raise InvalidInputError("a draft model cannot itself have a draft model")
    ours, theirs = target.thinker.model.model.config, draft.thinker.model.model.config
    if ours.vocab_size != theirs.vocab_size or target.tokenizer.vocab_size != (
        draft.tokenizer.vocab_size
    ):
        raise CheckpointError(
            f"draft model {draft.source} has another vocabulary than {target.source} "
            f"({theirs.vocab_size} vs {ours.vocab_size} ids): pick a Qwen3-ASR model of its family"
        )
