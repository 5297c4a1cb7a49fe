"""The ``egosonics`` command. Parses arguments, then calls library functions with typed values.

Errors a user can fix (a missing file, a file that is not a video, an output folder that cannot be written) print one
line, ``egosonics: error: FILE: PROBLEM``, and exit with status 1; nothing partial is left behind.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from egosonics import __version__
from egosonics.errors import EgoSonicsError

log = logging.getLogger("egosonics")

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _cmd_resynth(args: argparse.Namespace) -> int:
    from egosonics.resynth import resynthesize

    result = resynthesize(args.video, args.output, n_iter=args.iters, momentum=args.momentum, seed=args.seed,
                          wav=args.wav)
    print(f"wrote {result.output} ({result.duration_s:.2f} s, {result.windows} window(s) of 10 s)")
    if result.wav is not None:
        print(f"wrote {result.wav}")
    print(f"vocoder ceiling against the original audio: spectral convergence {result.spectral_convergence:.4f}, "
          f"log-spectral distance {result.log_spectral_distance:.4f} (log10 power; lower is better)")
    return EXIT_OK


def _cmd_spectrogram(args: argparse.Namespace) -> int:
    import torch

    from egosonics.clip_spec import DEFAULT_CLIP
    from egosonics.media.audio import read_audio
    from egosonics.spectrogram.figure import plot_spectrograms
    from egosonics.spectrogram.params import DEFAULT_PARAMS
    from egosonics.spectrogram.png import load_spectrogram_png, save_spectrogram_png
    from egosonics.spectrogram.transform import to_model_image, to_superres_image, waveform_to_unit

    source = Path(args.input)
    if source.suffix.lower() == ".png":
        image, params, meta = load_spectrogram_png(source)
        plot_spectrograms(args.output, [(source.name, image)], params, duration_s=meta.get("duration_s"))
        print(f"wrote {args.output}")
        return EXIT_OK
    params = DEFAULT_PARAMS
    duration = args.duration if args.raw == "full" or args.raw is None else DEFAULT_CLIP.duration_s
    audio = read_audio(source, sample_rate=params.sample_rate, start_s=args.start, duration_s=duration)
    unit = waveform_to_unit(torch.from_numpy(audio), params)  # [1024, n // hop]
    span = len(audio) / params.sample_rate
    if args.raw is None:
        plot_spectrograms(args.output, [(f"{source.name} from {args.start:g} s", unit)], params, duration_s=span)
    else:
        image = {"full": unit, "model": to_model_image(unit, params), "superres": to_superres_image(unit, params)}
        save_spectrogram_png(args.output, image[args.raw], params, layout=args.raw, duration_s=span,
                             source=str(source), start_s=args.start)
    print(f"wrote {args.output}")
    return EXIT_OK


def _cmd_generate(args: argparse.Namespace) -> int:

    from egosonics.generate import GenerateOptions, collect_inputs, generate_files
    from egosonics.models.loading import load_pipeline, resolve_device, resolve_dtype

    inputs = collect_inputs(args.inputs)
    if not inputs:
        raise EgoSonicsError(f"no video files found in {', '.join(args.inputs)}")
    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    pipe = load_pipeline(args.model, device=device, dtype=dtype)
    options = GenerateOptions(steps=args.steps, guidance=args.guidance, seed=args.seed, batch_size=args.batch_size,
                              overlap_s=args.overlap, griffin_lim_iters=args.gl_iters, write_wav=args.wav,
                              write_png=args.png)
    report = generate_files(pipe, inputs, Path(args.output), options)
    for path in report.written:
        print(f"wrote {path}")
    if report.failed:
        print(f"egosonics: {len(report.failed)} of {len(inputs)} input(s) failed:", file=sys.stderr)
        for _, reason in report.failed:
            print(f"  {reason}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _cmd_prepare(args: argparse.Namespace) -> int:
    from egosonics.preprocess.prepare import PrepareConfig, format_summary, prepare

    scenarios = None
    if args.scenarios is not None:
        scenarios = [s.strip().lower() for s in args.scenarios.split(",") if s.strip()]
    elif args.metadata:
        from egosonics.preprocess.metadata import DEFAULT_SCENARIOS

        scenarios = list(DEFAULT_SCENARIOS)
    config = PrepareConfig(src=str(Path(args.src).resolve()), out=str(Path(args.out).resolve()), seed=args.seed,
                           max_windows_per_video=args.max_windows, rms_threshold_dbfs=args.rms_threshold,
                           rms_percentile=args.rms_percentile, encoder=args.encoder, clip_dir=args.clip_dir,
                           videos_per_shard=args.videos_per_shard, metadata=args.metadata,
                           narrations=args.narrations, scenarios=scenarios,
                           exclude=[g.strip() for g in args.exclude.split(",") if g.strip()])
    summary = prepare(config, workers=args.workers)
    if int(os.environ.get("RANK", "0")) == 0:
        print(format_summary(summary))
        print(f"manifest: {Path(args.out) / 'manifest.jsonl'}")
    return EXIT_OK


def _cmd_train(args: argparse.Namespace) -> int:
    from egosonics.training.config import load_config
    from egosonics.training.trainer import train

    overrides = {"component": args.component, "data": args.data, "output_dir": args.output_dir,
                 "init_model": args.init_model, "max_steps": args.max_steps, "seed": args.seed}
    config = load_config(args.config, overrides)
    final = train(config)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"wrote {final}")
    return EXIT_OK


def _cmd_synth(args: argparse.Namespace) -> int:
    from egosonics.clip_spec import ClipSpec
    from egosonics.synth.dataset import synthesize
    from egosonics.synth.settings import settings_for

    try:
        height, _, width = args.size.lower().partition("x")
        size = (int(height), int(width or height))
        classes = tuple(c.strip() for c in args.classes.split(",") if c.strip()) if args.classes else None
        settings = settings_for(args.difficulty, clip=ClipSpec(duration_s=args.duration), height=size[0],
                                width=size[1], mode=args.mode, classes=classes, min_events=args.min_events,
                                max_events=args.max_events, head_motion=args.head_motion, camera_shake=args.shake,
                                distractors=args.distractors, offscreen=args.offscreen, noise_dbfs=args.noise_db)
        report = synthesize(args.out, n=args.n, seed=args.seed, settings=settings, workers=args.workers)
    except ValueError as exc:
        raise EgoSonicsError(f"synth: {exc}") from None
    print(f"wrote {len(report.records)} clips to {args.out} ({report.clips_per_second:.2f} clips/s); "
          f"manifest: {report.manifest}")
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from egosonics.evaluation.evaluate import PROTOCOLS, WeightBasedConfig, evaluate, markdown_table

    baselines, protocols = {}, {}
    for spec in args.baseline or []:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            raise EgoSonicsError(f"--baseline {spec!r}: expected NAME=FOLDER, e.g. diff-foley=outputs/difffoley")
        baselines[name] = folder
        if name.lower() in PROTOCOLS:
            protocols[name] = PROTOCOLS[name.lower()]
    weights = WeightBasedConfig(alignment_model=args.alignment_model, inception=args.inception_weights,
                                  melception=args.melception_weights, melception_stats=args.melception_stats,
                                  clip_dir=args.clip_dir)
    report = evaluate(args.pred, args.gt, args.out, baselines=baselines, protocols=protocols, events=args.events,
                      references=tuple(args.references.split(",")) if args.references else (),
                      short_side=args.short_side, seed=args.seed, weights=weights)
    print(markdown_table(report["table"]))
    if report["failed"]:
        print(f"egosonics: {len(report['failed'])} clip(s) could not be evaluated:", file=sys.stderr)
        for clip, reason in report["failed"]:
            print(f"  {clip}: {reason}", file=sys.stderr)
    print(f"wrote {Path(args.out) / 'report.html'} and report.json")
    return EXIT_ERROR if report["failed"] else EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from egosonics.demo import run_demo

    run_demo(Path(args.out), seed=args.seed, model=args.model, steps=args.steps)
    return EXIT_OK


def _cmd_app(args: argparse.Namespace) -> int:
    import threading

    from egosonics.app.limits import Limits
    from egosonics.app.web import AppConfig, build_app
    from egosonics.models.loading import load_pipeline, resolve_device, resolve_dtype

    try:
        limits = Limits(max_upload_mb=args.max_upload_mb, max_duration_s=args.max_duration, max_steps=args.max_steps)
    except ValueError as exc:
        raise EgoSonicsError(f"app: {exc}") from None
    device = resolve_device(args.device)
    pipe = load_pipeline(args.model, device=device, dtype=resolve_dtype(args.dtype, device))  # says if none exists
    config = AppConfig(limits=limits, steps=args.steps, guidance=args.guidance, seed=args.seed,
                       griffin_lim_iters=args.gl_iters, queue_size=args.queue_size,
                       output_dir=Path(args.output_dir) if args.output_dir else None,
                       model_label=args.model or "the default model")
    app = build_app(pipe, config)
    url = app.launch(host=args.host, port=args.port)
    print(f"EgoSonics demo running at {url} (Ctrl+C to stop)", flush=True)
    try:
        threading.Event().wait()
    finally:
        app.close()
    return EXIT_OK


def _cmd_study(args: argparse.Namespace) -> int:
    from egosonics.study.config import load_study
    from egosonics.study.report import write_report
    from egosonics.study.server import make_server
    from egosonics.study.store import StudyStore

    study = load_study(args.study)
    db = Path(args.db) if args.db else study.path.with_suffix(".sqlite")
    if args.report:
        if not db.is_file():
            raise EgoSonicsError(f"{db}: no answers database; run the study first (or pass --db)")
        for path in write_report(study, StudyStore(db, study), args.report):
            print(f"wrote {path}")
        return EXIT_OK
    try:
        server = make_server(study, db, host=args.host, port=args.port,
                             token=args.token or os.environ.get("EGOSONICS_STUDY_TOKEN"))
    except ValueError as exc:
        raise EgoSonicsError(f"study: {exc}") from None
    print(f"participants: {server.url}", flush=True)
    print(f"organiser:    {server.url}admin?token={server.token}", flush=True)
    print(f"answers:      {db.resolve()} (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return EXIT_OK


def _threads(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of threads, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="egosonics",
        description="EgoSonics: synchronized audio for silent egocentric videos. "
                    "Video in, the same video with a generated soundtrack out.",
        epilog="Run 'egosonics COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"egosonics {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("--threads", dest="torch_threads", type=_threads, default=None, metavar="N",
                        help="CPU threads for torch (default: one per core that other processes leave idle, from the "
                             "1-minute load average, or OMP_NUM_THREADS when set). torch's threads slow down sharply "
                             "when they must wait for busy cores")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "resynth", help="round-trip a video's audio through the spectrogram path (the vocoder ceiling)",
        description="Take VIDEO's own audio through the method's 512 x 512 spectrogram and back with fast "
                    "Griffin-Lim, write the video with that audio (video stream copied, not re-encoded), and print "
                    "the spectral convergence and log-spectral distance against the original: the best any "
                    "generated spectrogram can sound.")
    p.add_argument("video", help="input video with an audio track (any container/codec PyAV reads)")
    p.add_argument("-o", "--output", required=True, help="output video (.mp4, .mkv, .mov; .webm gets Opus audio)")
    p.add_argument("--wav", help="also write the resynthesised audio as WAV or FLAC (by extension)")
    p.add_argument("--iters", type=int, default=32, help="Griffin-Lim iterations (default: 32)")
    p.add_argument("--momentum", type=float, default=0.99, help="fast Griffin-Lim momentum; 0 = classic (default 0.99)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial random phase (default: 0)")
    p.set_defaults(func=_cmd_resynth)

    p = sub.add_parser(
        "spectrogram", help="draw a spectrogram figure, or write the model-input PNG",
        description="Draw INPUT's spectrogram (time in s, frequency in Hz, level in dB) as a PNG figure. INPUT is "
                    "any file with audio, or a spectrogram PNG written with --raw. With --raw, write instead the "
                    "normalised spectrogram image itself (16-bit PNG, low frequencies at the bottom, parameters in "
                    "its metadata): 'model' is the 512 x 512 diffusion input of the first 10 s from --start, "
                    "'superres' the 1024 x 512 super-resolution target, 'full' the 1024-bin STFT grid.")
    p.add_argument("input", help="audio/video file, or a spectrogram PNG written by --raw")
    p.add_argument("-o", "--output", required=True, help="output PNG")
    p.add_argument("--raw", choices=["model", "superres", "full"], help="write the image itself, not a figure")
    p.add_argument("--start", type=float, default=0.0, help="start time in s (default: 0)")
    p.add_argument("--duration", type=float, default=None, help="seconds to draw (default: to the end)")
    p.set_defaults(func=_cmd_spectrogram)

    p = sub.add_parser(
        "generate", help="write videos with a generated, synchronized soundtrack",
        description="Generate audio for each INPUT video (files or folders of videos; any length and frame rate) "
                    "and write the video with the new audio track. The video stream is copied, not re-encoded. "
                    "Videos longer than 10 s are generated in overlapping 10 s windows joined by an equal-power "
                    "crossfade. One bad file is reported and the others go on; the exit status is 0 only if all "
                    "succeeded.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files or folders of videos")
    p.add_argument("-o", "--output", required=True,
                   help="output video for a single input, else a folder (gets NAME.egosonics.EXT per input)")
    p.add_argument("--model", help="model folder (save_pretrained format); default: the shipped default model")
    p.add_argument("--steps", type=int, default=20, help="DDIM steps (default: 20)")
    p.add_argument("--guidance", type=float, default=3.0,
                   help="classifier-free guidance scale; 1 disables it (default: 3.0)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same audio (default: 0)")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"],
                   help="model precision (auto: float16 on cuda, float32 elsewhere)")
    p.add_argument("--batch-size", type=int, default=4, help="10 s windows generated together (default: 4)")
    p.add_argument("--overlap", type=float, default=2.0, help="seconds of overlap between windows (default: 2)")
    p.add_argument("--gl-iters", type=int, default=32, help="Griffin-Lim iterations (default: 32)")
    p.add_argument("--wav", action="store_true", help="also write NAME.wav beside each output video")
    p.add_argument("--png", action="store_true", help="also write NAME.png, a figure of the generated spectrogram")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser(
        "prepare", help="cut long videos into 10 s training clips (WebDataset shards + manifest)",
        description="Walk SRC for videos (any container/codec), pick seeded random non-overlapping 10 s windows, "
                    "keep those whose audio RMS passes the threshold, and write WebDataset shards to OUT/shards "
                    "(normalised spectrogram float32 [1024, 430], E_V float16 [300, 512], metadata JSON) with "
                    "OUT/manifest.jsonl listing every window kept or rejected and why. Resumable: rerun the same "
                    "command after a crash and only the missing work is done. Under 'accelerate launch' each rank "
                    "takes its share of shards.")
    p.add_argument("src", help="folder of videos (searched recursively)")
    p.add_argument("out", help="output folder")
    p.add_argument("--seed", type=int, default=0, help="window placement seed (default: 0)")
    p.add_argument("--max-windows", type=int, default=None, help="at most this many windows per video")
    level = p.add_mutually_exclusive_group()
    level.add_argument("--rms-threshold", type=float, default=None, help="keep windows above this RMS in dBFS")
    level.add_argument("--rms-percentile", type=float, default=None,
                       help="keep windows above this percentile of all windows' RMS (0-100)")
    p.add_argument("--encoder", default="pixels", choices=["pixels", "clip-vit-b32"],
                   help="frame encoder for E_V (default: pixels)")
    p.add_argument("--clip-dir", help="local CLIP ViT-B/32 folder (for --encoder clip-vit-b32)")
    p.add_argument("--videos-per-shard", type=int, default=16, help="source videos per shard (default: 16)")
    p.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default: 1)")
    p.add_argument("--metadata", help="Ego4D-style ego4d.json (scenarios per video_uid = file name stem)")
    p.add_argument("--narrations", help="Ego4D-style narration.json (narrations attached to each window)")
    p.add_argument("--scenarios", help="comma-separated scenario words to keep (default with --metadata: "
                                       "cooking,carpentry,laundry,cleaning,working,farmer,mechanic,yardwork,blacksmith)")
    p.add_argument("--exclude", default="*.json,*.jsonl",
                   help="comma-separated file-name patterns to skip (default: *.json,*.jsonl: sidecar metadata; a "
                        "NAME.json beside NAME.mp4 with a 'narration' field is attached to its windows)")
    p.set_defaults(func=_cmd_prepare)

    p = sub.add_parser(
        "train", help="train one learned part (base, syncronet, superres, video-to-text, alignment) on prepared shards",
        description="Train COMPONENT with the settings in --config (YAML; see configs/). Resumes from the latest "
                    "checkpoint in the output folder. For several GPUs or machines, start it with "
                    "'accelerate launch -m egosonics.cli train ...'. Writes checkpoints, metrics.csv, TensorBoard "
                    "logs, validation outputs and the final model folder OUTPUT/model. 'alignment' trains the "
                    "Alignment Score classifier (paper Sec. H) and writes its held-out accuracy.")
    p.add_argument("component", choices=["base", "syncronet", "superres", "video-to-text", "alignment"])
    p.add_argument("--config", required=True, help="YAML config file")
    p.add_argument("--data", help="prepared shards (overrides the config)")
    p.add_argument("--output-dir", help="output folder (overrides the config)")
    p.add_argument("--init-model", help="model folder to start from (overrides the config)")
    p.add_argument("--max-steps", type=int, help="training steps (overrides the config)")
    p.add_argument("--seed", type=int, help="seed (overrides the config)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "synth", help="write synthetic first-person clips whose sound events are known exactly",
        description="Render N first-person workbench scenes (30 fps, 22,050 Hz) with sound events of six classes "
                    "(impact on wood/metal/glass, saw, chop, machine, pour, footsteps), each sound starting at its "
                    "visual contact frame. Writes OUT/NAME.mp4 (H.264 + AAC), NAME.wav (the exact audio), NAME.json "
                    "(timeline: onset, offset, class, material, position; a one-line narration) and "
                    "OUT/manifest.jsonl. The same seed gives the same clips.")
    p.add_argument("out", help="output folder (created if missing)")
    p.add_argument("--n", type=int, default=10, help="number of clips; pairs in --mode pair (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed; clip i of seed S is always the same (default: 0)")
    p.add_argument("--mode", default="scene", choices=["scene", "single", "pair"],
                   help="scene: mixed actions; single: one class per clip (classes in turn); pair: the same "
                        "motion striking wood, then metal (default: scene)")
    p.add_argument("--classes", help="comma-separated classes allowed (default: all six)")
    p.add_argument("--duration", type=float, default=10.0, help="clip length in s (default: 10)")
    p.add_argument("--size", default="128", help="frame size: N (square) or HxW, e.g. 120x160 (default: 128)")
    p.add_argument("--min-events", type=int, default=None, help="fewest visible events per clip (default: 3)")
    p.add_argument("--max-events", type=int, default=None, help="most visible events per clip (default: 12)")
    p.add_argument("--difficulty", default="easy", choices=["easy", "medium", "hard"],
                   help="preset of the knobs below; explicit knobs override it (default: easy)")
    p.add_argument("--shake", type=float, default=None, help="camera shake, RMS pixels at 128 px (easy: 0)")
    p.add_argument("--head-motion", type=float, default=None, help="scale of head sway and bob (easy: 1)")
    p.add_argument("--distractors", type=int, default=None, help="silent motions per clip (easy: 0)")
    p.add_argument("--offscreen", type=int, default=None, help="off-screen sounds per clip (easy: 0)")
    p.add_argument("--noise-db", type=float, default=None, help="background noise RMS in dBFS (easy: -60)")
    p.add_argument("--workers", type=int, default=1, help="processes rendering in parallel (default: 1)")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser(
        "evaluate", help="score generated audio against ground truth, beside baselines and reference rows",
        description="Pair the files of --pred and --gt by name and compute every weight-free metric (Frechet "
                    "distance and KID of log-mel statistics, paired spectral metrics, AV-Align, onset accuracy, AP "
                    "and F1, cross-correlation offset and its course over time). Ground truth is cut and resampled "
                    "to each system's protocol (baseline names diff-foley, im2wav, make-an-audio get theirs). "
                    "Weight-based metrics run only when their local files are given: the Alignment Score, FID of "
                    "spectrogram images (Inception-v3), SpecVQGAN's Melception protocol; nothing is downloaded. "
                    "Writes OUT/report.json, report.md and report.html.")
    p.add_argument("--pred", required=True, help="folder of generated clips (ours): NAME.mp4 or NAME.wav")
    p.add_argument("--gt", required=True, help="folder of ground-truth videos with their audio: NAME.mp4")
    p.add_argument("--baseline", action="append", metavar="NAME=FOLDER", help="another system's outputs (repeatable)")
    p.add_argument("--events", help="folder of timeline JSON files (NAME.json, as 'egosonics synth' writes): "
                                    "onsets are also scored against the true event times")
    p.add_argument("--references", default="ground-truth,vocoder-ceiling",
                   help="reference rows, from ground-truth, vocoder-ceiling, silence, noise, other-clip, shifted-0.5s "
                        "(default: ground-truth,vocoder-ceiling)")
    p.add_argument("--short-side", type=int, default=224, help="video resolution for optical flow (default: 224)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise row and the vocoder (default: 0)")
    p.add_argument("--alignment-model", metavar="FOLDER",
                   help="Alignment Score at 30, 15 and 4 fps with this classifier (the model/ folder of 'egosonics "
                        "train alignment')")
    p.add_argument("--clip-dir", help="local CLIP ViT-B/32 folder, when the classifier's E_V came from it and its "
                                      "recorded folder moved")
    p.add_argument("--inception-weights", metavar="FILE",
                   help="spectrogram FID with pytorch-fid's Inception weights (pt_inception-2015-12-05-6726825d.pth, "
                        "a local file; never downloaded)")
    p.add_argument("--melception-weights", metavar="FILE",
                   help="SpecVQGAN's Melception FID/KID/KL/ISc: melception-21-05-10T09-28-40.pt (needs "
                        "--melception-stats)")
    p.add_argument("--melception-stats", metavar="FILE",
                   help="SpecVQGAN's train_means_stds_melspec_10s_22050hz.txt (80 rows: mean std)")
    p.add_argument("-o", "--out", required=True, help="report folder")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser(
        "demo", help="synthesize a scene and generate its audio with the default model (what 'make demo' runs)",
        description="Render a first-person scene from a seed never used in training (true audio and event times "
                    "known), generate its audio from the silent video with the default model, write the video with "
                    "the generated audio, a figure of the true and generated spectrograms with the true event times "
                    "marked, and print the sync metrics.")
    p.add_argument("--out", default="outputs/demo", help="output folder (default: outputs/demo)")
    p.add_argument("--seed", type=int, default=7, help="scene seed (default: 7, not used in training)")
    p.add_argument("--model", help="model folder (default: the shipped default model)")
    p.add_argument("--steps", type=int, default=20, help="DDIM steps (default: 20)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "app", help="the web demo: upload a video, get it back with generated sound",
        description="Serve the Gradio web demo: upload a video (size and duration limits shown on the page), choose "
                    "steps, guidance and seed, and get the video with its new audio, the spectrogram figure and "
                    "the MP4 and WAV to download. One request is generated at a time; others wait in a queue. "
                    "Prints the address.")
    p.add_argument("--model", help="model folder (save_pretrained format); default: the shipped default model")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 for other machines "
                                                       "(default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    p.add_argument("--max-upload-mb", type=float, default=100.0, help="largest upload in MB (default: 100)")
    p.add_argument("--max-duration", type=float, default=60.0, help="longest video in s (default: 60)")
    p.add_argument("--max-steps", type=int, default=100, help="most DDIM steps a user may ask for (default: 100)")
    p.add_argument("--steps", type=int, default=20, help="initial DDIM steps (default: 20)")
    p.add_argument("--guidance", type=float, default=3.0, help="initial guidance scale (default: 3.0)")
    p.add_argument("--seed", type=int, default=0, help="initial seed (default: 0)")
    p.add_argument("--gl-iters", type=int, default=32, help="Griffin-Lim iterations (default: 32)")
    p.add_argument("--queue-size", type=int, default=16, help="users who may wait their turn (default: 16)")
    p.add_argument("--output-dir", help="where generated files go (default: a temporary folder)")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"],
                   help="model precision (auto: float16 on cuda, float32 elsewhere)")
    p.set_defaults(func=_cmd_app)

    p = sub.add_parser(
        "study", help="run the listening test (paper Sec. A) defined by a YAML file",
        description="Serve the listening test defined by STUDY (YAML: a folder of clips per system; see "
                    "docs/STUDY.md). Participants open the printed link and rate each clip, blinded and in random "
                    "order, then compare ours with each baseline side by side; every answer is stored in SQLite as "
                    "it is given. The organiser's link (with the token) shows progress, MOS with 95 %% confidence "
                    "intervals, preference rates and figures, and exports CSV. With --report, write the results "
                    "into a folder and exit.")
    p.add_argument("study", help="study definition (YAML)")
    p.add_argument("--db", help="answers database (default: STUDY with the suffix .sqlite)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 for other machines "
                                                       "(default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--token", help="organiser token (default: $EGOSONICS_STUDY_TOKEN, else a random one, printed)")
    p.add_argument("--report", metavar="DIR", help="write the CSV exports, figures and results.json to DIR, and exit")
    p.set_defaults(func=_cmd_study)

    from egosonics.experiments.command import add_experiment_command  # experiment summarize (paper Sec. F)

    add_experiment_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from egosonics.utils.logging import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(-1 if args.quiet else args.verbose)
    if args.torch_threads is not None:  # not `threads`: `experiment summarize` has its own --threads
        import torch

        torch.set_num_threads(args.torch_threads)
    else:  # one thread per idle core (torch's own default, one per core, is much slower on a busy machine)
        from egosonics.utils.threads import set_default_threads_env

        set_default_threads_env()
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except EgoSonicsError as exc:
        print(f"egosonics: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # the environment, not a bug: a disk that fills, a folder that goes away mid-run
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"egosonics: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("egosonics: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
