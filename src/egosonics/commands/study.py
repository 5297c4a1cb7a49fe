"""``egosonics study``: the listening test (paper Sec. A) defined by a YAML file."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from egosonics.errors import EgoSonicsError
from egosonics.options import whole

PORT = whole(0, 65_535)


def run(args: argparse.Namespace) -> int:
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
        return 0
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
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--port", type=PORT, default=8000, help="port; 0 picks a free one (default: 8000)")
    p.add_argument("--token", help="organiser token (default: $EGOSONICS_STUDY_TOKEN, else a random one, printed)")
    p.add_argument("--report", metavar="DIR", help="write the CSV exports, figures and results.json to DIR, and exit")
    p.set_defaults(func=run)
