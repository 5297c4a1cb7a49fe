"""Copy prepared ``motion`` shards with the E_V's onset-track column written from each window's own audio (or scene).

    .venv/bin/python scripts/trial_onset_shards.py SRC_DATA OUT_DATA --gain G [--scenes SCENES ...]

SRC_DATA and OUT_DATA are folders of ``egosonics prepare`` (SRC_DATA prepared with ``--encoder motion``). Every
window's ``ev`` gets column 510 (``brightness``) replaced by ``G`` × the onset track of the onsets of its own
``spec`` (``spectrogram.onsets``); spectrogram and metadata are copied as they are (metadata's encoder becomes
``motion-onset``). With ``G`` the encoder's default this is what ``egosonics prepare --encoder motion-onset`` writes
(the same bytes, checked on the onset trial's 153 real windows) without decoding and computing the flow again; the
onset trial used it to try two gains on the motion trial's data.

With ``--scenes`` (folders of ``egosonics synth``, SRC_DATA prepared from them) the track is that of the window's
scene's visible events instead (its timeline JSON, ``SCENES/<source stem>.json``; what the scene head learns with
``train_onset_head.py --scene-onsets events``): where the sounds start by construction, without the audio onset
detector's latency and without the off-screen sounds. A window whose scene has no timeline in any of the folders
stops the copy with its name.
"""

from __future__ import annotations

import argparse
import io
import json
import tarfile
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="a prepared folder (--encoder motion)")
    parser.add_argument("out", help="the folder to write")
    parser.add_argument("--gain", type=float, required=True, help="the track's value at an onset")
    parser.add_argument("--scenes", action="append", default=[], metavar="SCENES",
                        help="a folder of the synthesized scenes SRC_DATA was prepared from (repeatable): the track "
                             "from each scene's visible events (its timeline JSON) instead of its window's audio")
    args = parser.parse_args()

    from egosonics.models.frame_encoder import MotionOnsetEncoder

    encoder = MotionOnsetEncoder(track_gain=args.gain)
    (Path(args.out) / "shards").mkdir(parents=True, exist_ok=True)
    windows = onsets = 0
    for shard in sorted((Path(args.src) / "shards").glob("*.tar")):
        with tarfile.open(shard) as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        out = Path(args.out) / "shards" / shard.name
        tmp = Path(f"{out}.tmp")
        try:
            with tarfile.open(tmp, "w") as tar:
                for name in sorted(members):
                    data = members[name]
                    if name.endswith(".ev.npy"):
                        key = name.removesuffix(".ev.npy")
                        meta = json.loads(members[f"{key}.json"])
                        if meta.get("encoder") != "motion":
                            raise SystemExit(f"{shard}: {key} was prepared with {meta.get('encoder')!r}, not motion")
                        times = track_onsets(members, key, meta, args.scenes, where=f"{shard}: {key}")
                        ev = encoder.with_onset_track(np.load(io.BytesIO(data)), np.round(times * meta["clip"]["fps"]))
                        buffer = io.BytesIO()
                        np.save(buffer, ev.astype(np.float16))
                        data = buffer.getvalue()
                        windows, onsets = windows + 1, onsets + len(times)
                    elif name.endswith(".json"):
                        data = json.dumps({**json.loads(data), "encoder": "motion-onset"}, sort_keys=True).encode()
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            tmp.rename(out)
        finally:
            tmp.unlink(missing_ok=True)
    print(f"{args.out}: {windows} windows, {onsets} onsets")


def track_onsets(members: dict[str, bytes], key: str, meta: dict, scenes: list[str], *, where: str) -> np.ndarray:
    """The onsets (s, from the window's start) whose track the window ``key`` gets: its scene's visible events with
    ``scenes``, else the onsets of its own spectrogram."""
    from egosonics.evaluation.sync.onset import event_onsets
    from egosonics.spectrogram.onsets import spectrogram_onsets
    from egosonics.spectrogram.params import SpectrogramParams

    if scenes:
        timeline = scene_timeline(scenes, meta["source"])
        if timeline is None:
            raise SystemExit(f"{where}: no timeline {Path(meta['source']).stem}.json in {', '.join(scenes)}")
        times = event_onsets(timeline) - float(meta["start_s"])
        return times[(times >= 0) & (times < meta["clip"]["duration_s"])]
    params = SpectrogramParams(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["spectrogram"].items()})
    return spectrogram_onsets(np.load(io.BytesIO(members[f"{key}.spec.npy"])), params)


def scene_timeline(folders: list[str], source: str) -> Path | None:
    """The timeline JSON of the scene ``source`` (a video's name in a window's metadata) in the first of ``folders``
    that has it, or None."""
    for folder in folders:
        path = Path(folder) / f"{Path(source).stem}.json"
        if path.is_file():
            return path
    return None


if __name__ == "__main__":
    main()
