"""The listening test of the paper's Sec. A: a small web server, answers in SQLite, results with figures.

A map, in the order a study runs:

    config   STUDY.yaml → ``Study``: systems (ours, baselines, ground truth), each a folder of clips matched by name
    plan     a participant's pages: rating pages (one clip of one system, shuffled, blinded) then preference pages
             (ours vs a baseline on the same clip, side by side, left/right at random)
    store    SQLite in WAL mode: participants, their pages, every answer written as it is given
    server   the participant pages and the organiser's pages (behind a token), on the standard library's
             ``ThreadingHTTPServer``; ``pages`` renders the HTML
    results  MOS with 95 % confidence intervals, preference rates, "as real as ground truth", category errors;
             ``figures`` draws them (matplotlib PNG); ``report`` writes the CSV exports, figures and results.json

This package imports neither torch nor gradio: a study runs on any machine with Python, PyYAML and matplotlib.
"""

from egosonics.study.config import Study, System, load_study

__all__ = ["Study", "System", "load_study"]
