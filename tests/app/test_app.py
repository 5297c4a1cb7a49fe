"""The web demo: upload checks, a generation in headless Chromium, refusals with their messages, the queue."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import soundfile as sf

from egosonics.app.limits import Limits, UploadError, check_settings, check_upload
from egosonics.cli import main
from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.options import GenerateOptions

from .conftest import LIMITS, free_port

# gradio's queue uses pandas options that pandas 3 deprecates; not ours to fix.
pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


def toasts(page: Any) -> str:
    page.wait_for_selector(".toast-body")
    return " | ".join(t.inner_text() for t in page.locator(".toast-body").all())


# ------------------------------------------------------------------------------------------------ without a server
def test_check_upload_names_the_file_the_value_and_the_limit(videos: dict[str, Path], tmp_path: Path) -> None:
    limits = Limits(**LIMITS)
    assert check_upload(videos["clip"], limits) == pytest.approx(1.5, abs=0.05)
    with pytest.raises(UploadError, match=r"^big.mp4 is 0.3 MB; this demo accepts up to 0.25 MB$"):
        check_upload(videos["big"], limits)
    with pytest.raises(UploadError, match=r"^long.mp4 is 6.0 s long; this demo accepts up to 5 s"):
        check_upload(videos["long"], limits)
    with pytest.raises(UploadError, match=r"^notes.txt is not a video this demo can read: not a media file"):
        check_upload(videos["text"], limits)
    with pytest.raises(UploadError, match=r"^holiday.mov is not a video this demo can read"):
        check_upload(videos["fake"], limits, name="holiday.mov")  # the name the user knows, not the temporary one
    from PIL import Image

    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "still.png")
    with pytest.raises(UploadError, match=r"^still.png is a still image \(png_pipe\), not a video"):
        check_upload(tmp_path / "still.png", limits)
    assert check_settings(20, 3.0, 7, limits) == (20, 3.0, 7)
    for bad, message in (((0, 3.0, 0), "steps must be a whole number from 1 to 100, got 0"),
                         ((2.5, 3.0, 0), "got 2.5"), ((20, 0.5, 0), "guidance must be from 1 to 20, got 0.5"),
                         ((20, float("nan"), 0), "got nan"), ((20, 3.0, -1), "seed must be a whole number")):
        with pytest.raises(UploadError, match=message):
            check_settings(*bad, limits)


def test_app_says_at_start_up_when_there_is_no_default_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("egosonics.loading.DEFAULT_MODEL_DIR", tmp_path / "default_model")
    assert main(["app", "--port", str(free_port())]) == 1
    err = capsys.readouterr().err
    assert f"egosonics: error: no default model is installed ({tmp_path / 'default_model'} is missing); " \
           "pass --model FOLDER" in err


def test_generate_for_upload_reports_its_stages(demo: Any, videos: dict[str, Path], tmp_path: Path) -> None:
    from egosonics.app.web import AppConfig, generate_for_upload

    stages: list[tuple[float, str]] = []
    config = AppConfig(limits=Limits(**LIMITS), options=GenerateOptions(griffin_lim_iters=2))
    result = generate_for_upload(demo.pipe, videos["clip"], steps=2, guidance=1.0, seed=0, config=config,
                                 out_root=tmp_path, name="walk.mp4",
                                 progress=lambda fraction, desc: stages.append((fraction, desc)))
    assert stages == [(0.0, "1/2 checking the video"), (0.05, "2/2 generating 1.5 s of sound")]
    assert result.video.name == "walk.egosonics.mp4" and result.video.parent.parent == tmp_path
    assert result.wav.is_file() and result.figure.is_file() and result.duration_s == pytest.approx(1.5, abs=0.05)


# ------------------------------------------------------------------------------------------------ in the browser
@pytest.mark.slow
def test_upload_a_clip_and_get_a_playable_video_back(demo: Any, page: Any, videos: dict[str, Path]) -> None:
    page.goto(demo.url)
    assert "videos up to 0.25 MB and 5 s" in page.inner_text("#intro")  # the limits are shown
    page.locator("#video-in input[type=file]").set_input_files(str(videos["clip"]))
    page.wait_for_selector("#video-in video")
    page.click("#generate")
    page.wait_for_selector("#video-out video[src]", timeout=120_000)
    # The result plays: the browser decodes its metadata (1.5 s, 80 × 64) and can start it.
    played = page.evaluate("""async () => { const v = document.querySelector('#video-out video');
        if (v.readyState < 2) await new Promise((ok, fail) => { v.onloadeddata = ok; v.onerror = fail; });
        v.muted = true; await v.play(); v.pause();
        return [v.duration, v.videoWidth, v.videoHeight, v.readyState]; }""")
    assert played[0] == pytest.approx(1.5, abs=0.1) and played[1:3] == [80, 64] and played[3] >= 2
    assert page.eval_on_selector("#spectrogram img", "i => i.decode().then(() => i.naturalWidth)") > 300
    assert "Generated 1.5 s of sound" in page.inner_text("#status")
    # Download links for the MP4 and the WAV, which are what they say.
    links = page.eval_on_selector_all("#downloads a[download]", "as => as.map(a => [a.download, a.href])")
    assert sorted(name for name, _ in links) == ["clip.egosonics.mp4", "clip.egosonics.wav"]
    for name, href in links:
        response = page.request.get(href)
        assert response.ok, (name, response.status)
        local = Path(demo.output_dir) / "downloaded" / name
        local.parent.mkdir(exist_ok=True)
        local.write_bytes(response.body())
    waveform, rate = sf.read(local.with_suffix(".wav"))
    assert rate == DEFAULT_CLIP.sample_rate and len(waveform) == round(1.5 * rate) and np.abs(waveform).max() > 0
    with av.open(str(local.with_suffix(".mp4"))) as container:
        assert len(container.streams.video) == 1 and container.streams.audio[0].codec_context.name == "aac"


@pytest.mark.slow
def test_browser_refuses_big_and_non_video_uploads_with_a_message(demo: Any, page: Any,
                                                                 videos: dict[str, Path]) -> None:
    page.goto(demo.url)
    page.locator("#video-in input[type=file]").set_input_files(str(videos["big"]))
    assert 'exceed the maximum allowed size of 256.0 Kb: "big.mp4"' in toasts(page)
    page.reload()
    page.locator("#video-in input[type=file]").set_input_files(str(videos["text"]))
    assert "Invalid file type: notes.txt" in toasts(page)
    page.reload()
    page.locator("#video-in input[type=file]").set_input_files(str(videos["fake"]))  # a .mp4 that is text
    page.wait_for_selector("#video-in video")
    page.click("#generate")
    page.wait_for_function("document.body.innerText.includes('is not a video this demo can read')")
    assert "fake.mp4 is not a video this demo can read: not a media file PyAV can read" in toasts(page)


# ------------------------------------------------------------------------------------------------ over the API
@pytest.mark.slow
def test_api_refusals_and_the_queue(demo: Any, videos: dict[str, Path]) -> None:
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    client = Client(demo.url, verbose=False)
    # 1. The server refuses what the page would have stopped: too long, not a video, too large, bad settings.
    for video, settings, message in ((videos["long"], (2, 3.0, 0), "long.mp4 is 6.0 s long"),
                                     (videos["fake"], (2, 3.0, 0), "fake.mp4 is not a video this demo can read"),
                                     (videos["clip"], (500, 3.0, 0), "Value 500 is greater than maximum value 100")):
        with pytest.raises(AppError, match=message):
            client.predict(handle_file(str(video)), *settings, api_name="/generate")
    with pytest.raises(ValueError, match=r"big\.mp4 exceeds the maximum file size of 262144 bytes"):
        client.predict(handle_file(str(videos["big"])), 2, 3.0, 0, api_name="/generate")
    # The client checks the size itself; the server refuses too, for a caller that does not.
    boundary = "egosonics-test-boundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n")
    body = head.encode() + videos["big"].read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{demo.url}gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413
    assert "File size exceeded maximum allowed size of 262144 bytes" in refused.value.read().decode()
    # 2. Three users at once: each gets their own result, and one generation runs at a time.
    demo.pipe.most_active, calls = 0, demo.pipe.calls
    results: list[Any] = [None] * 3

    def user(k: int) -> None:
        results[k] = client.predict(handle_file(str(videos["clip"])), 2, 3.0, k, api_name="/generate")

    threads = [threading.Thread(target=user, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert demo.pipe.calls == calls + 3 and demo.pipe.most_active == 1
    wavs = [next(f for f in r[2] if f.endswith(".wav")) for r in results]
    assert len({Path(w).parent for w in wavs}) == 3  # separate request folders
    assert not np.allclose(sf.read(wavs[0])[0], sf.read(wavs[1])[0])  # seeds 0 and 1 differ


@pytest.mark.slow
def test_one_command_starts_the_demo_and_prints_its_address(tiny_model: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "egosonics.cli", "-q", "app", "--model", str(tiny_model),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line.strip() == f"EgoSonics demo running at http://127.0.0.1:{port}/ (Ctrl+C to stop)", line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert response.status == 200 and b"EgoSonics demo" in response.read()
    finally:
        proc.terminate()
        proc.wait(30)
