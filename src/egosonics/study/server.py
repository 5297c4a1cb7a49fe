"""The study's web server: the standard library's ``ThreadingHTTPServer``, one thread per request, SQLite behind it.

Why the standard library and not gradio's starlette/uvicorn: a listening test is a few forms, media files and one
results page; ``http.server`` needs no extra package (the study runs on any machine with Python, without torch or
gradio), threads suit SQLite's synchronous API, and every route fits on one screen below.

Routes (participants are known by a cookie holding their id and session secret; organisers by the token):

    GET  /                          welcome page (or straight back to the participant's session)
    POST /join                      new participant: pages drawn, cookie set, → /p/ID/
    GET  /p/ID/                     the current page (a reload resumes here), or the thank-you page
    POST /p/ID/answer               store one answer, → /p/ID/
    GET  /p/ID/answers.json         the participant's own answers (blinded)
    GET  /p/ID/media/N[/left|right] the clip of page N (no system or file name in the URL)
    GET  /admin?token=T             progress, results, figures        /admin/results.json?token=T
    GET  /admin/figures/NAME.png    /admin/export/NAME.csv            /admin/clip/SYSTEM/FILE (preview)
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
import threading
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from egosonics.study import pages as html
from egosonics.study.config import CLIP_EXTENSIONS, Study
from egosonics.study.figures import draw
from egosonics.study.plan import PREFERENCE, RATING
from egosonics.study.report import EXPORTS, export_csv
from egosonics.study.results import compute_results
from egosonics.study.store import AnswerError, Rating, StudyStore

log = logging.getLogger(__name__)

COOKIE = "egosonics_study"
MAX_FORM_BYTES = 16 * 1024
CHUNK = 256 * 1024


class RequestError(Exception):
    """A request refused with ``status`` and a message for the person who made it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def inside(root: Path, relative: str) -> Path:
    """``root/relative``, refused unless it stays inside ``root`` (``..``, absolute paths, symlinks leading out)."""
    candidate = (root / relative).resolve()
    if relative.startswith(("/", "\\")) or "\x00" in relative or not candidate.is_relative_to(root.resolve()):
        raise RequestError(HTTPStatus.FORBIDDEN, f"{relative!r} is outside the study folders; only the study's "
                                                 "clips are served")
    return candidate


def _yes_no(form: dict[str, str], name: str) -> bool:
    value = form.get(name)
    if value not in ("yes", "no"):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"{name} must be 'yes' or 'no', got {value!r}")
    return value == "yes"


def _integer(form: dict[str, str], name: str) -> int:
    value = form.get(name)
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"{name} must be a whole number, got {value!r}") from None


class StudyServer(ThreadingHTTPServer):
    """A study served at ``url``; ``serve_forever()`` in a thread, ``shutdown()`` to stop."""

    daemon_threads = True
    request_queue_size = 256  # many participants may open the link at the same moment

    def __init__(self, study: Study, store: StudyStore, token: str, host: str = "127.0.0.1", port: int = 8000):
        if len(token) < 8:
            raise ValueError(f"the organiser token must have at least 8 characters, got {len(token)}")
        self.study, self.store, self.token = study, store, token
        self._figure_lock = threading.Lock()
        super().__init__((host, port), StudyHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/"


class StudyHandler(BaseHTTPRequestHandler):
    server: StudyServer
    server_version = "egosonics-study"

    # ------------------------------------------------------------------------------------------------ plumbing
    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _html(self, text: str, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None) -> None:
        self._send(status, text.encode(), "text/html; charset=utf-8", headers)

    def _redirect(self, location: str, headers: dict[str, str] | None = None) -> None:
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": location, **(headers or {})})

    def _dispatch(self, method: str) -> None:
        try:
            url = urlsplit(self.path)
            parts = [unquote(p) for p in url.path.split("/")[1:]]
            self._query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if method == "POST":
                self._route_post(parts)
            else:
                self._route_get(parts)
        except RequestError as exc:
            log.info("%s %s → %d %s", method, self.path, exc.status, exc)
            self._html(html.error_page(exc.status, str(exc)), exc.status)
        except AnswerError as exc:
            self._html(html.error_page(exc.status, str(exc), back="/"), exc.status)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (media elements often do)
        except Exception:
            log.exception("%s %s failed", method, self.path)
            self._html(html.error_page(500, "internal error; the organiser can find it in the server's log"), 500)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # ------------------------------------------------------------------------------------------------ routing
    def _route_get(self, parts: list[str]) -> None:
        match parts:
            case [""]:
                own = self._session()
                if own is not None:
                    return self._redirect(f"/p/{own}/")
                return self._html(html.welcome_page(self.server.study))
            case ["static", "study.css"]:
                return self._send(HTTPStatus.OK, html.CSS.encode(), "text/css; charset=utf-8")
            case ["p", pid, ""] | ["p", pid]:
                return self._participant_page(self._participant(pid))
            case ["p", pid, "answers.json"]:
                answers = self.server.store.answers(self._participant(pid))
                return self._send(HTTPStatus.OK, json.dumps(answers).encode(), "application/json")
            case ["p", pid, "media", position, *side]:
                return self._participant_media(self._participant(pid), position, side)
            case ["admin", *rest]:
                self._check_token()
                return self._admin(rest)
        raise RequestError(HTTPStatus.NOT_FOUND, f"no page at {self.path.split('?')[0]!r}")

    def _route_post(self, parts: list[str]) -> None:
        match parts:
            case ["join"]:
                own = self._session()
                if own is not None:  # already taking part: back to their session, not a second one
                    return self._redirect(f"/p/{own}/")
                pid, secret = self.server.store.create_participant(user_agent=self.headers.get("User-Agent", ""))
                cookie = f"{COOKIE}={pid}:{secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000"
                return self._redirect(f"/p/{pid}/", {"Set-Cookie": cookie})
            case ["p", pid, "answer"]:
                pid = self._participant(pid)
                self._answer(pid, self._form())
                return self._redirect(f"/p/{pid}/")
        raise RequestError(HTTPStatus.NOT_FOUND, f"no form at {self.path.split('?')[0]!r}")

    # ------------------------------------------------------------------------------------------------ participants
    def _session(self) -> str | None:
        """The participant id of this browser's cookie, if its secret is right."""
        try:
            morsel = SimpleCookie(self.headers.get("Cookie", "")).get(COOKIE)
        except CookieError:
            return None
        if morsel is None or ":" not in morsel.value:
            return None
        pid, secret = morsel.value.split(":", 1)
        return pid if self.server.store.authenticate(pid, secret) else None

    def _participant(self, pid: str) -> str:
        """``pid`` if this browser is that participant, else refused (nobody reads another's pages or answers)."""
        own = self._session()
        if own == pid:
            return pid
        if own is None:
            raise RequestError(HTTPStatus.FORBIDDEN, f"this browser has no session for participant {pid!r}; open "
                                                     "the study's link to take part")
        raise RequestError(HTTPStatus.FORBIDDEN, f"participant {pid!r}'s pages and answers belong to another "
                                                 f"participant; your own session is /p/{own}/")

    def _participant_page(self, pid: str) -> None:
        study, store = self.server.study, self.server.store
        plan = store.pages(pid)
        position = store.next_position(pid)
        if position >= len(plan):
            return self._html(html.done_page(study, pid, len(plan)))
        page = plan[position]
        if page.kind == RATING:
            suffix = study.clip_path(page.system, page.clip).suffix  # type: ignore[arg-type]
            return self._html(html.rating_page(study, pid, page, len(plan), suffix))
        suffixes = (study.clip_path(page.left, page.clip).suffix,  # type: ignore[arg-type]
                    study.clip_path(page.right, page.clip).suffix)  # type: ignore[arg-type]
        return self._html(html.preference_page(study, pid, page, len(plan), suffixes))

    def _participant_media(self, pid: str, position: str, side: list[str]) -> None:
        plan = self.server.store.pages(pid)
        if not position.isdigit() or int(position) >= len(plan):
            raise RequestError(HTTPStatus.NOT_FOUND, f"participant {pid} has no page {position!r}")
        page = plan[int(position)]
        if page.kind == RATING and not side:
            system = page.system
        elif page.kind == PREFERENCE and side in (["left"], ["right"]):
            system = page.left if side == ["left"] else page.right
        else:
            raise RequestError(HTTPStatus.NOT_FOUND, f"page {position} of participant {pid} has no clip "
                                                     f"{'/'.join(side)!r}")
        self._file(self.server.study.clip_path(system, page.clip))  # type: ignore[arg-type]

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_FORM_BYTES:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"form of {length} bytes refused; the limit is {MAX_FORM_BYTES}")
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}

    def _answer(self, pid: str, form: dict[str, str]) -> None:
        position = _integer(form, "position")
        if "choice" in form:
            stored = self.server.store.record(pid, position, choice=form["choice"])
        else:
            rating = Rating(realism=_integer(form, "realism"), relevant=_yes_no(form, "relevant"),
                            synchronized=_yes_no(form, "synchronized"),
                            other_category=_yes_no(form, "other_category"))
            stored = self.server.store.record(pid, position, rating=rating)
        if not stored:
            log.info("participant %s resubmitted page %d; the first answer stays", pid, position)

    # ------------------------------------------------------------------------------------------------ files
    def _file(self, path: Path) -> None:
        """Send a clip, honouring a single ``Range: bytes=a-b`` (browsers need it to seek in media)."""
        size = path.stat().st_size
        content_type = CLIP_EXTENSIONS.get(path.suffix.lower(), "application/octet-stream")
        start, end, status = 0, size - 1, HTTPStatus.OK
        wanted = self.headers.get("Range")
        if wanted:
            found = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
            if not found or found.groups() == ("", ""):
                raise RequestError(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, f"unsupported range {wanted!r}")
            first, last = found.groups()
            start, end = (int(first), min(int(last or size - 1), size - 1)) if first else (max(0, size - int(last)),
                                                                                            size - 1)
            if start > end:
                raise RequestError(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                                   f"range {wanted!r} is outside the file's {size} bytes")
            status = HTTPStatus.PARTIAL_CONTENT
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "private, max-age=600")
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if self.command == "HEAD":
            return
        with path.open("rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(CHUNK, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)

    # ------------------------------------------------------------------------------------------------ organiser
    def _check_token(self) -> None:
        given = self._query.get("token")
        auth = self.headers.get("Authorization", "")
        if given is None and auth.startswith("Bearer "):
            given = auth.removeprefix("Bearer ").strip()
        if not given:
            raise RequestError(HTTPStatus.UNAUTHORIZED, "the organiser pages need the study's token: open the "
                                                        "organiser link printed at start-up (/admin?token=...)")
        if not hmac.compare_digest(given.encode(), self.server.token.encode()):
            raise RequestError(HTTPStatus.FORBIDDEN, "wrong organiser token; use the one printed at start-up")

    def _admin(self, rest: list[str]) -> None:
        study, store = self.server.study, self.server.store
        match rest:
            case [] | [""]:
                results = compute_results(study, store)
                return self._html(html.admin_page(study, results, store.progress(), self.server.token))
            case ["results.json"]:
                body = json.dumps(compute_results(study, store).to_dict(), indent=1).encode()
                return self._send(HTTPStatus.OK, body, "application/json")
            case ["figures", name] if name.endswith(".png"):
                results = compute_results(study, store)
                try:
                    with self.server._figure_lock:  # matplotlib's font cache is not thread-safe
                        png = draw(name.removesuffix(".png"), results)
                except KeyError as exc:
                    raise RequestError(HTTPStatus.NOT_FOUND, str(exc.args[0])) from None
                return self._send(HTTPStatus.OK, png, "image/png")
            case ["export", name] if name.removesuffix(".csv") in EXPORTS and name.endswith(".csv"):
                body = export_csv(name.removesuffix(".csv"), study, store).encode()
                return self._send(HTTPStatus.OK, body, "text/csv; charset=utf-8",
                                  {"Content-Disposition": f'attachment; filename="{name}"'})
            case ["clip", system, *relative] if relative:
                try:
                    root = study.system(system).folder
                except KeyError as exc:
                    raise RequestError(HTTPStatus.NOT_FOUND, str(exc.args[0])) from None
                path = inside(root, "/".join(relative))
                if not path.is_file() or path.suffix.lower() not in CLIP_EXTENSIONS:
                    raise RequestError(HTTPStatus.NOT_FOUND, f"no clip {'/'.join(relative)!r} in system {system!r}")
                return self._file(path)
        raise RequestError(HTTPStatus.NOT_FOUND, f"no organiser page at {self.path.split('?')[0]!r}")


def make_server(study: Study, db: str | Path, *, host: str = "127.0.0.1", port: int = 8000,
                token: str | None = None) -> StudyServer:
    """Open (or create) the study's database and bind the server; call ``serve_forever()`` to start answering."""
    store = StudyStore(db, study)
    server = StudyServer(study, store, token or secrets.token_urlsafe(16), host=host, port=port)
    log.info("study %r on %s, answers in %s", study.title, server.url, store.path)
    return server
