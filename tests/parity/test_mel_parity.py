"""Our log-mel against `transformers.WhisperFeatureExtractor`, called as Qwen3-ASR's processor does.

The extractor has two paths: with torch installed (always, under qwen-asr) its STFT runs in
float32, without torch in float64 (`_np_extract_fbank_features`). The float32 path is itself up
to ~3e-5 away from the exact values on speech (quiet bins of loud frames), so no float32-exact
target below that exists. We therefore assert:
- against the float64 path: max abs error < 1e-6 (we reach ~1.2e-7, one float32 ulp at 1);
- against the torch path: every element is as close to it as the float64 path is, up to 2.5e-7,
  i.e. all our differences from the official output are the official float32 rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from qasr.adapters.mlx.mel import log_mel_spectrogram, mel_filterbank

pytestmark = pytest.mark.parity

RATE = 16_000
ULPS = 2.5e-7  # two float32 ulps at magnitude 1


@pytest.fixture(scope="module")
def extractor():
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    return transformers.WhisperFeatureExtractor(feature_size=128)


def official_torch(extractor, samples: np.ndarray) -> np.ndarray:
    """The processor's call (padding=True, truncation=False), cut to the attention mask."""
    out = extractor(
        samples,
        sampling_rate=RATE,
        padding=True,
        truncation=False,
        return_attention_mask=True,
        return_tensors="np",
    )
    return out["input_features"][0][:, : int(out["attention_mask"][0].sum())]


def official_float64(extractor, samples: np.ndarray) -> np.ndarray:
    # The extractor's own torch-free path: same maths in float64.
    return extractor._np_extract_fbank_features(samples[None].astype(np.float32), "cpu")[0]


def assert_matches_official(extractor, samples: np.ndarray) -> None:
    ours = np.array(log_mel_spectrogram(samples))
    torch_path = official_torch(extractor, samples)
    assert ours.dtype == np.float32
    assert ours.shape == torch_path.shape == (128, len(samples) // 160)
    exact = official_float64(extractor, samples)
    assert np.abs(ours - exact).max() < 1e-6
    assert np.all(np.abs(ours - torch_path) <= np.abs(exact - torch_path) + ULPS)


def test_filterbank_equals_transformers(extractor):
    assert np.abs(mel_filterbank(128) - extractor.mel_filters).max() < 1e-12


@pytest.mark.parametrize("seconds", [0.1, 1.0, 7.3317, 60.0])
def test_noise(extractor, seconds):
    rng = np.random.default_rng(int(seconds * 1000))
    samples = (0.2 * rng.standard_normal(int(seconds * RATE))).astype(np.float32)
    assert_matches_official(extractor, samples)


@pytest.mark.parametrize("n_samples", [201, 319, 320, 481])
def test_shortest_clips(extractor, n_samples):
    samples = np.random.default_rng(n_samples).uniform(-1, 1, n_samples).astype(np.float32)
    assert_matches_official(extractor, samples)


def test_speech(extractor, speech_16k):
    assert_matches_official(extractor, speech_16k)


def test_speech_with_leading_silence_and_odd_length(extractor, speech_16k):
    samples = np.concatenate([np.zeros(12_345, np.float32), speech_16k[:-77]])
    assert_matches_official(extractor, samples)


@pytest.mark.slow
def test_twenty_minutes_of_speech(extractor, speech_16k):
    """Many STFT chunks and one global floor. The float64 path takes ~20 s here, so this checks
    against the torch path only, with its own error size (3e-5 on speech) as the bound."""
    # Loudness rises over the clip, so the last repeats' max sets the floor of the first ones.
    repeats = int(np.ceil(20 * 60 * RATE / len(speech_16k)))
    gains = np.linspace(0.05, 1.0, repeats, dtype=np.float32)
    samples = np.concatenate([gain * speech_16k for gain in gains])[: 20 * 60 * RATE]
    ours = np.array(log_mel_spectrogram(samples))
    torch_path = official_torch(extractor, samples)
    assert ours.shape == torch_path.shape == (128, 20 * 60 * 100)
    assert np.abs(ours - torch_path).max() < 5e-5
