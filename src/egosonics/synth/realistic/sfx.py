"""Sound-effect recordings for realistic scenes, read at run time from a folder the user gives (never copied into
the repository), filtered by licence.

The folder holds audio files and a ``SOURCES.md`` whose table lists, per file, its licence and author (as
``../shared/data/sfx/SOURCES.md`` does). Only files whose licence is CC0 or CC BY (any version) are used: CC BY-SA,
CC BY-NC, GPL and anything unlisted are refused, so that the data and a model trained on it carry no share-alike or
copyleft terms, only attributions. Every scene records the files it used (``Timeline.sfx``) for a model card.

    licence_allows(text)        whether a licence string is usable (CC0 / CC BY)
    read_sources(folder)        {file: SfxSource} from SOURCES.md
    SfxLibrary(folder)          the allowed files per use (door, water, roll, floors, metal placing), loaded and
                                resampled on demand, cached per process
    resolve_sfx_classes(...)    the sfx folder and classes of realistic settings (a one-line error when needed)
    attributions(folder)        every recording used by the timelines in a folder, once, with its licence and
                                author: what a model card trained on those scenes must credit
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

from egosonics.errors import EgoSonicsError

log = logging.getLogger(__name__)

SOURCES_FILE = "SOURCES.md"

def _beside_checkout() -> Path:
    parents = Path(__file__).resolve().parents  # .../src/egosonics/synth/realistic/sfx.py in a checkout
    return parents[5] / "shared" / "data" / "sfx" if len(parents) > 5 else Path("../shared/data/sfx")


DEFAULT_SFX_DIRS: tuple[Path, ...] = (
    Path("../shared/data/sfx"),  # from the repository root, as the tests and scripts run
    _beside_checkout(),  # beside the checkout, wherever run from
)
"""Where the sfx folder is looked for when none is given (the first that exists)."""

USES: dict[str, tuple[str, ...]] = {
    # class door: a cabinet door or a box lid pushed shut
    "door": ("minetest_default_chest_close.ogg", "minetest_doors_door_close.ogg",
             "minetest_doors_steel_door_close.ogg", "minetest_doors_fencegate_close.ogg"),
    # class water: a tap running into a sink (looped while it runs)
    "water": ("minetest_env_sounds_water_1.ogg", "minetest_env_sounds_water_2.ogg",
              "minetest_env_sounds_water_3.ogg", "minetest_env_sounds_water_4.ogg"),
    # class roll: a cart rolling (looped, level following its speed)
    "roll": ("minetest_carts_cart_moving_1.ogg", "minetest_carts_cart_moving_2.ogg",
             "minetest_carts_cart_moving_3.ogg"),
    # class place, metal objects set down
    "place-metal": ("minetest_default_place_node_metal_1.ogg", "minetest_default_place_node_metal_2.ogg",
                    "minetest_default_dug_metal_1.ogg", "minetest_default_dug_metal_2.ogg"),
    # class footsteps on floors only recordings provide
    "footsteps-metal": ("minetest_default_metal_footstep_1.ogg", "minetest_default_metal_footstep_2.ogg",
                        "minetest_default_metal_footstep_3.ogg"),
    "footsteps-sand": ("minetest_default_sand_footstep_1.ogg", "minetest_default_sand_footstep_2.ogg",
                       "minetest_default_sand_footstep_3.ogg"),
    "footsteps-hard": ("minetest_default_hard_footstep_1.ogg", "minetest_default_hard_footstep_2.ogg",
                       "minetest_default_hard_footstep_3.ogg"),
}
"""Which recordings serve which use (each still subject to the licence filter)."""

SFX_FLOORS: tuple[str, ...] = ("metal", "sand", "hard")
"""Floors whose footsteps are recordings (the procedural floors are ``settings.FLOOR_MATERIALS``)."""


def licence_allows(licence: str) -> bool:
    """True for CC0 and CC BY (any version); False for CC BY-SA / -NC / -ND, GPL, LGPL and anything else."""
    text = licence.strip().upper()
    if re.match(r"^CC0\b", text) or text.startswith("PUBLIC DOMAIN"):
        return True
    return re.match(r"^CC[ -]BY(\s+\d+(\.\d+)?)?\s*$", text) is not None


@dataclass(frozen=True)
class SfxSource:
    """One recording as SOURCES.md lists it."""

    file: str
    licence: str
    author: str
    source: str

    def attribution(self, used_as: str) -> dict[str, str]:
        return {"file": self.file, "licence": self.licence, "author": self.author, "source": self.source,
                "used_as": used_as}


def read_sources(folder: Path) -> dict[str, SfxSource]:
    """Parse the table of ``folder/SOURCES.md``: | `file` | source | path | commit | license | author | ... |."""
    path = folder / SOURCES_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise EgoSonicsError(f"{path}: no such file (an sfx folder needs a SOURCES.md listing each file's "
                             f"licence)") from None
    out: dict[str, SfxSource] = {}
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set(cells[0]) <= set("-: "):
            continue
        row = dict(zip(header, cells, strict=False))
        name = row.get("file", "").strip("`")
        licence = row.get("license", row.get("licence", ""))
        if name:
            out[name] = SfxSource(name, licence, row.get("author / upstream", row.get("author", "")),
                                  row.get("source", ""))
    return out


class SfxLibrary:
    """The allowed recordings of an sfx folder, per use.

    Args:
        folder: the folder (with SOURCES.md).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise EgoSonicsError(f"{self.folder}: sfx folder not found")
        self.sources = read_sources(self.folder)

    def allowed(self, use: str) -> list[SfxSource]:
        """The recordings for ``use`` (a key of ``USES``) that exist and whose licence allows them."""
        out = []
        for name in USES[use]:
            src = self.sources.get(name)
            if src is None or not licence_allows(src.licence) or not (self.folder / name).is_file():
                continue
            out.append(src)
        return out

    def check(self, use: str) -> None:
        if not self.allowed(use):
            raise EgoSonicsError(f"{self.folder}: no CC0 / CC BY recording for {use!r} (looked for "
                                 f"{', '.join(USES[use])} in {SOURCES_FILE})")

    def pick(self, use: str, rng: np.random.Generator, sr: int) -> tuple[np.ndarray, SfxSource]:
        """A random allowed recording for ``use`` at ``sr``, trimmed to start at its first transient (peak 1)."""
        choices = self.allowed(use)
        if not choices:
            self.check(use)
        src = choices[int(rng.integers(len(choices)))]
        return load(str(self.folder / src.file), sr, use not in LOOPS).copy(), src

    def refuse(self, name: str) -> str | None:
        """Why a file would not be used (None when it would)."""
        src = self.sources.get(name)
        if src is None:
            return f"{name} is not listed in {SOURCES_FILE}"
        if not licence_allows(src.licence):
            return f"{name} is {src.licence} (only CC0 and CC BY are used)"
        return None


LOOPS: tuple[str, ...] = ("water", "roll")
"""Uses whose recordings are looped from their first sound; the others are one-shots aligned on their attack."""


@lru_cache(maxsize=64)
def load(path: str, sr: int, attack: bool = True) -> np.ndarray:
    """Mono float64 at ``sr``, peak 1, starting 3 ms before its attack (the 5 ms envelope first reaching 30 % of its
    peak: a door's slam after its creak, a step's heel) or, with ``attack=False``, before its first sound. Cached."""
    import soundfile as sf

    try:
        audio, rate = sf.read(path, dtype="float64", always_2d=True)
    except (OSError, RuntimeError) as exc:
        raise EgoSonicsError(f"{path}: cannot read the recording ({exc})") from None
    mono = audio.mean(axis=1)
    if rate != sr:
        g = np.gcd(int(rate), int(sr))
        mono = signal.resample_poly(mono, sr // g, int(rate) // g)
    peak = np.abs(mono).max()
    if peak <= 0:
        raise EgoSonicsError(f"{path}: the recording is silent")
    if attack:
        width = max(1, int(0.005 * sr))
        envelope = np.convolve(np.abs(mono), np.ones(width) / width, mode="full")[:len(mono)]  # causal
        first = int(np.argmax(envelope >= 0.3 * envelope.max())) - width // 2
    else:
        first = int(np.argmax(np.abs(mono) > 0.03 * peak))
    mono = mono[max(0, first - int(0.003 * sr)):]
    mono = mono / np.abs(mono).max()
    fade = int(0.001 * sr)
    mono[:fade] *= np.linspace(0.0, 1.0, fade)  # no click before the attack
    mono.setflags(write=False)
    return mono


def looped(x: np.ndarray, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``x`` repeated with 50 ms crossfades (from a random start) to fill n samples."""
    fade = min(int(0.05 * sr), len(x) // 4)
    start = int(rng.integers(0, max(1, len(x) // 2)))
    out = np.zeros(n)
    pos, seg = 0, x[start:]
    ramp = np.linspace(0.0, 1.0, fade)
    while pos < n:
        m = min(len(seg), n - pos)
        piece = seg[:m].copy()
        if pos > 0 and m >= fade:
            piece[:fade] *= ramp
            out[pos:pos + fade] *= 1.0 - ramp[: min(fade, n - pos)]
        out[pos:pos + m] += piece
        pos += m - fade if m == len(seg) else m
        seg = x
    return out


def default_sfx_dir() -> Path | None:
    """The first of ``DEFAULT_SFX_DIRS`` that exists (None when none does)."""
    for folder in DEFAULT_SFX_DIRS:
        if (folder / SOURCES_FILE).is_file():
            return folder
    return None


def resolve_sfx_classes(sfx_dir: str | None, classes: tuple[str, ...], *,
                        explicit: bool) -> tuple[str | None, tuple[str, ...]]:
    """The sfx folder and the classes of realistic settings.

    A given ``sfx_dir`` must exist. Without one the default folder is used when present; when it is absent, sfx
    classes are dropped from the default classes with a warning, and requested explicitly they are an error.
    """
    from egosonics.synth.settings import SFX_CLASSES

    wanted = [c for c in classes if c in SFX_CLASSES]
    if sfx_dir is not None:
        folder = Path(sfx_dir)
        if not (folder / SOURCES_FILE).is_file():
            raise ValueError(f"--sfx-dir {sfx_dir}: not an sfx folder (no {SOURCES_FILE} in it)")
        library = SfxLibrary(folder)
        for cls in wanted:
            try:
                library.check(cls)
            except EgoSonicsError as exc:
                raise ValueError(str(exc)) from None
        return str(folder), classes
    found = default_sfx_dir()
    if found is not None:
        return str(found), classes
    if not wanted:
        return None, classes
    if explicit:
        raise ValueError(f"class(es) {', '.join(wanted)} need sound recordings: no sfx folder at "
                         f"{DEFAULT_SFX_DIRS[0]}; pass --sfx-dir DIR")
    log.warning("no sfx folder at %s: realistic scenes leave out the recorded classes (%s); pass --sfx-dir DIR",
                DEFAULT_SFX_DIRS[0], ", ".join(wanted))
    return None, tuple(c for c in classes if c not in SFX_CLASSES)



def attributions(folder: str | Path) -> list[dict[str, Any]]:
    """The recordings used by the timelines (``NAME.json`` written by ``egosonics synth``) in ``folder``: one entry
    per file (file, licence, author, source; used_as: its uses; scenes: how many scenes use it), sorted by file."""
    from egosonics.synth.timeline import load_timeline

    merged: dict[str, dict[str, Any]] = {}
    for path in sorted(Path(folder).glob("*.json")):
        if path.name.startswith("synth-"):  # the run's settings, not a timeline
            continue
        entries = load_timeline(path).sfx
        for entry in entries:
            row = merged.setdefault(entry["file"], {**{k: entry[k] for k in ("file", "licence", "author", "source")},
                                                    "used_as": [], "scenes": 0})
            if entry["used_as"] not in row["used_as"]:
                row["used_as"] = sorted([*row["used_as"], entry["used_as"]])
        for name in {e["file"] for e in entries}:
            merged[name]["scenes"] += 1
    return [merged[name] for name in sorted(merged)]
