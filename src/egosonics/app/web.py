"""``egosonics app``: the Gradio web demo. Upload a video, pick steps, guidance and seed, get it back with new sound.

    upload ─ limits.check_upload (size, a readable video, duration) ─ generate.generate_files (MP4 + WAV + PNG)
           ─► the video with its new audio, the spectrogram figure, download links for the MP4 and the WAV

One model is loaded at start-up and shared; generation runs one request at a time (a queue of at most
``queue_size`` waiting users, who see their place in it) and reports its progress through gradio's tqdm tracking
(the windows and the denoising steps of ``generate_waveform`` and the pipeline).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from egosonics.app.limits import Limits, UploadError, check_settings, check_upload
from egosonics.generate import generate_files
from egosonics.options import GenerateOptions
from egosonics.pipeline import EgoSonicsPipeline

# gradio reads this when imported: no usage reports to a remote server (and no network use at all).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

log = logging.getLogger(__name__)

OUTPUT_MAX_AGE_S = 3600  # request folders older than this are removed when a new request comes in


@dataclass(frozen=True)
class AppConfig:
    """Everything the demo needs besides the model.

    Attributes:
        limits: upload and setting limits (shown on the page).
        options: the sampling settings; steps, guidance and seed are the page's initial values, the rest (Griffin-Lim
            iterations, batch size, overlap) apply to every request.
        queue_size: users who may wait for their turn; more are told the queue is full.
        output_dir: where request folders go (default: a fresh temporary folder).
        model_label: how the page names the model.
    """

    limits: Limits = field(default_factory=Limits)
    options: GenerateOptions = field(default_factory=GenerateOptions)
    queue_size: int = 16
    output_dir: Path | None = None
    model_label: str = "the default model"

    def __post_init__(self) -> None:
        check_settings(self.options.steps, self.options.guidance, self.options.seed, self.limits)  # initial values


@dataclass(frozen=True)
class DemoResult:
    """The files of one request (all inside its own folder) and how long generation took."""

    video: Path
    wav: Path
    figure: Path
    duration_s: float
    seconds: float


def _import_gradio() -> Any:
    try:
        import gradio as gr
    except ImportError:
        raise ImportError("the web demo needs gradio: pip install 'egosonics[app]' "
                          "(or pip install 'gradio>=6,<7')") from None
    return gr


def _clean_old(root: Path, max_age_s: float = OUTPUT_MAX_AGE_S) -> None:
    """Remove request folders older than ``max_age_s`` (gradio keeps its own copies of what it served)."""
    now = time.time()
    for folder in root.iterdir():
        if folder.is_dir() and now - folder.stat().st_mtime > max_age_s:
            shutil.rmtree(folder, ignore_errors=True)


def generate_for_upload(pipe: EgoSonicsPipeline, video: str | os.PathLike[str], *, steps: float, guidance: float,
                        seed: float, config: AppConfig, out_root: Path, name: str | None = None,
                        progress: Callable[..., object] | None = None) -> DemoResult:
    """Check one upload and generate its soundtrack into a fresh folder under ``out_root``.

    Args:
        name: the file name the user knows (default: the upload's).
        progress: called as ``progress(fraction, desc=...)`` at each stage (``gradio.Progress`` is such a callable).

    Raises:
        UploadError: the upload or a setting is refused, or generation failed on this file; the message says why.
    """
    report_stage = progress or (lambda fraction, desc: None)
    # 1. Check the settings and the upload (size, a video, duration)
    report_stage(0.0, desc="1/2 checking the video")
    steps_, guidance_, seed_ = check_settings(steps, guidance, seed, config.limits)
    source = Path(video)
    shown = name or source.name
    duration = check_upload(source, config.limits, name=shown)
    # 2. Generate into the request's own folder: NAME.egosonics.mp4 + .wav + .png
    out_root.mkdir(parents=True, exist_ok=True)
    _clean_old(out_root)
    folder = out_root / uuid.uuid4().hex
    folder.mkdir()
    target = folder / f"{Path(shown).stem or 'video'}.egosonics.mp4"
    options = dataclasses.replace(config.options, steps=steps_, guidance=guidance_, seed=seed_, write_wav=True,
                                  write_png=True)
    report_stage(0.05, desc=f"2/2 generating {duration:.1f} s of sound")
    started = time.perf_counter()
    report = generate_files(pipe, [source], target, options)
    if report.failed:
        raise UploadError(f"{shown}: generation failed: {report.failed[0][1]}")
    seconds = time.perf_counter() - started
    log.info("%s (%.1f s of video): %d steps, guidance %g, seed %d → %s in %.1f s", shown, duration, steps_,
             guidance_, seed_, target, seconds)
    return DemoResult(video=target, wav=target.with_suffix(".wav"), figure=target.with_suffix(".png"),
                      duration_s=duration, seconds=seconds)


@dataclass
class DemoApp:
    """The demo's ``gradio.Blocks`` (queue set up) with what launching it needs."""

    blocks: Any
    theme: Any
    output_dir: Path
    limits: Limits
    url: str | None = None

    def launch(self, *, host: str = "127.0.0.1", port: int | None = 7860) -> str:
        """Start serving in the background (gradio's own server thread); returns the address."""
        logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's start-up checks log every request at INFO
        self.blocks.launch(server_name=host, server_port=port, max_file_size=self.limits.max_upload_bytes,
                           allowed_paths=[str(self.output_dir)], prevent_thread_lock=True, quiet=True, share=False,
                           inbrowser=False, show_error=True, ssr_mode=False, theme=self.theme)
        self.url = str(self.blocks.local_url)
        log.info("demo serving at %s (outputs in %s)", self.url, self.output_dir)
        return self.url

    def close(self) -> None:
        self.blocks.close()


def build_app(pipe: EgoSonicsPipeline, config: AppConfig = AppConfig()) -> DemoApp:
    """Lay out the demo's page and connect it to ``pipe``; ``DemoApp.launch`` serves it."""
    gr = _import_gradio()
    limits = config.limits
    out_root = Path(config.output_dir or tempfile.mkdtemp(prefix="egosonics-app-")).resolve()

    def generate(video: str | None, steps: float, guidance: float, seed: float,
                 progress: Any = gr.Progress(track_tqdm=True)) -> tuple[str, str, list[str], str]:  # noqa: B008
        # 1. An upload is there
        if not video:
            raise gr.Error("Upload a video first.", print_exception=False)
        # 2. Check and generate (progress: the stages, then windows and denoising steps, tracked from tqdm)
        try:
            result = generate_for_upload(pipe, video, steps=steps, guidance=guidance, seed=seed, config=config,
                                         out_root=out_root, progress=progress)
        except UploadError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        status = (f"Generated {result.duration_s:.1f} s of sound in {result.seconds:.1f} s "
                  f"({int(steps)} steps, guidance {guidance:g}, seed {int(seed)}).")
        return str(result.video), str(result.figure), [str(result.video), str(result.wav)], status

    # System fonts only: the default theme would fetch Google Fonts, which an offline machine cannot reach.
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    with gr.Blocks(title="EgoSonics demo", delete_cache=(3600, OUTPUT_MAX_AGE_S)) as app:
        gr.Markdown(f"# EgoSonics\nSynchronized sound for a silent first-person video. Model: {config.model_label}."
                    f"\n\n**Limits:** {limits.describe()}.", elem_id="intro")
        with gr.Row():
            with gr.Column():
                video_in = gr.Video(label=f"Video (up to {limits.max_upload_mb:g} MB, {limits.max_duration_s:g} s)",
                                    sources=["upload"], elem_id="video-in")
                steps = gr.Slider(1, limits.max_steps, value=config.options.steps, step=1, label="DDIM steps",
                                  elem_id="steps")
                guidance = gr.Slider(1.0, limits.max_guidance, value=config.options.guidance, step=0.5,
                                     label="Guidance scale (1 = off)", elem_id="guidance")
                seed = gr.Number(value=config.options.seed, precision=0, minimum=0, label="Seed", elem_id="seed")
                button = gr.Button("Generate", variant="primary", elem_id="generate")
            with gr.Column():
                video_out = gr.Video(label="With generated sound", interactive=False, elem_id="video-out")
                figure = gr.Image(label="Spectrogram of the generated sound", type="filepath", interactive=False,
                                  elem_id="spectrogram")
                files = gr.File(label="Download (MP4, WAV)", file_count="multiple", interactive=False,
                                elem_id="downloads")
                status = gr.Markdown(elem_id="status")
        button.click(generate, inputs=[video_in, steps, guidance, seed], outputs=[video_out, figure, files, status],
                     api_name="generate", concurrency_limit=1, concurrency_id="generate")
    app.queue(max_size=config.queue_size, default_concurrency_limit=1)
    return DemoApp(blocks=app, theme=theme, output_dir=out_root, limits=limits)
