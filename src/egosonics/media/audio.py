"""Audio-only decoding to mono float32, RMS in dBFS, resampling and peak limiting, writing WAV/FLAC, and encoding a
waveform into a video container's audio stream.

Only the audio stream's packets are demuxed and decoded, so reading the soundtrack of a long video costs a fraction of
decoding its pictures. Channels are averaged (an exact mean, not libswresample's +3 dB downmix), then resampled.
"""

from __future__ import annotations

import logging
import math
import os
import struct
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np
import soundfile as sf
from av.packet import PacketSideData, packet_sidedata_type_from_literal

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.errors import MediaError
from egosonics.media.files import (
    check_coverage,
    container_start_s,
    declared_end_s,
    decode_error,
    open_input,
    seconds,
)
from egosonics.utils.output import atomic_output

log = logging.getLogger(__name__)

# RMS of digital silence is reported at this floor rather than -inf.
SILENCE_DBFS = -120.0


class _MonoResampler:
    """Averages channels exactly, then resamples with libswresample (streaming, constant memory)."""

    def __init__(self, sample_rate: int | None) -> None:
        self.to_float = av.AudioResampler(format="fltp")
        self.sample_rate = sample_rate
        self.resampler: av.AudioResampler | None = None
        self.chunks: list[np.ndarray] = []
        self.samples = 0  # total length of ``chunks``

    def push(self, frame: av.AudioFrame | None) -> None:
        frames = self.to_float.resample(frame)
        for planar in frames:
            mono = planar.to_ndarray().mean(axis=0, dtype=np.float32)  # [channels, n] -> [n]
            self._resample(mono, planar.sample_rate)
        if frame is None:
            self._resample(None, None)

    def _resample(self, mono: np.ndarray | None, rate: int | None) -> None:
        if self.sample_rate is None or (rate == self.sample_rate and self.resampler is None):
            if mono is not None:
                self.chunks.append(mono)
                self.samples += len(mono)
            return
        if self.resampler is None:
            if mono is None:
                return
            self.resampler = av.AudioResampler(format="flt", layout="mono", rate=self.sample_rate)
        if mono is None:
            out = self.resampler.resample(None)
        else:
            frame = av.AudioFrame.from_ndarray(mono[None, :], format="flt", layout="mono")
            frame.sample_rate = rate
            out = self.resampler.resample(frame)
        for resampled in out:
            self.chunks.append(resampled.to_ndarray().reshape(-1))
            self.samples += len(self.chunks[-1])

    def result(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)


def read_audio(
    path: str | os.PathLike[str],
    *,
    sample_rate: int | None = DEFAULT_CLIP.sample_rate,
    start_s: float = 0.0,
    duration_s: float | None = None,
) -> np.ndarray:
    """Decode a file's first audio stream to mono float32.

    Args:
        path: any file with an audio stream PyAV decodes (video containers, WAV, FLAC, MP3, Ogg, ...).
        sample_rate: output rate in Hz; None keeps the stream's own rate.
        start_s: start in seconds from the start of the file (the time origin shared with the video).
        duration_s: length to read; None reads to the end. The result is padded with zeros to exactly
            ``round(duration_s * rate)`` samples when the audio ends early or starts late.

    Returns:
        Waveform [n] float32 in [-1, 1] (not clipped).
    """
    with open_input(path) as container:
        if not container.streams.audio:
            raise MediaError(path, "has no audio stream")
        stream = container.streams.audio[0]
        if stream.codec_context is None:
            raise MediaError(path, "audio stream uses an unknown codec that PyAV cannot decode")
        rate = sample_rate or stream.codec_context.sample_rate
        origin = container_start_s(container)
        # Where the header says the stream ends, when it says so exactly. The codec's last frame is padded past it
        # (AAC in MP4: up to 1024 samples, which FFmpeg decodes); those samples are not part of the audio.
        declared_s = declared_end_s(container, stream)
        # Seek (on the audio stream, 1 s early) only where timestamps resolve single samples: after a seek the samples
        # are placed by the first frame's timestamp, and Matroska's 1 ms steps would shift them by up to 1 ms.
        # Decoding audio from the start instead is cheap (minutes of audio per second).
        tb = stream.time_base
        if start_s > 1.0 and tb is not None and tb <= Fraction(1, stream.codec_context.sample_rate or 1):
            container.seek(round((start_s + origin - 1.0) / tb), stream=stream, backward=True)
        resampler = _MonoResampler(sample_rate)
        first_t: float | None = None
        stop_t = start_s + duration_s + 0.5 if duration_s is not None else None
        reached_stop = False
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    if first_t is None:
                        t = seconds(frame.pts, frame.time_base)
                        first_t = (t - origin) if t is not None else 0.0
                    resampler.push(frame)
                    if stop_t is not None and first_t + resampler.samples / rate > stop_t:
                        reached_stop = True
                        break
                if reached_stop:
                    break
            resampler.push(None)
        except av.error.FFmpegError as exc:
            if first_t is None:
                raise decode_error(path, exc) from None
            log.warning("%s: audio decoding stopped early (%s)", path, exc)
    audio = resampler.result()
    if not reached_stop and first_t is not None:
        # Decoding ended before the window did: fine past the stream's end, a truncated file before it.
        needed_end = start_s + duration_s if duration_s is not None else math.inf
        check_coverage(path, "audio", first_t + len(audio) / rate, needed_end, declared_s)
    if first_t is None:
        if duration_s is None:
            raise MediaError(path, "audio stream has no decodable samples")
        first_t = start_s
    # Place the decoded samples on the file's clock: sample i is at first_t + i / rate.
    offset = round((start_s - first_t) * rate)
    audio = audio[offset:] if offset >= 0 else np.concatenate([np.zeros(-offset, np.float32), audio])
    if declared_s is not None:
        audio = audio[: max(round((declared_s - start_s) * rate), 0)]
    if duration_s is not None:
        n = round(duration_s * rate)
        audio = audio[:n] if len(audio) >= n else np.pad(audio, (0, n - len(audio)))
    return np.ascontiguousarray(audio, dtype=np.float32)


def rms(waveform: np.ndarray) -> float:
    """Root mean square, S_RMS = sqrt(mean(x²)) (paper Sec. C), computed in float64."""
    x = np.asarray(waveform).reshape(-1)
    if not x.size:
        return 0.0
    # Blockwise in float64: no full-length temporary arrays for long recordings.
    total = 0.0
    for start in range(0, x.size, 1 << 18):
        block = x[start:start + (1 << 18)].astype(np.float64)
        total += float(np.dot(block, block))
    return float(np.sqrt(total / x.size))


def rms_dbfs(waveform: np.ndarray) -> float:
    """RMS in dB relative to a full-scale square wave (0 dBFS = RMS 1.0); silence gives ``SILENCE_DBFS``."""
    value = rms(waveform)
    return max(20.0 * np.log10(value), SILENCE_DBFS) if value > 0 else SILENCE_DBFS


# Extension → (soundfile container, subtype) that ``write_audio`` writes.
AUDIO_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_24")}


def audio_format(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The (container, subtype) ``write_audio`` would write ``path`` as; a ``MediaError`` for another extension."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in AUDIO_FORMATS:
        raise MediaError(path, f"unsupported audio extension {suffix!r}; use .wav or .flac")
    return AUDIO_FORMATS[suffix]


def write_audio(path: str | os.PathLike[str], waveform: np.ndarray | Iterator[np.ndarray],
                sample_rate: int = DEFAULT_CLIP.sample_rate, *,
                inputs: tuple[str | os.PathLike[str], ...] = ()) -> None:
    """Write a mono waveform as WAV (float32 → 16-bit PCM) or FLAC (24-bit), chosen by the extension, atomically.

    ``waveform`` is an array [n] or an iterator of consecutive pieces [n_i], written as they come.
    """
    container, subtype = audio_format(path)
    if not isinstance(waveform, Iterator):
        waveform = np.clip(np.asarray(waveform, dtype=np.float32), -1.0, 1.0)
        if waveform.ndim != 1:
            raise ValueError(f"waveform must be mono [n], got shape {waveform.shape}")
    with atomic_output(path, inputs=inputs) as tmp:
        try:
            if isinstance(waveform, np.ndarray):
                sf.write(tmp, waveform, sample_rate, format=container, subtype=subtype)
            else:
                with sf.SoundFile(tmp, "w", sample_rate, 1, subtype, format=container) as out:
                    for piece in waveform:
                        out.write(np.clip(np.asarray(piece, dtype=np.float32), -1.0, 1.0))
        except sf.LibsndfileError as exc:  # cannot create the file (libsndfile's own error, not an OSError)
            raise MediaError(path, f"cannot write ({exc.error_string})") from None


# How far around a sample above full scale the limiter lowers the gain: 256 samples, 11.6 ms at 22,050 Hz
LIMIT_HOLD = 256


def limit_reach(hold: int = LIMIT_HOLD) -> int:
    """How many samples on each side of a sample ``limit_peak``'s gain there depends on (the hold, then half the
    smoothing window): a block limited with this many samples of context on both sides comes out as in the whole."""
    return hold + (hold + 1 + hold % 2) // 2


def limit_peak(waveform: np.ndarray, hold: int = LIMIT_HOLD) -> np.ndarray:
    """``waveform`` [..., n] with its gain lowered around the samples above full scale (1), so that none exceeds it;
    unchanged (the same object) when none does: written audio never clips.

    A limiter, not a rescaling: each sample needs the gain min(1, 1 / |x|); that need is held (a moving minimum over
    ±``hold`` samples) and then smoothed (a moving mean over ``hold`` + 1 samples, which only averages values the
    hold has already lowered to at most each sample's own need). So the gain never exceeds what a sample needs, falls
    and recovers within ``limit_reach`` (1.5 · ``hold``, 17 ms) of a sample above full scale, and is exactly 1
    farther away. Dividing the whole waveform by its peak instead made a soundtrack with one loud contact quiet
    throughout (the onset-track models' contacts overshoot full scale 2-4 times: docs/TRAINING.md, "The written
    audio's level").
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    x = np.asarray(waveform)
    if x.size == 0 or float(np.abs(x).max()) <= 1.0:
        return waveform
    need = np.minimum(1.0, 1.0 / np.maximum(np.abs(x.astype(np.float64)), 1e-12))
    held = minimum_filter1d(need, size=2 * hold + 1, axis=-1, mode="nearest")
    width = hold + 1 + hold % 2  # odd: centred
    gain = np.minimum(uniform_filter1d(held, size=width, axis=-1, mode="nearest"), need)  # min: the mean's rounding
    # where the window held no lowered value the gain is exactly 1 (the running mean would drift by an ulp)
    gain[minimum_filter1d(held, size=width, axis=-1, mode="nearest") >= 1.0] = 1.0
    return (x * gain).astype(x.dtype, copy=False)


def resample(waveform: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling along the last axis ([..., n] → [..., round(n · to / from)]); a no-op for equal rates."""
    if from_rate == to_rate:
        return waveform
    from scipy.signal import resample_poly

    g = math.gcd(int(from_rate), int(to_rate))
    return resample_poly(waveform, int(to_rate) // g, int(from_rate) // g, axis=-1).astype(np.float32)


def encoder_rate(codec: str, sample_rate: int) -> int:
    """The rate to encode ``sample_rate`` audio at: itself if ``codec`` takes it, else the nearest higher rate it
    takes (Opus takes only 8, 12, 16, 24 and 48 kHz), else its highest."""
    try:
        rates = av.codec.Codec(codec, "w").audio_rates
    except (av.error.FFmpegError, ValueError):
        return sample_rate  # an unknown codec fails with its name when the stream is added
    if not rates or sample_rate in rates:
        return sample_rate
    higher = [r for r in rates if r > sample_rate]
    return min(higher) if higher else max(rates)


def encode_audio(out: av.container.OutputContainer, stream: av.audio.stream.AudioStream,
                 waveform: np.ndarray | Iterator[np.ndarray], sample_rate: int, *, block: int = 8192,
                 start_pts: int = 0) -> None:
    """Encode a mono float waveform into an output stream and flush the encoder (PyAV re-frames it for the codec).

    ``waveform`` is an array [n] or an iterator of consecutive pieces [n_i] (a long soundtrack streamed from disk).
    Sample ``i`` is presented at ``(start_pts + i) / sample_rate`` seconds. The padding the encoder adds to fill its
    last frame is marked on the last packet (skip-samples side data), so that Matroska/WebM record it as discard
    padding and decoders drop it: the audio then ends where the waveform ends (MP4 records it in its sample table).
    """
    pending: av.Packet | None = None  # held back one packet, so that the last one can be marked

    def mux(packets: list[av.Packet]) -> None:
        nonlocal pending
        for packet in packets:
            if pending is not None:
                out.mux(pending)
            pending = packet

    pieces = waveform if isinstance(waveform, Iterator) else [np.asarray(waveform, dtype=np.float32)]
    position = 0
    for piece in pieces:
        for start in range(0, len(piece), block):
            chunk = np.ascontiguousarray(piece[start:start + block], dtype=np.float32)[None, :]  # [1, n]
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = sample_rate
            frame.pts = start_pts + position
            frame.time_base = Fraction(1, sample_rate)
            position += chunk.shape[1]
            mux(stream.encode(frame))
    mux(stream.encode(None))
    if pending is not None:
        _mark_end_padding(pending, stream.codec_context)
        out.mux(pending)


# Encoders that pad their last frame to a full frame and do not mark the padding themselves (libopus does; lossless
# codecs such as FLAC end with a short frame instead).
_PADS_LAST_FRAME = frozenset({"aac", "libfdk_aac", "libmp3lame", "mp2", "ac3", "eac3"})


def _mark_end_padding(packet: av.Packet, ctx: av.audio.codeccontext.AudioCodecContext) -> None:
    """Add skip-samples side data for the samples an encoder padded its last frame with (AAC does not say itself)."""
    if ctx.name not in _PADS_LAST_FRAME or not ctx.frame_size or not packet.duration or packet.time_base is None:
        return
    if packet.has_sidedata("skip_samples"):
        return
    samples = round(packet.duration * packet.time_base * ctx.sample_rate)
    if 0 < samples < ctx.frame_size:
        side = PacketSideData(packet_sidedata_type_from_literal("skip_samples"), 10)
        side.update(struct.pack("<IIBB", 0, ctx.frame_size - samples, 0, 0))  # skip at start, skip at end, reasons
        side.to_packet(packet)
