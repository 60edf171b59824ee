"""Contract suites of qasr's ports, for your own adapters: subclass one, or call one function.

>>> from qasr.testing.contracts import RecognizerContract
>>> class TestMyRecognizer(RecognizerContract):     # pytest runs every check on it
...     def make_recognizer(self):
...         return MyRecognizer()

>>> from qasr.testing.contracts import check_recognizer
>>> check_recognizer(MyRecognizer())     # the same checks; raises ContractViolation

Each suite checks what its port's docstring in `qasr.ports` promises; qasr's own adapters, fakes
and real ones, pass the same suites. Needs pytest and hypothesis (`pip install "qasr[dev]"`).
"""

try:
    import hypothesis  # noqa: F401
    import pytest
except ImportError as error:  # pragma: no cover - depends on the install
    raise ImportError(
        f"qasr.testing.contracts needs pytest and hypothesis ({error.name} is missing): "
        'pip install "qasr[dev]" (or pytest hypothesis)'
    ) from error

# Plain asserts in the suites then explain themselves under pytest, as in a test module.
_SUITES = ("aligner", "audio_source", "diarizer", "job_store", "recognizer", "suite", "writer")
pytest.register_assert_rewrite(*(f"{__name__}.{module}" for module in _SUITES))

from qasr.testing.contracts.aligner import AlignerContract, check_aligner  # noqa: E402
from qasr.testing.contracts.audio_source import (  # noqa: E402
    AudioSourceContract,
    check_audio_source,
)
from qasr.testing.contracts.diarizer import DiarizerContract, check_diarizer  # noqa: E402
from qasr.testing.contracts.job_store import JobStoreContract, check_job_store  # noqa: E402
from qasr.testing.contracts.recognizer import RecognizerContract, check_recognizer  # noqa: E402
from qasr.testing.contracts.suite import ContractSuite, ContractViolation  # noqa: E402
from qasr.testing.contracts.writer import WriterContract, check_writer  # noqa: E402

__all__ = [
    "AlignerContract",
    "AudioSourceContract",
    "ContractSuite",
    "ContractViolation",
    "DiarizerContract",
    "JobStoreContract",
    "RecognizerContract",
    "WriterContract",
    "check_aligner",
    "check_audio_source",
    "check_diarizer",
    "check_job_store",
    "check_recognizer",
    "check_writer",
]
