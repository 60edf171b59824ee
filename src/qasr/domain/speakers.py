"""Who said a word: the one rule that the service (speaker turns' text) and every writer use.

The rule, in order:
1. the turn the word overlaps longest;
2. a tie goes to the turn that starts first (then the one listed first);
3. a word that overlaps no turn (it lies in a gap, or it has no duration) goes to the nearest
   turn, by the distance between the word's interval and the turn's; ties as in 2;
4. with no turns at all, nobody.

A word is [start, end]; a zero-length word inside a turn is at distance 0 from it, so it belongs to
that turn. Turns may overlap each other and come in any order.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from qasr.domain.transcript import Segment, SpeakerSpan


def _rank(turn: SpeakerSpan, index: int, word: Segment) -> tuple[float, float, float, int]:
    """Larger is closer: overlap, then -distance, then the earlier start, then the earlier index."""
    overlap = min(turn.end, word.end) - max(turn.start, word.start)
    distance = max(turn.start - word.end, word.start - turn.end, 0.0)
    return max(overlap, 0.0), -distance, -turn.start, -index


def speaker_turns(words: Sequence[Segment], turns: Sequence[SpeakerSpan]) -> list[int | None]:
    """For each word, the index into `turns` of the turn it belongs to (None without turns)."""
    if not turns:
        return [None] * len(words)
    order = sorted(range(len(turns)), key=lambda i: (turns[i].start, i))
    starts = [turns[i].start for i in order]
    longest = max(turn.end - turn.start for turn in turns)
    chosen: list[int | None] = []
    for word in words:
        # Every turn that overlaps the word starts in (word.start - longest, word.end).
        low = bisect.bisect_left(starts, word.start - longest)
        high = bisect.bisect_right(starts, word.end)
        best = max(order[low:high], key=lambda i: _rank(turns[i], i, word), default=None)
        if best is None or _rank(turns[best], best, word)[0] == 0.0:
            # No overlap (a gap, or a zero-length word): the nearest turn of all.
            best = max(range(len(turns)), key=lambda i: _rank(turns[i], i, word))
        chosen.append(best)
    return chosen


def speakers_of(words: Sequence[Segment], turns: Sequence[SpeakerSpan]) -> list[str | None]:
    """For each word, the speaker label of the turn it belongs to (None without turns)."""
    return [
        None if index is None else turns[index].speaker for index in speaker_turns(words, turns)
    ]


__all__ = ["speaker_turns", "speakers_of"]
