"""The built-in diarizer: who speaks when, offline, from weights that two wheels ship.

1. Silero VAD finds speech in 32 ms frames; `speech_regions` turns them into regions, whose edges
   `refine_edges` moves to the 10 ms energy contour.
2. The GE2E voice encoder prints overlapping windows (1.5 s, every 0.25 s) inside each region; a
   region shorter than a window is printed whole (down to 0.25 s; shorter ones take the speaker of
   the nearest printed region).
3. Labels for a count: segments go to the nearest of that many spherical k-means centres of the
   segment prints (duration-weighted reassignment until nothing moves).
4. Boundary refinement (`resegment`): every 10 ms frame of speech scores each speaker by how much
   the windows covering it resemble that speaker's centroid, and a Viterbi path with a penalty
   per change of speaker relabels the frames: first with the 1.5 s windows against the segment
   centroids, then with short windows (0.75 s every 0.2 s, printed for this) against centroids
   of the short windows that the first pass put wholly inside one speaker. Short windows place
   a change within a few frames; the first pass gives them clean centroids to compare with.
5. The speaker count (unless given): steps 3-4 run for each count from the most allowed down,
   and the first refined labelling whose speakers all stand apart is kept: each speaks for at
   least `min_speaker_seconds` and no two have pure short-window centroids at cosine
   `max_speaker_similarity` or closer (`speaker_count.speakers_stand_apart`); the floor
   (`min_speakers`, else 1) is kept when none does.
6. For the count found (or given), a second labelling: that many k-means centres of the 1.5 s
   window prints, refined the same way; of the two, the one whose short windows lie closer to
   their speakers' pure centroids is kept (`resegment.window_distortion`). The segments miss
   changes between close voices; windows alone split a voice too readily to count with.
7. The pause at each change of speaker (a stretch of frames too quiet for speech, >= 0.2 s,
   that comes within 0.1 s of the change) is taken out of both turns
   (`speech_regions.open_pauses`): a region bridges short gaps, and a gap between two voices is
   nobody's speech.

One speaker at a time: overlapped speech goes to the speaker the windows resemble most.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

from qasr.adapters.audio.resample import resample
from qasr.adapters.diarization.pitch import (
    DEFAULT_PITCH_WEIGHT,
    pitch_track,
    window_pitch,
    with_pitch,
)
from qasr.adapters.diarization.resegment import (
    DEFAULT_SWITCH_PENALTY,
    absorb_short_runs,
    frame_scores,
    label_centroids,
    pure_centroids,
    resegment,
    runs,
    window_distortion,
)
from qasr.adapters.diarization.segments import (
    FRAMES_PER_SECOND,
    SHORT_WINDOW_FRAMES,
    reassign,
    segment_prints,
    short_window_starts,
    split_at_changes,
    window_starts,
)
from qasr.adapters.diarization.silero_vad import (
    FRAME_SECONDS,
    SileroVAD,
    load_silero_vad,
    speech_probabilities,
)
from qasr.adapters.diarization.speaker_count import (
    DEFAULT_MAX_SPEAKER_SIMILARITY,
    DEFAULT_MAX_SPEAKERS,
    DEFAULT_MIN_SPEAKER_SECONDS,
    check_speaker_bounds,
    kmeans_labels,
    speakers_stand_apart,
    spherical_kmeans,
)
from qasr.adapters.diarization.speech_regions import (
    RegionRules,
    frame_energy_db,
    open_pauses,
    refine_edges,
    speech_regions,
)
from qasr.adapters.diarization.voice_encoder import (
    HIDDEN,
    HOP,
    SAMPLE_RATE,
    VoiceEncoder,
    embed_windows,
    load_voice_encoder,
    mel_frames,
)
from qasr.domain import AudioClip, SpeakerSpan
from qasr.errors import InvalidInputError

DEFAULT_CHANGE_THRESHOLD = 0.75
DEFAULT_REGION_RULES = RegionRules()
DEFAULT_MIN_TURN_SECONDS = 0.3  # a shorter run of one speaker inside speech joins a neighbour


_models_lock = threading.Lock()
_loaded: list[tuple[SileroVAD, VoiceEncoder]] = []


def shared_models() -> tuple[SileroVAD, VoiceEncoder]:
    """The two networks, loaded once per process: a diarizer per speaker count costs nothing."""
    with _models_lock:
        if not _loaded:
            _loaded.append((load_silero_vad(), load_voice_encoder()))
        return _loaded[0]


class _Windows:
    """A clip's window prints, and its short refinement windows printed on first use (once for
    all the counts tried; a clip that ends with one speaker never needs them)."""

    def __init__(
        self,
        regions: list[tuple[int, int]],
        starts: npt.NDArray[np.int64],
        lengths: npt.NDArray[np.int64],
        prints: npt.NDArray[np.float32],
        encoder: VoiceEncoder,
        mels: npt.NDArray[np.float32],
        pitches: npt.NDArray[np.float64],
        pitch_weight: float,
    ) -> None:
        self.regions, self.starts, self.lengths, self.prints = regions, starts, lengths, prints
        self._encoder, self._mels = encoder, mels
        self._pitches, self._pitch_weight = pitches, pitch_weight
        self._short: tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]] | None = None

    def short(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        if self._short is None:
            starts = short_window_starts(self.regions)
            prints = np.zeros((0, self.prints.shape[1]), dtype=np.float32)
            if len(starts):
                prints = _pitched_prints(
                    self._encoder,
                    self._mels,
                    self._pitches,
                    starts,
                    SHORT_WINDOW_FRAMES,
                    self._pitch_weight,
                )
            self._short = (starts, prints)
        return self._short


class BuiltinDiarizer:
    """A `qasr.ports.Diarizer`; the networks load on first use (once per process).

    Bad input, as documented: silence gives no turns; speech shorter than 0.25 s in all gives
    one speaker; a clip shorter than an embedding window (1.5 s) is printed whole; asking for
    more speakers than the speech has segments gives one speaker per segment (we do not invent
    voices); counts below 1, `min_speakers > max_speakers`, or `num_speakers` outside them raise
    `InvalidInputError` here, before any audio is read.
    """

    def __init__(
        self,
        *,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        change_threshold: float = DEFAULT_CHANGE_THRESHOLD,
        switch_penalty: float = DEFAULT_SWITCH_PENALTY,
        min_turn_seconds: float = DEFAULT_MIN_TURN_SECONDS,
        min_speaker_seconds: float = DEFAULT_MIN_SPEAKER_SECONDS,
        max_speaker_similarity: float = DEFAULT_MAX_SPEAKER_SIMILARITY,
        pitch_weight: float = DEFAULT_PITCH_WEIGHT,
        region_rules: RegionRules = DEFAULT_REGION_RULES,
    ) -> None:
        check_speaker_bounds(num_speakers, min_speakers, max_speakers)
        self.num_speakers = num_speakers
        self.min_speakers = min_speakers
        self.max_speakers = max_speakers
        self.change_threshold = change_threshold
        self.switch_penalty = switch_penalty
        self.min_turn_frames = round(min_turn_seconds * FRAMES_PER_SECOND)
        self.min_speaker_seconds = min_speaker_seconds
        self.max_speaker_similarity = max_speaker_similarity
        if not 0.0 <= pitch_weight < 1.0:
            raise InvalidInputError(f"pitch_weight must lie in [0, 1), got {pitch_weight}")
        self.pitch_weight = pitch_weight
        self.region_rules = region_rules
        self._models: tuple[SileroVAD, VoiceEncoder] | None = None

    def models(self) -> tuple[SileroVAD, VoiceEncoder]:
        if self._models is None:
            self._models = shared_models()
        return self._models

    def diarize(self, clip: AudioClip) -> tuple[SpeakerSpan, ...]:
        samples = clip.samples
        if clip.sample_rate != SAMPLE_RATE:
            samples = resample(samples, clip.sample_rate, SAMPLE_RATE)
        vad, encoder = self.models()
        energy_db = frame_energy_db(samples)
        regions = self._regions(vad, samples, energy_db)
        if not regions:
            return ()
        mels = mel_frames(samples)
        starts, lengths = window_starts(regions)
        if len(starts) == 0:  # speech too short for one print: one speaker says all of it
            return _turns(regions, [0] * len(regions), clip.duration)
        pitches = pitch_track(samples) if self.pitch_weight > 0 else np.full(len(mels), np.nan)
        prints = np.zeros((len(starts), HIDDEN + 2), dtype=np.float32)
        for length in np.unique(lengths):
            chosen = np.flatnonzero(lengths == length)
            prints[chosen] = _pitched_prints(
                encoder, mels, pitches, starts[chosen], int(length), self.pitch_weight
            )
        windows = _Windows(
            regions, starts, lengths, prints, encoder, mels, pitches, self.pitch_weight
        )
        return self._from_prints(windows, clip.duration, energy_db)

    def _from_prints(
        self,
        windows: _Windows,
        duration: float,
        energy_db: npt.NDArray[np.float64] | None = None,
    ) -> tuple[SpeakerSpan, ...]:
        """Turns from the window prints: segments, then a refined labelling per count tried, and
        for the count kept the better fit of it and the window labelling; given the clip's
        energy, the pause at each change of speaker is taken out of the turns."""
        regions = windows.regions
        segments = split_at_changes(
            regions, windows.starts, windows.lengths, windows.prints, self.change_threshold
        )
        by_segment = segment_prints(segments, windows.starts, windows.lengths, windows.prints)
        weights = np.array([end - start for start, end in segments], dtype=np.float64)
        floor = self.num_speakers or self.min_speakers or 1
        ceiling = self.num_speakers or self.max_speakers or max(DEFAULT_MAX_SPEAKERS, floor)
        chosen = floor
        for count in range(min(ceiling, len(segments)), floor, -1):
            frame_labels = self._labelled(count, segments, by_segment, weights, windows)
            if self._stand_apart(frame_labels, windows, count):
                chosen = count
                break
        else:  # the floor needs no check: fewer speakers were not allowed
            frame_labels = self._labelled(floor, segments, by_segment, weights, windows)
        if chosen > 1:
            frame_labels = self._better_fit(
                frame_labels, self._window_labelled(chosen, segments, by_segment, windows), windows
            )
        pieces, speakers = runs(regions, frame_labels)
        if energy_db is not None:
            pieces = open_pauses(energy_db, regions, pieces)
        return _turns(pieces, speakers, duration)

    def _labelled(
        self,
        count: int,
        segments: list[tuple[int, int]],
        by_segment: npt.NDArray[np.float32],
        weights: npt.NDArray[np.float64],
        windows: _Windows,
    ) -> npt.NDArray[np.int64]:
        """A speaker per 10 ms frame for `count` speakers: segments to the nearest k-means
        centre of the segment prints, then the two Viterbi passes (`_refined`)."""
        labels = reassign(by_segment, kmeans_labels(by_segment, count), weights)
        frame_labels = _segment_frames(segments, labels, windows.regions[-1][1])
        if int(labels.max()) == 0:  # one speaker: no boundary between speakers to refine
            return frame_labels
        centroids = label_centroids(by_segment, labels, weights, int(labels.max()) + 1)
        return self._refined(frame_labels, centroids, windows)

    def _window_labelled(
        self,
        count: int,
        segments: list[tuple[int, int]],
        by_segment: npt.NDArray[np.float32],
        windows: _Windows,
    ) -> npt.NDArray[np.int64]:
        """The other labelling for `count` speakers: k-means centres of the 1.5 s window prints
        themselves, so that a change the segments missed cannot tie two voices into one
        segment's print. Frames no window covers take the centre nearest their segment's print.
        No more speakers than segments, as in `_labelled`: a voice is not invented."""
        centres = spherical_kmeans(windows.prints, min(count, len(segments), len(windows.prints)))
        labels = np.argmax(by_segment @ centres.T, axis=1)
        frame_labels = _segment_frames(segments, labels, windows.regions[-1][1])
        frame_labels = self._refine(
            windows.regions, frame_labels, windows.starts, windows.lengths, windows.prints, centres
        )
        # A centre the first pass left with no speech goes, so that the second cannot revive it.
        speech = np.concatenate([frame_labels[start:end] for start, end in windows.regions])
        used = np.unique(speech)
        renumber = np.zeros(len(centres), dtype=np.int64)
        renumber[used] = np.arange(len(used))
        return self._refined(renumber[frame_labels], centres[used], windows, first_pass=False)

    def _refined(
        self,
        frame_labels: npt.NDArray[np.int64],
        centroids: npt.NDArray[np.float64],
        windows: _Windows,
        *,
        first_pass: bool = True,
    ) -> npt.NDArray[np.int64]:
        """The Viterbi passes from `frame_labels` and their speakers' `centroids`: the 1.5 s
        windows (unless done), then the 0.75 s windows against the centroids of the short
        windows the labels put wholly inside one speaker; short runs absorbed."""
        regions = windows.regions
        if first_pass:
            frame_labels = self._refine(
                regions, frame_labels, windows.starts, windows.lengths, windows.prints, centroids
            )
        short_starts, short = windows.short()
        if len(short_starts):
            centroids = pure_centroids(
                short_starts, SHORT_WINDOW_FRAMES, short, frame_labels, centroids
            )
            short_lengths = np.full(len(short_starts), SHORT_WINDOW_FRAMES, dtype=np.int64)
            frame_labels = self._refine(
                regions, frame_labels, short_starts, short_lengths, short, centroids
            )
        return absorb_short_runs(regions, frame_labels, self.min_turn_frames)

    def _better_fit(
        self,
        frame_labels: npt.NDArray[np.int64],
        alternative: npt.NDArray[np.int64],
        windows: _Windows,
    ) -> npt.NDArray[np.int64]:
        """Of two labellings for the chosen count, the one whose short windows lie closer to
        their speakers' pure centroids (`window_distortion`); the first on a tie. Why two: the
        segment labelling is what the count search is tuned on, but it inherits every change
        the segments missed; the window labelling does not, yet alone it splits a voice too
        readily to count with (diarization_tuning/window_labelling_study.json)."""
        short_starts, short = windows.short()
        if len(short_starts) == 0:
            return frame_labels
        fits = [
            window_distortion(short_starts, SHORT_WINDOW_FRAMES, short, labels)
            for labels in (frame_labels, alternative)
        ]
        return alternative if fits[1] < fits[0] else frame_labels

    def _stand_apart(
        self, frame_labels: npt.NDArray[np.int64], windows: _Windows, count: int
    ) -> bool:
        """Whether all `count` speakers of a refined labelling are voices of their own
        (`speakers_stand_apart` over their speech and their pure short-window centroids)."""
        speech = np.concatenate([frame_labels[start:end] for start, end in windows.regions])
        seconds = np.bincount(speech, minlength=count) / FRAMES_PER_SECOND
        short_starts, short = windows.short()
        centroids = np.zeros((count, short.shape[1]))
        if len(short_starts):
            centroids = pure_centroids(
                short_starts, SHORT_WINDOW_FRAMES, short, frame_labels, centroids
            )
        return speakers_stand_apart(
            seconds,
            centroids,
            min_seconds=self.min_speaker_seconds,
            max_similarity=self.max_speaker_similarity,
        )

    def _refine(
        self,
        regions: list[tuple[int, int]],
        frame_labels: npt.NDArray[np.int64],
        starts: npt.NDArray[np.int64],
        lengths: npt.NDArray[np.int64],
        prints: npt.NDArray[np.float32],
        centroids: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.int64]:
        scores, covered = frame_scores(starts, lengths, prints, centroids, len(frame_labels))
        return resegment(regions, frame_labels, scores, covered, switch_penalty=self.switch_penalty)

    def _regions(
        self,
        vad: SileroVAD,
        samples: npt.NDArray[np.float32],
        energy_db: npt.NDArray[np.float64],
    ) -> list[tuple[int, int]]:
        """Speech regions in 10 ms frames (`energy_db`: the samples' `frame_energy_db`)."""
        probabilities = speech_probabilities(vad, samples)
        scale = FRAME_SECONDS * FRAMES_PER_SECOND
        last = len(samples) // HOP
        coarse = [
            (round(start * scale), min(round(end * scale), last))
            for start, end in speech_regions(probabilities, self.region_rules)
        ]
        return refine_edges(energy_db, [(a, b) for a, b in coarse if a < b])


def _pitched_prints(
    encoder: VoiceEncoder,
    mels: npt.NDArray[np.float32],
    pitches: npt.NDArray[np.float64],
    starts: npt.NDArray[np.int64],
    frames: int,
    pitch_weight: float,
) -> npt.NDArray[np.float32]:
    """[len(starts), HIDDEN + 2]: each window's GE2E print with its median pitch (`pitch`)."""
    prints = embed_windows(encoder, mels, starts, frames)
    return with_pitch(prints, window_pitch(pitches, starts, frames), pitch_weight)


def _segment_frames(
    segments: list[tuple[int, int]], labels: npt.NDArray[np.int64], frames: int
) -> npt.NDArray[np.int64]:
    """A label per 10 ms frame from a label per segment (0 outside the segments)."""
    frame_labels = np.zeros(frames, dtype=np.int64)
    for (start, end), label in zip(segments, labels.tolist(), strict=True):
        frame_labels[start:end] = label
    return frame_labels


def _turns(
    pieces: list[tuple[int, int]], speakers: list[int], duration: float
) -> tuple[SpeakerSpan, ...]:
    """SpeakerSpans numbered by first turn (SPEAKER_00 speaks first), within [0, duration]."""
    names: dict[int, str] = {}
    turns = []
    for (start, end), speaker in zip(pieces, speakers, strict=True):
        name = names.setdefault(speaker, f"SPEAKER_{len(names):02d}")
        turns.append(
            SpeakerSpan(
                speaker=name,
                start=min(start / FRAMES_PER_SECOND, duration),
                end=min(end / FRAMES_PER_SECOND, duration),
            )
        )
    return tuple(turns)


__all__ = ["BuiltinDiarizer"]
