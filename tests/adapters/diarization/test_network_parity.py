"""Our MLX ports against the wheels' own models (silero_vad's TorchScript VAD, Resemblyzer's
VoiceEncoder and its librosa mel), on the same espeak-ng speech."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from tests.adapters.diarization.conftest import needs

torch = pytest.importorskip("torch")


def rel_err(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(ours - reference).max() / max(np.abs(reference).max(), 1e-12))


@needs("silero_vad")
def test_silero_vad_probabilities_equal_the_packages_model(two_speaker_dialogue) -> None:
    from silero_vad import load_silero_vad as load_reference

    from qasr.adapters.diarization.silero_vad import load_silero_vad, speech_probabilities

    samples = two_speaker_dialogue[0][: 16_000 * 6]
    ours = speech_probabilities(load_silero_vad(), samples)
    reference_model = load_reference()
    padded = np.zeros(len(ours) * 512, dtype=np.float32)
    padded[: len(samples)] = samples
    with torch.no_grad():
        reference = np.array(
            [
                reference_model(
                    torch.from_numpy(padded[i * 512 : (i + 1) * 512])[None], 16_000
                ).item()
                for i in range(len(ours))
            ]
        )
    assert reference.max() > 0.9 and reference.min() < 0.1, "speech and silence are both there"
    # float32 rounding carried through ~190 steps of the recurrent cell: measured 3.7e-5.
    assert np.abs(ours - reference).max() < 1e-4


def _resemblyzer():
    # Resemblyzer imports webrtcvad for a preprocessing step we do not compare; its wheel needs
    # pkg_resources, which new setuptools dropped.
    sys.modules.setdefault("webrtcvad", types.ModuleType("webrtcvad"))
    import resemblyzer

    return resemblyzer


@needs("resemblyzer")
@needs("librosa")
def test_mel_frames_equal_resemblyzers_librosa_mel(two_speaker_dialogue) -> None:
    from qasr.adapters.diarization.voice_encoder import mel_frames

    samples = two_speaker_dialogue[0][: 16_000 * 4]
    reference = _resemblyzer().audio.wav_to_mel_spectrogram(samples)
    ours = mel_frames(samples)
    assert ours.shape == reference.shape
    assert rel_err(ours, reference) < 1e-5


@needs("resemblyzer")
@needs("librosa")
def test_voice_prints_equal_resemblyzers_partial_embeddings(two_speaker_dialogue) -> None:
    from qasr.adapters.diarization.voice_encoder import (
        WINDOW_FRAMES,
        embed_windows,
        load_voice_encoder,
        mel_frames,
    )

    resemblyzer = _resemblyzer()
    samples = two_speaker_dialogue[0][: 16_000 * 5]
    reference_encoder = resemblyzer.VoiceEncoder(device="cpu", verbose=False)
    utterance, partials, slices = reference_encoder.embed_utterance(samples, return_partials=True)
    padded = np.pad(samples, (0, max(0, slices[-1].stop - len(samples))))
    starts = np.array([s.start // 160 for s in slices])
    ours = embed_windows(load_voice_encoder(), mel_frames(padded), starts, WINDOW_FRAMES)
    assert np.abs(ours - partials).max() < 1e-5
    mean = ours.mean(axis=0)
    assert np.abs(mean / np.linalg.norm(mean) - utterance).max() < 1e-5


@needs("silero_vad")
def test_long_audio_in_blocks_equals_one_block(two_speaker_dialogue, monkeypatch) -> None:
    from qasr.adapters.diarization import silero_vad

    model = silero_vad.load_silero_vad()
    samples = two_speaker_dialogue[0][: 16_000 * 4]
    whole = silero_vad.speech_probabilities(model, samples)
    monkeypatch.setattr(silero_vad, "_FRAMES_PER_BLOCK", 37)
    monkeypatch.setattr(silero_vad, "_STEPS_PER_EVAL", 11)
    assert np.abs(silero_vad.speech_probabilities(model, samples) - whole).max() < 1e-6


@needs("resemblyzer")
def test_prints_in_batches_equal_one_batch(two_speaker_dialogue, monkeypatch) -> None:
    from qasr.adapters.diarization import voice_encoder

    model = voice_encoder.load_voice_encoder()
    mels = voice_encoder.mel_frames(two_speaker_dialogue[0][: 16_000 * 4])
    starts = np.arange(0, len(mels) - 100, 30)
    whole = voice_encoder.embed_windows(model, mels, starts, 100)
    monkeypatch.setattr(voice_encoder, "_WINDOWS_PER_BATCH", 3)
    assert np.abs(voice_encoder.embed_windows(model, mels, starts, 100) - whole).max() < 1e-6
