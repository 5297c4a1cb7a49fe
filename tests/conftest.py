"""Shared fixtures: a network guard, synthetic audio and videos made with PyAV, and the real clips of ../shared.

Set EGOSONICS_KEEP_TEST_OUTPUTS=DIR to keep the files the tests write (for listening and looking).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.media.video import write_video
from tests.netguard import sitecustomize as netguard

REPO = Path(__file__).resolve().parents[1]


def load_script(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """scripts/NAME.py as a module, with scripts/ on the path for the test (it imports its neighbours, as when run)."""
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module
SHARED = Path(os.environ.get("EGOSONICS_SHARED", REPO.parent / "shared"))
REAL_CLIPS = SHARED / "data" / "real_clips"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


# The guard itself lives in tests/netguard/sitecustomize.py; that folder goes first on PYTHONPATH here, so every
# Python subprocess a test starts (the CLI, accelerate's ranks) imports it at start-up and is guarded as well.
NETGUARD_DIR = Path(__file__).resolve().parent / "netguard"
os.environ["PYTHONPATH"] = os.pathsep.join([str(NETGUARD_DIR), *filter(None, [os.environ.get("PYTHONPATH")])])
os.environ[netguard.ENV_FLAG] = "subprocess"
NetworkAccessError = netguard.NetworkAccessError


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a non-loopback address fails the test (subprocesses: see NETGUARD_DIR)."""
    monkeypatch.setattr(socket.socket, "connect", netguard.guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", netguard.guarded_connect_ex)
    monkeypatch.setattr(socket, "create_connection", netguard.guarded_create_connection)


@pytest.fixture
def out_dir(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A folder for a test's outputs, copied to $EGOSONICS_KEEP_TEST_OUTPUTS/<test name> afterwards if that is set."""
    path = tmp_path / "out"
    path.mkdir()
    yield path
    keep = os.environ.get("EGOSONICS_KEEP_TEST_OUTPUTS")
    if keep:
        shutil.copytree(path, Path(keep) / request.node.name, dirs_exist_ok=True)


def room_tone(n: int, seed: int = 0, level: float = 1e-3) -> np.ndarray:
    """Quiet white noise (-60 dBFS by default): real recordings are never digitally silent."""
    return (level * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def clicks(times_s: list[float], n: int, sr: int = DEFAULT_CLIP.sample_rate) -> np.ndarray:
    """Short decaying 2 kHz clicks at the given times, over room tone."""
    out = room_tone(n, seed=1)
    tail = np.arange(int(0.03 * sr)) / sr
    click = (0.8 * np.sin(2 * np.pi * 2000 * tail) * np.exp(-tail / 0.004)).astype(np.float32)
    for t in times_s:
        i = int(round(t * sr))
        out[i:i + len(click)] += click[: max(0, min(len(click), n - i))]
    return out


def chirp(n: int, sr: int = DEFAULT_CLIP.sample_rate, f0: float = 100.0, f1: float = 8000.0) -> np.ndarray:
    """A linear chirp from f0 to f1 Hz at amplitude 0.5."""
    t = np.arange(n) / sr
    duration = n / sr
    sweep = 0.5 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) / (2 * duration) * t ** 2))
    return (sweep + room_tone(n, seed=2)).astype(np.float32)


def noise_bursts(n: int, sr: int = DEFAULT_CLIP.sample_rate, seed: int = 0) -> np.ndarray:
    """Bursts of white noise, 100 ms on, 400 ms off."""
    rng = np.random.default_rng(seed)
    gate = ((np.arange(n) / sr) % 0.5) < 0.1
    return (0.3 * rng.standard_normal(n) * gate + room_tone(n, seed=seed + 3)).astype(np.float32)


def numbered_frames(n: int, height: int = 64, width: int = 80) -> np.ndarray:
    """Frames whose brightness encodes their index (index * 4, so up to 63 frames are distinguishable)."""
    frames = np.zeros((n, height, width, 3), np.uint8)
    for i in range(n):
        frames[i] = min(255, 4 * i)
    return frames


def frame_index(frame: np.ndarray) -> int:
    """Inverse of ``numbered_frames`` (robust to compression noise)."""
    return int(round(float(frame.mean()) / 4))


@pytest.fixture(scope="session")
def av_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s, 30 fps, 160 × 120 H.264 + AAC clip: clicks at known times over a moving gradient."""
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    sr, n = DEFAULT_CLIP.sample_rate, 3 * DEFAULT_CLIP.sample_rate
    frames = np.zeros((90, 120, 160, 3), np.uint8)
    for k in range(90):
        frames[k, :, :, 0] = (np.arange(160)[None, :] + 3 * k) % 256
        frames[k, :, :, 1] = 128
    write_video(path, frames, 30, audio=clicks([0.5, 1.2, 2.0], n, sr) + chirp(n, sr) * 0.2, sample_rate=sr)
    return path


@pytest.fixture
def real_clips() -> list[Path]:
    """The real clips of ../shared/data/real_clips; the test is skipped when they are absent."""
    clips = sorted(REAL_CLIPS.glob("*.mp4")) if REAL_CLIPS.is_dir() else []
    if not clips:
        pytest.skip(f"real clips not found in {REAL_CLIPS}")
    return clips


# ------------------------------------------------------------------------------------------------ media inspection


def video_packets(path: Path) -> list[bytes]:
    """The bytes of the first video stream's packets, in file order (what a stream copy must keep unchanged)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [bytes(packet) for packet in container.demux(stream) if packet.size]


def stream_spans(path: Path) -> dict[int, tuple[float, float]]:
    """(first presentation time, end of the last packet) in seconds of every stream, from its packets' timestamps."""
    import av

    spans: dict[int, tuple[float, float]] = {}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.pts is None or not packet.size:
                continue
            start = float(packet.pts * packet.time_base)
            end = start + float((packet.duration or 0) * packet.time_base)
            old = spans.get(packet.stream.index, (start, end))
            spans[packet.stream.index] = (min(old[0], start), max(old[1], end))
    return spans


def audio_span_s(path: Path, index: int = 0) -> tuple[float, float]:
    """(start, end) in seconds of the ``index``-th audio stream as a player plays it.

    The start is the first decoded sample's time (after codec priming is dropped); the end is the earlier of where the
    decoded samples end and where the packet timestamps end. MP4 records the encoder's end padding in its sample table
    (ffmpeg decodes it anyway), Matroska/WebM as discard padding (which the decoder drops), so neither alone is right.
    """
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[index]
        first = None
        samples = 0
        packet_end = -np.inf
        for packet in container.demux(stream):
            if packet.pts is not None and packet.size:
                packet_end = max(packet_end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
            for frame in packet.decode():
                if first is None:
                    first = float(frame.pts * frame.time_base)
                samples += frame.samples
        rate = stream.codec_context.sample_rate
    assert first is not None, f"{path}: audio stream {index} decodes to nothing"
    return first, min(first + samples / rate, packet_end)


def click_onsets(waveform: np.ndarray, times_s: list[float], sr: int = DEFAULT_CLIP.sample_rate,
                 search_s: float = 0.05) -> list[float]:
    """Where each click of ``clicks`` starts, in seconds: the first sample above half the peak near each given time."""
    onsets = []
    for t in times_s:
        lo = max(0, int((t - search_s) * sr))
        segment = np.abs(waveform[lo:lo + int(2 * search_s * sr)])
        assert segment.size and segment.max() > 0.05, f"no click near {t} s"
        onsets.append((lo + int(np.argmax(segment > 0.5 * segment.max()))) / sr)
    return onsets


# ------------------------------------------------------------------------------------------------ media builders


TKHD_IDENTITY = bytes.fromhex("00010000 00000000 00000000 00000000 00010000 00000000 00000000 00000000 40000000")


def display_matrix(a: float, b: float, c: float, d: float, tx: float = 0, ty: float = 0) -> bytes:
    """A 36-byte MP4/QuickTime display matrix: 16.16 fixed point a, b, c, d, tx, ty; 2.30 u = v = 0, w = 1.

    A point (x, y) of the coded picture is shown at (a·x + c·y + tx, b·x + d·y + ty), y pointing down.
    """
    def fixed(value: float) -> bytes:
        return int(round(value * 65536)).to_bytes(4, "big", signed=True)

    zero = (0).to_bytes(4, "big")
    return fixed(a) + fixed(b) + zero + fixed(c) + fixed(d) + zero + fixed(tx) + fixed(ty) + bytes.fromhex("40000000")


def patch_track_matrix(src: Path, dst: Path, matrix: bytes) -> Path:
    """Copy an MP4 with the video track header's (tkhd) display matrix replaced, as a phone writes a rotated video."""
    data = bytearray(src.read_bytes())
    tkhd = data.find(b"tkhd")
    assert tkhd > 0, f"{src}: no tkhd box"
    at = data.find(TKHD_IDENTITY, tkhd)
    assert 0 < at - tkhd < 100, f"{src}: tkhd matrix not found where expected"
    data[at:at + len(TKHD_IDENTITY)] = matrix
    dst.write_bytes(bytes(data))
    return dst


def unknown_codec_copy(src: Path, dst: Path, fourcc: bytes = b"zzzz") -> Path:
    """Copy an H.264 MP4 with the video sample entry's fourcc (avc1, in the stsd box) replaced by an unknown one."""
    data = bytearray(src.read_bytes())
    stsd = data.find(b"stsd")
    at = data.find(b"avc1", stsd)
    assert stsd > 0 and 0 < at - stsd < 32, f"{src}: no avc1 sample entry"
    data[at:at + 4] = fourcc
    dst.write_bytes(bytes(data))
    return dst
