"""Reading the wheels' weight files without torch: equal to what torch itself reads."""

from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest
from tests.adapters.diarization.conftest import needs

from qasr.adapters.diarization.packaged_weights import (
    MissingSpeakerWeightsError,
    package_file,
    read_legacy_torch_file,
    read_torchscript_tensors,
)
from qasr.errors import CheckpointError

torch = pytest.importorskip("torch")


@needs("resemblyzer")
def test_the_legacy_reader_equals_torch_load_on_resemblyzers_weights() -> None:
    path = package_file("resemblyzer", "pretrained.pt", "test")
    ours = read_legacy_torch_file(path)["model_state"]
    theirs = torch.load(path, map_location="cpu", weights_only=False)["model_state"]
    assert list(ours) == list(theirs)
    for name, tensor in theirs.items():
        assert np.array_equal(ours[name], tensor.numpy()), name


@needs("silero_vad")
def test_the_torchscript_reader_equals_the_jit_models_state_dict() -> None:
    path = package_file("silero_vad", "data/silero_vad.jit", "test")
    ours = read_torchscript_tensors(path)
    theirs = torch.jit.load(str(path), map_location="cpu").state_dict()
    assert theirs, "the archive has tensors"
    for name, tensor in theirs.items():
        assert np.array_equal(ours[name], tensor.numpy()), name


def test_a_tensor_file_written_by_torch_round_trips(tmp_path) -> None:
    state = {"weight": torch.arange(12, dtype=torch.float32).reshape(3, 4).t(), "n": 7}
    path = tmp_path / "legacy.pt"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    ours = read_legacy_torch_file(path)
    assert ours["n"] == 7
    assert np.array_equal(ours["weight"], state["weight"].numpy())  # a transposed view


def test_a_file_naming_other_code_is_refused_not_run(tmp_path) -> None:
    path = tmp_path / "evil.pt"
    with path.open("wb") as file:
        for value in (0x1950A86A20F9469CFC6C, 1001, {}):
            pickle.dump(value, file, protocol=2)
        file.write(b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.")
        file.write(struct.pack("<q", 0))
    with pytest.raises(CheckpointError, match=r"os\.system"):
        read_legacy_torch_file(path)


def test_a_missing_wheel_names_the_pip_install() -> None:
    with pytest.raises(MissingSpeakerWeightsError, match="pip install --no-deps"):
        package_file("no_such_weights_wheel", "x.pt", "Speaker embedding")
