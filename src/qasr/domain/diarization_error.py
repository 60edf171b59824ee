"""Diarization error rate, as NIST's md-eval scores it: missed speech, false alarm, confusion.

Time is cut at every turn boundary of either side. In each piece with `r` reference speakers and
`h` hypothesis speakers talking, for `d` seconds: missed = max(r - h, 0) d, false alarm =
max(h - r, 0) d, confusion = (min(r, h) - correct) d, where `correct` counts reference speakers
whose mapped hypothesis speaker also talks. The mapping is one-to-one and maximises the total
time the mapped pairs talk together. DER = (missed + false alarm + confusion) / reference speech.

A collar of `c` seconds removes [b - c, b + c] around every reference boundary b from scoring
(the usual 0.25 s forgives the imprecision of hand-marked boundaries). Overlapped speech is scored.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import cache

import attrs

from qasr.domain.transcript import SpeakerSpan


@attrs.frozen
class DiarizationError:
    missed: float  # seconds of reference speech with too few hypothesis speakers
    false_alarm: float  # seconds of hypothesis speech beyond the reference's speakers
    confusion: float  # seconds of speech given to the wrong (mapped) speaker
    reference_speech: float  # seconds of scored reference speech (overlaps count per speaker)

    @property
    def rate(self) -> float:
        """DER; 0.0 when there is no reference speech and no error."""
        errors = self.missed + self.false_alarm + self.confusion
        if self.reference_speech == 0.0:
            return 0.0 if errors == 0.0 else float("inf")
        return errors / self.reference_speech


def _no_score_zones(reference: Sequence[SpeakerSpan], collar: float) -> list[tuple[float, float]]:
    if collar <= 0.0:
        return []
    zones = sorted(
        (max(0.0, edge - collar), edge + collar)
        for turn in reference
        for edge in (turn.start, turn.end)
    )
    merged: list[tuple[float, float]] = []
    for start, end in zones:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _pieces(
    reference: Sequence[SpeakerSpan], hypothesis: Sequence[SpeakerSpan], collar: float
) -> list[tuple[float, frozenset[str], frozenset[str]]]:
    """(duration, reference speakers, hypothesis speakers) of every scored elementary piece."""
    zones = _no_score_zones(reference, collar)
    edges = sorted(
        {t for turn in (*reference, *hypothesis) for t in (turn.start, turn.end)}
        | {t for zone in zones for t in zone}
    )
    pieces = []
    for start, end in itertools.pairwise(edges):
        middle = (start + end) / 2
        if end <= start or any(a <= middle <= b for a, b in zones):
            continue
        talking_ref = frozenset(t.speaker for t in reference if t.start <= middle < t.end)
        talking_hyp = frozenset(t.speaker for t in hypothesis if t.start <= middle < t.end)
        if talking_ref or talking_hyp:
            pieces.append((end - start, talking_ref, talking_hyp))
    return pieces


def _best_mapping(together: dict[tuple[str, str], float]) -> dict[str, str]:
    """The one-to-one reference -> hypothesis mapping with the most time talked together
    (dynamic programming over subsets of the smaller side: exact, fine for tens of speakers)."""
    refs = sorted({r for r, _ in together})
    hyps = sorted({h for _, h in together})
    flip = len(hyps) > len(refs)
    rows, columns = (hyps, refs) if flip else (refs, hyps)

    def weight(row: str, column: str) -> float:
        pair = (column, row) if flip else (row, column)
        return together.get(pair, 0.0)

    @cache
    def best(index: int, used: int) -> tuple[float, tuple[int, ...]]:
        if index == len(rows):
            return 0.0, ()
        skip_score, skip_choice = best(index + 1, used)
        result = (skip_score, (-1, *skip_choice))
        for column in range(len(columns)):
            if not used >> column & 1 and weight(rows[index], columns[column]) > 0.0:
                score, choice = best(index + 1, used | 1 << column)
                score += weight(rows[index], columns[column])
                # At an equal total a pair beats no pair: a pair's time can be lost in the sum's
                # rounding (1.0 + 1e-40 == 1.0), and leaving it out would score it as confusion.
                if score > result[0] or (score == result[0] and result[1][:1] == (-1,)):
                    result = (score, (column, *choice))
        return result

    _, choice = best(0, 0)
    pairs = [(rows[i], columns[c]) for i, c in enumerate(choice) if c >= 0]
    return {column: row for row, column in pairs} if flip else dict(pairs)


def diarization_error(
    reference: Sequence[SpeakerSpan], hypothesis: Sequence[SpeakerSpan], *, collar: float = 0.0
) -> DiarizationError:
    """Score `hypothesis` turns against `reference` turns (labels need not match)."""
    pieces = _pieces(reference, hypothesis, collar)
    together: dict[tuple[str, str], float] = {}
    for duration, refs, hyps in pieces:
        for r in refs:
            for h in hyps:
                together[(r, h)] = together.get((r, h), 0.0) + duration
    mapping = _best_mapping(together)
    missed = false_alarm = confusion = speech = 0.0
    for duration, refs, hyps in pieces:
        correct = sum(1 for r in refs if mapping.get(r) in hyps)
        missed += max(len(refs) - len(hyps), 0) * duration
        false_alarm += max(len(hyps) - len(refs), 0) * duration
        confusion += (min(len(refs), len(hyps)) - correct) * duration
        speech += len(refs) * duration
    return DiarizationError(missed, false_alarm, confusion, speech)


__all__ = ["DiarizationError", "diarization_error"]
