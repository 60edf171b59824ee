"""Meeting minutes from recordings, built on qasr with two adapters of its own.

`CachingRecognizer` (a `qasr.ports.Recognizer`) remembers what it heard, so recordings processed
again cost no model call; `MinutesWriter` (a `qasr.ports.Writer`) writes Markdown minutes, one
paragraph per speaker turn. `build_minutes_service` plugs the recognizer into qasr's service.
"""

from minutes.caching import CachingRecognizer
from minutes.pipeline import build_minutes_service, write_minutes
from minutes.writer import MinutesWriter

__all__ = ["CachingRecognizer", "MinutesWriter", "build_minutes_service", "write_minutes"]
