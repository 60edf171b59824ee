"""The pyannote adapter without pyannote's weights: a stand-in pipeline object with pyannote's
interface (called with {"waveform", "sample_rate"} and speaker bounds; returns an Annotation-like
object, bare as in pyannote.audio 3 or under `speaker_diarization` as in 4). pyannote.audio
itself is not installed here: it pins its own torch, and the shared machine's torch is the
official reference's."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from qasr.adapters.diarization.pyannote import (
    DEFAULT_PIPELINE,
    DiarizerUnavailableError,
    PyannoteDiarizer,
    hub_token,
)
from qasr.domain import AudioClip, SpeakerSpan
from qasr.errors import MissingExtraError
from qasr.testing.contracts import DiarizerContract

torch = pytest.importorskip("torch")


@attrs.frozen
class Segment:
    start: float
    end: float


@attrs.define
class Annotation:
    tracks: list[tuple[Segment, str, str]]

    def itertracks(self, yield_label: bool = False):
        assert yield_label
        yield from self.tracks


@attrs.define
class Output4:
    speaker_diarization: Annotation


@attrs.define
class StandInPipeline:
    """Speech where |x| > 0.01, in 0.5 s blocks alternating between two cluster names."""

    wrapped: bool = True
    calls: list[dict] = attrs.field(factory=list)

    def __call__(self, file: dict, **bounds):
        waveform, rate = file["waveform"], file["sample_rate"]
        assert isinstance(waveform, torch.Tensor) and waveform.shape[0] == 1
        self.calls.append(bounds)
        loud = waveform[0].abs().numpy() > 0.01
        block = rate // 2
        tracks = []
        for index in range(0, len(loud), block):
            if loud[index : index + block].any():
                segment = Segment(index / rate, min(index + block, len(loud)) / rate + 0.2)
                tracks.append((segment, "_", f"cluster{7 - (index // block) % 2}"))
        annotation = Annotation(tracks[::-1])  # pyannote's order is not ours to rely on
        return Output4(annotation) if self.wrapped else annotation


def loader_of(pipeline, seen: list | None = None):
    def load(name, token, device):
        if seen is not None:
            seen.append((name, token, device))
        return pipeline

    return load


class TestPyannoteAdapterContract(DiarizerContract):
    max_examples = 10

    def make_diarizer(self):
        return PyannoteDiarizer(loader=loader_of(StandInPipeline()))


@pytest.mark.parametrize("wrapped", [True, False])
def test_tracks_become_ordered_spans_labelled_by_first_turn(wrapped: bool) -> None:
    pipeline = StandInPipeline(wrapped=wrapped)
    diarizer = PyannoteDiarizer(num_speakers=2, loader=loader_of(pipeline))
    samples = np.full(16_000 * 2, 0.5, dtype=np.float32)
    turns = diarizer.diarize(AudioClip(samples, 16_000))
    assert turns == (
        SpeakerSpan("SPEAKER_00", 0.0, 0.7),
        SpeakerSpan("SPEAKER_01", 0.5, 1.2),
        SpeakerSpan("SPEAKER_00", 1.0, 1.7),
        SpeakerSpan("SPEAKER_01", 1.5, 2.0),  # cut at the clip's end
    )
    assert pipeline.calls == [{"num_speakers": 2}]


def test_the_pipeline_loads_once_with_the_token_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("PYANNOTE_AUTH_TOKEN", "hf_secret")
    seen: list = []
    diarizer = PyannoteDiarizer(device="cpu", loader=loader_of(StandInPipeline(), seen))
    clip = AudioClip(np.zeros(1600, dtype=np.float32))
    assert diarizer.diarize(clip) == diarizer.diarize(clip) == ()
    assert seen == [(DEFAULT_PIPELINE, "hf_secret", "cpu")]
    monkeypatch.delenv("PYANNOTE_AUTH_TOKEN")
    monkeypatch.setenv("HF_TOKEN", "hf_other")
    assert hub_token() == "hf_other"


def test_without_pyannote_the_error_names_the_extra(monkeypatch) -> None:
    import importlib.util

    if importlib.util.find_spec("pyannote") is not None:
        pytest.skip("pyannote.audio is installed here")
    with pytest.raises(MissingExtraError, match=r"pip install .*\[diarize\]"):
        PyannoteDiarizer().diarize(AudioClip(np.zeros(1600, dtype=np.float32)))


def test_an_unloadable_pipeline_says_what_to_do(monkeypatch, tmp_path) -> None:
    import sys
    import types

    class Pipeline:
        @staticmethod
        def from_pretrained(source, token=None):
            raise OSError("offline")

    audio = types.ModuleType("pyannote.audio")
    audio.Pipeline = Pipeline
    monkeypatch.setitem(sys.modules, "pyannote", types.ModuleType("pyannote"))
    monkeypatch.setitem(sys.modules, "pyannote.audio", audio)
    monkeypatch.delenv("PYANNOTE_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(DiarizerUnavailableError) as caught:
        PyannoteDiarizer().pipeline()
    message = str(caught.value)
    assert "PYANNOTE_AUTH_TOKEN" in message and "--diarizer builtin" in message
    assert "\n" not in message
    with pytest.raises(DiarizerUnavailableError, match=r"no config\.yaml"):
        PyannoteDiarizer(str(tmp_path)).pipeline()
