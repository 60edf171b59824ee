"""The interfaces the application needs; `typing.Protocol`s, so users' adapters need not inherit."""

from qasr.ports.aligner import Aligner
from qasr.ports.audio_source import AudioInput, AudioSource
from qasr.ports.audio_stream import AudioStream, ContinuationOptions, PrefixRecognizer
from qasr.ports.diarizer import Diarizer
from qasr.ports.job_store import Job, JobStatus, JobStore
from qasr.ports.recognizer import Recognizer
from qasr.ports.writer import Writer

__all__ = [
    "Aligner",
    "AudioInput",
    "AudioSource",
    "AudioStream",
    "ContinuationOptions",
    "Diarizer",
    "Job",
    "JobStatus",
    "JobStore",
    "PrefixRecognizer",
    "Recognizer",
    "Writer",
]
