"""Copy prepared ``motion`` shards with the E_V's onset-track column written from each window's own audio.

    .venv/bin/python scripts/trial_onset_shards.py SRC_DATA OUT_DATA --gain G

SRC_DATA and OUT_DATA are folders of ``egosonics prepare`` (SRC_DATA prepared with ``--encoder motion``). Every
window's ``ev`` gets column 510 (``brightness``) replaced by ``G`` × the onset track of the onsets of its own
``spec`` (``spectrogram.onsets``); spectrogram and metadata are copied as they are (metadata's encoder becomes
``motion-onset``). With ``G`` the encoder's default this is what ``egosonics prepare --encoder motion-onset`` writes
(the same bytes, checked on the onset trial's 153 real windows) without decoding and computing the flow again; the
onset trial used it to try two gains on the motion trial's data.
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
    args = parser.parse_args()

    from egosonics.models.frame_encoder import MotionOnsetEncoder
    from egosonics.spectrogram.onsets import spectrogram_onsets
    from egosonics.spectrogram.params import SpectrogramParams

    encoder = MotionOnsetEncoder(track_gain=args.gain)
    (Path(args.out) / "shards").mkdir(parents=True, exist_ok=True)
    windows = onsets = 0
    for shard in sorted((Path(args.src) / "shards").glob("*.tar")):
        with tarfile.open(shard) as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        out = Path(args.out) / "shards" / shard.name
        with tarfile.open(f"{out}.tmp", "w") as tar:
            for name in sorted(members):
                data = members[name]
                if name.endswith(".ev.npy"):
                    key = name.removesuffix(".ev.npy")
                    meta = json.loads(members[f"{key}.json"])
                    if meta.get("encoder") != "motion":
                        raise SystemExit(f"{shard}: {key} was prepared with {meta.get('encoder')!r}, not motion")
                    params = SpectrogramParams(**{k: tuple(v) if isinstance(v, list) else v
                                                  for k, v in meta["spectrogram"].items()})
                    times = spectrogram_onsets(np.load(io.BytesIO(members[f"{key}.spec.npy"])), params)
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
        Path(f"{out}.tmp").rename(out)
    print(f"{args.out}: {windows} windows, {onsets} onsets")


if __name__ == "__main__":
    main()
