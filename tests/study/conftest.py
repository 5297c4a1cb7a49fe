"""A small study on disk (clips made with PyAV), a server for it on a free loopback port, and an HTTP participant."""

from __future__ import annotations

import http.client
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest

from egosonics.media.video import write_video
from egosonics.study.config import Study, load_study
from egosonics.study.server import StudyServer, make_server
from tests.study.browser import browser, page  # noqa: F401 (fixtures)

TOKEN = "organiser-token-for-tests"
SYSTEMS = {"egosonics": "ours", "diff-foley": "baseline", "ground-truth": "ground_truth"}


@pytest.fixture(scope="session")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s, 32 × 32 H.264 + AAC clip (every study clip is a copy: the tests need files, not sounds)."""
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (30, 32, 32, 3), dtype=np.uint8)
    audio = (0.1 * rng.standard_normal(22_050)).astype(np.float32)
    write_video(path, frames, 30, audio=audio, sample_rate=22_050)
    return path


def make_study(root: Path, clip: Path, *, clips: int = 5, systems: dict[str, str] = SYSTEMS,
               extra: str = "") -> Path:
    """Folders root/clips/SYSTEM/clip_K.mp4 and root/study.yaml naming them; returns the YAML's path."""
    lines = ["title: Test study", "systems:"]
    for name, role in systems.items():
        folder = root / "clips" / name
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(clips):
            shutil.copyfile(clip, folder / f"clip_{k}.mp4")
        lines.append(f"  {name}: {{role: {role}, folder: clips/{name}}}")
    path = root / "study.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


@pytest.fixture
def study(tmp_path: Path, clip_file: Path) -> Study:
    """5 clips × (ours, one baseline, ground truth): 15 rating pages and 5 preference pages per participant."""
    return load_study(make_study(tmp_path / "study", clip_file))


@pytest.fixture
def server(study: Study, tmp_path: Path) -> Iterator[StudyServer]:
    """The study served on a free loopback port, answers in tmp_path/answers.sqlite."""
    srv = make_server(study, tmp_path / "answers.sqlite", host="127.0.0.1", port=0, token=TOKEN)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


class Participant:
    """One participant speaking HTTP to the server (its own cookie; redirects are not followed)."""

    def __init__(self, server: StudyServer) -> None:
        self.host, self.port = server.server_address[:2]
        self.cookie = ""
        self.pid = ""

    def request(self, method: str, path: str, form: dict[str, object] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            body = urlencode(form).encode() if form is not None else None
            sent = {"Cookie": self.cookie} if self.cookie else {}
            if body is not None:
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers={**sent, **(headers or {})})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def join(self) -> str:
        status, headers, _ = self.request("POST", "/join")
        assert status == 303, status
        self.cookie = headers["set-cookie"].split(";")[0]
        self.pid = headers["location"].strip("/").split("/")[1]
        return self.pid

    def answer(self, position: int, kind: str, rng: np.random.Generator) -> int:
        if kind == "rating":
            form: dict[str, object] = {"position": position, "realism": int(rng.integers(1, 6))}
            form.update({q: rng.choice(["yes", "no"]) for q in ("relevant", "synchronized", "other_category")})
        else:
            form = {"position": position, "choice": rng.choice(["left", "right"])}
        status, _, body = self.request("POST", f"/p/{self.pid}/answer", form)
        assert status == 303, (status, body[:500])
        return status
