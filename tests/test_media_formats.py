"""One answer to "is this a video (or a media) file", used by generate, evaluate, the experiments and the study."""

from __future__ import annotations

import subprocess
import sys

from egosonics.evaluation.evaluate import clip_files
from egosonics.generate import collect_inputs
from egosonics.media.formats import AUDIO_TYPES, VIDEO_TYPES, is_media_file, is_video_file
from egosonics.study.config import CLIP_EXTENSIONS


def test_video_and_audio_by_extension_in_any_case():
    assert is_video_file("a/b.MP4") and is_video_file("x.ts") and is_video_file("x.webm")
    assert not is_video_file("x.wav") and not is_video_file("x.png") and not is_video_file("mp4")
    assert is_media_file("x.FLAC") and is_media_file("x.mkv") and not is_media_file("x.json")
    assert not set(AUDIO_TYPES) & set(VIDEO_TYPES)
    assert set(CLIP_EXTENSIONS) <= set(AUDIO_TYPES) | set(VIDEO_TYPES)  # what a browser plays is a subset


def test_generate_and_evaluate_pick_files_with_the_same_answer(tmp_path):
    for name in ("a.mp4", "a.wav", "b.MKV", "c.ogg", "c.webm", "notes.txt", "d.ts"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in collect_inputs([tmp_path])] == ["a.mp4", "b.MKV", "c.webm", "d.ts"]
    found = clip_files(tmp_path)  # video preferred over audio of the same name, whichever sorts first
    assert {k: p.name for k, p in found.items()} == {"a": "a.mp4", "b": "b.MKV", "c": "c.webm", "d": "d.ts"}


def test_the_study_reads_formats_without_a_decoding_library():
    code = "import sys, egosonics.study.results; print('av' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
