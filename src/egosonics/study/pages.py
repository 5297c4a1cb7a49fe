"""The study's HTML: plain forms (no script needed), one page per clip, the organiser's results page.

Participant pages never name a system or a file: a clip is "clip 3 of 20", a pair is "A" (left) and "B" (right).
Every number on the organiser's page carries ``data-key`` and ``data-value`` (full precision) attributes, so that
tests and scripts can read exactly what is shown.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from egosonics.study.config import CLIP_EXTENSIONS, Study
from egosonics.study.figures import FIGURES
from egosonics.study.plan import Page
from egosonics.study.results import StudyResults, fmt_score, fmt_share

CSS = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.media { width: 100%; max-height: 60vh; background: #000; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.pair figure { margin: 0; } .pair figcaption { font-weight: bold; font-size: 1.2rem; text-align: center; }
fieldset { border: 1px solid #ccc; border-radius: 6px; margin: 0.8rem 0; padding: 0.6rem 1rem; }
legend { font-weight: 600; } label { margin-right: 1.2rem; white-space: nowrap; }
button { font-size: 1.1rem; padding: 0.5rem 1.5rem; margin-top: 0.5rem; }
.progress { color: #666; } .error { color: #b00020; font-weight: 600; }
table { border-collapse: collapse; margin: 0.5rem 0; } td, th { border: 1px solid #ddd; padding: 0.25rem 0.6rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } img.figure { max-width: 100%; }
"""


def layout(title: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)}</title><link rel="stylesheet" href="/static/study.css"></head>'
            f"<body>{body}</body></html>")


def error_page(status: int, message: str, back: str | None = None) -> str:
    link = f'<p><a href="{escape(back)}">Back</a></p>' if back else ""
    return layout(f"Error {status}", f'<h1>Error {status}</h1><p class="error" id="error">{escape(message)}</p>{link}')


def welcome_page(study: Study) -> str:
    instructions = "".join(f"<p>{escape(p)}</p>" for p in study.instructions.split("\n\n") if p.strip())
    return layout(study.title, f"""<h1>{escape(study.title)}</h1>{instructions}
<p>You will see {study.pages_per_participant} short videos or pairs of videos. Please use headphones, watch each one
with its sound, and answer the questions below it. It takes about {max(1, study.pages_per_participant // 2)} minutes;
you can close the page and come back in the same browser to continue where you stopped.</p>
<form method="post" action="/join"><button type="submit" id="start">Start</button></form>""")


def _media(url: str, suffix: str, element_id: str) -> str:
    tag = "audio" if CLIP_EXTENSIONS.get(suffix.lower(), "").startswith("audio/") else "video"
    return (f'<{tag} id="{element_id}" class="media" controls preload="metadata" playsinline '
            f'src="{escape(url)}"></{tag}>')


def _yes_no(name: str, question: str) -> str:
    return (f'<fieldset><legend>{escape(question)}</legend>'
            f'<label><input type="radio" name="{name}" value="yes" required> Yes</label>'
            f'<label><input type="radio" name="{name}" value="no"> No</label></fieldset>')


def rating_page(study: Study, participant: str, page: Page, total: int, suffix: str) -> str:
    """The four questions of the paper's Sec. A about one clip."""
    realism = "".join(f'<label><input type="radio" name="realism" value="{v}"{" required" if v == 1 else ""}> '
                      f'{v}{label}</label>'
                      for v, label in ((1, " (doesn't sound real)"), (2, ""), (3, ""), (4, ""), (5, " (sounds real)")))
    body = f"""<h1>{escape(study.title)}</h1><p class="progress" id="progress">Clip {page.position + 1} of {total}</p>
{_media(f"/p/{participant}/media/{page.position}", suffix, "clip")}
<form method="post" action="/p/{participant}/answer" id="answer">
<input type="hidden" name="position" value="{page.position}">
<fieldset><legend>How real does the sound seem?</legend>{realism}</fieldset>
{_yes_no("relevant", "Is the sound contextually relevant to what happens in the video?")}
{_yes_no("synchronized", "Are the events in the video and the sound synchronized?")}
{_yes_no("other_category", "Does the sound seem to come from a different kind of activity "
                           "(e.g. a carpentry sound for a vacuum cleaner)?")}
<button type="submit" id="next">Next</button></form>"""
    return layout(f"{study.title}: clip {page.position + 1}", body)


def preference_page(study: Study, participant: str, page: Page, total: int, suffixes: tuple[str, str]) -> str:
    """Two versions of one clip side by side; which sound is better?"""
    base = f"/p/{participant}/media/{page.position}"
    body = f"""<h1>{escape(study.title)}</h1><p class="progress" id="progress">Clip {page.position + 1} of {total}</p>
<p>The same video with two different soundtracks. Watch both with their sound.</p>
<div class="pair"><figure><figcaption>A</figcaption>{_media(base + "/left", suffixes[0], "left")}</figure>
<figure><figcaption>B</figcaption>{_media(base + "/right", suffixes[1], "right")}</figure></div>
<form method="post" action="/p/{participant}/answer" id="answer">
<input type="hidden" name="position" value="{page.position}">
<fieldset><legend>Which sound fits the video better (more real, better synchronized)?</legend>
<label><input type="radio" name="choice" value="left" required> A (left)</label>
<label><input type="radio" name="choice" value="right"> B (right)</label></fieldset>
<button type="submit" id="next">Next</button></form>"""
    return layout(f"{study.title}: clip {page.position + 1}", body)


def done_page(study: Study, participant: str, total: int) -> str:
    return layout(study.title, f"""<h1 id="done">Thank you!</h1><p>You answered all {total} pages of
{escape(study.title)}. Your participant code is <code id="code">{escape(participant)}</code>.</p>""")


# ------------------------------------------------------------------------------------------------ organiser
def _num(key: str, value: float | int | None, text: str) -> str:
    data = "" if value is None else repr(float(value))
    return f'<td class="num" data-key="{escape(key)}" data-value="{data}">{escape(text)}</td>'


def admin_page(study: Study, results: StudyResults, progress: list[dict[str, object]], token: str) -> str:
    """Progress, the results tables (paper Sec. A items 1-4), the figures and the export links."""
    q = f"?token={quote(token)}"
    # 1. Per system
    rows = "".join(
        f"<tr><td>{escape(s.system)}</td><td>{escape(s.role)}</td>{_num(f'n:{s.system}', s.n, str(s.n))}"
        f"{_num(f'mos:{s.system}', s.mos, fmt_score(s.mos))}"
        f"{_num(f'ci_low:{s.system}', s.ci_low, fmt_score(s.ci_low))}"
        f"{_num(f'ci_high:{s.system}', s.ci_high, fmt_score(s.ci_high))}"
        + "".join(_num(f"{k}:{s.system}", getattr(s, k), fmt_share(getattr(s, k)))
                  for k in ("realistic", "relevant", "synchronized", "category_error")) + "</tr>"
        for s in results.systems)
    systems = ("<table id=\"systems\"><tr><th>system</th><th>role</th><th>ratings</th><th>MOS</th>"
               "<th>95 % CI low</th><th>95 % CI high</th><th>realism 4-5</th><th>relevant</th><th>synchronized</th>"
               f"<th>other category (error)</th></tr>{rows}</table>")
    # 2. Preferences
    rows = "".join(
        f"<tr><td>ours vs {escape(p.baseline)}</td>{_num(f'pref_n:{p.baseline}', p.n, str(p.n))}"
        f"{_num(f'pref_wins:{p.baseline}', p.ours_preferred, str(p.ours_preferred))}"
        f"{_num(f'pref_rate:{p.baseline}', p.rate, fmt_share(p.rate))}"
        f"{_num(f'pref_ci_low:{p.baseline}', p.ci_low, fmt_share(p.ci_low))}"
        f"{_num(f'pref_ci_high:{p.baseline}', p.ci_high, fmt_share(p.ci_high))}</tr>" for p in results.preferences)
    preferences = ("<table id=\"preferences\"><tr><th>pair</th><th>pages</th><th>ours preferred</th><th>rate</th>"
                   f"<th>95 % CI low</th><th>95 % CI high</th></tr>{rows}</table>") if results.preferences else \
        "<p>No baseline in this study.</p>"
    # 3. As real as ground truth
    gt = results.as_real_as_ground_truth
    as_real = "<p>No ground truth in this study.</p>" if gt is None else (
        "<table id=\"as-real\"><tr><th></th><th>count</th><th>ours rated at least as real as ground truth</th></tr>"
        f"<tr><td>cases (participant × clip)</td>{_num('as_real_cases', gt.cases, str(gt.cases))}"
        f"{_num('as_real_case_share', gt.case_share, fmt_share(gt.case_share))}</tr>"
        f"<tr><td>clips (mean realism)</td>{_num('as_real_clips', gt.clips, str(gt.clips))}"
        f"{_num('as_real_clip_share', gt.clip_share, fmt_share(gt.clip_share))}</tr></table>")
    ours = next(s for s in results.systems if s.role == "ours")
    figures = "".join(f'<p><img class="figure" alt="{name}" src="/admin/figures/{name}.png{q}"></p>'
                      for name in FIGURES)
    # 4. Progress and stimuli
    rows = "".join(f"<tr><td>{escape(str(p['id']))}</td><td>{escape(str(p['created_at']))}</td>"
                   f"<td class=\"num\">{p['answered']} / {p['total']}</td>"
                   f"<td>{escape(str(p['last_answer_at'] or '–'))}</td></tr>" for p in progress)
    stimuli = "".join(
        f"<tr><td>{escape(clip)}</td>" + "".join(
            f'<td><a href="/admin/clip/{quote(s.name)}/{quote(s.clips[clip].name)}{q}">{escape(s.name)}</a></td>'
            for s in study.systems) + "</tr>" for clip in study.clips)
    exports = " · ".join(f'<a href="/admin/export/{name}.csv{q}">{name}.csv</a>'
                         for name in ("ratings", "preferences", "participants", "summary"))
    body = f"""<h1>{escape(study.title)}: organiser</h1>
<p>Participants: <span data-key="participants">{results.participants}</span> joined,
<span data-key="finished">{results.finished}</span> finished, <span data-key="answers">{results.answers}</span>
answers. Ours: <b>{escape(ours.system)}</b>. Export: {exports} · <a href="/admin/results.json{q}">results.json</a></p>
<h2>Ratings per system (MOS 1-5, shares of yes)</h2>{systems}
<h2>Preference (side by side)</h2>{preferences}
<h2>Ours as real as ground truth</h2>{as_real}
<h2>Figures</h2>{figures}
<h2>Progress</h2><table id="progress"><tr><th>participant</th><th>joined (UTC)</th><th>answered</th>
<th>last answer (UTC)</th></tr>{rows}</table>
<h2>Stimuli</h2><table id="stimuli">{stimuli}</table>"""
    return layout(f"{study.title}: organiser", body)
