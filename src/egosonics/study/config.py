"""A study's definition: a small YAML file naming a folder of clips per system.

    title: EgoSonics listening test
    systems:
      egosonics:    {role: ours, folder: clips/egosonics}
      diff-foley:   {role: baseline, folder: clips/diff-foley}
      ground-truth: {role: ground_truth, folder: clips/ground-truth}
    ratings_per_participant: 16     # optional; default: every clip of every system
    pairs_per_participant: 8        # optional; default: every clip against every baseline

Folders are relative to the YAML file. A clip is one file per system with the same name stem in every folder
(``kitchen_03.mp4`` in each); clips missing from some folder are left out, with a warning naming them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from egosonics.errors import EgoSonicsError
from egosonics.media.formats import AUDIO_TYPES, MEDIA_TYPES

log = logging.getLogger(__name__)

ROLES = ("ours", "baseline", "ground_truth")
# What a browser plays (extension → MIME type): the containers of egosonics' outputs and the usual audio files.
CLIP_EXTENSIONS = {ext: MEDIA_TYPES[ext] for ext in (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".ogv", *AUDIO_TYPES)}
KNOWN_KEYS = {"title", "instructions", "systems", "ratings_per_participant", "pairs_per_participant"}


class StudyError(EgoSonicsError, ValueError):
    """A study file that cannot be used; the message names the file, the key and the bad value."""


@dataclass(frozen=True)
class System:
    """One system whose clips are rated: ``name`` (as in the YAML), ``role`` (one of ``ROLES``), ``folder``."""

    name: str
    role: str
    folder: Path
    clips: dict[str, Path] = field(default_factory=dict, compare=False, repr=False)  # clip name → file


@dataclass(frozen=True)
class Study:
    """A loaded study: its systems and the clip names every system has."""

    path: Path
    title: str
    instructions: str
    systems: tuple[System, ...]
    clips: tuple[str, ...]
    ratings_per_participant: int | None = None
    pairs_per_participant: int | None = None

    def system(self, name: str) -> System:
        for system in self.systems:
            if system.name == name:
                return system
        raise KeyError(f"unknown system {name!r}; this study has {[s.name for s in self.systems]}")

    @property
    def ours(self) -> System:
        return next(s for s in self.systems if s.role == "ours")

    @property
    def baselines(self) -> tuple[System, ...]:
        return tuple(s for s in self.systems if s.role == "baseline")

    @property
    def ground_truth(self) -> System | None:
        return next((s for s in self.systems if s.role == "ground_truth"), None)

    def clip_path(self, system: str, clip: str) -> Path:
        """The file of ``clip`` in ``system``'s folder (both must be part of the study)."""
        return self.system(system).clips[clip]

    @property
    def num_rating_items(self) -> int:
        return len(self.clips) * len(self.systems)

    @property
    def num_pair_items(self) -> int:
        return len(self.clips) * len(self.baselines)

    @property
    def pages_per_participant(self) -> int:
        return _capped(self.ratings_per_participant, self.num_rating_items) + _capped(self.pairs_per_participant,
                                                                                      self.num_pair_items)


def _capped(wanted: int | None, available: int) -> int:
    """``wanted`` items out of ``available`` (None: all of them)."""
    return available if wanted is None else min(wanted, available)


def _scan(folder: Path, where: str) -> dict[str, Path]:
    """Clip name (file stem) → file, for the playable files directly inside ``folder``."""
    clips: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in CLIP_EXTENSIONS:
            continue
        if path.stem in clips:
            raise StudyError(f"{where}: two clips named {path.stem!r} ({clips[path.stem].name} and {path.name}); "
                             "keep one file per clip name")
        clips[path.stem] = path
    return clips


def _count(raw: dict[str, Any], key: str, source: Path) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StudyError(f"{source}: {key} must be a whole number >= 0 (or left out), got {value!r}")
    return value


def load_study(path: str | os.PathLike[str]) -> Study:
    """Read a study YAML file and find the clips every system has.

    Raises:
        StudyError: the file, a key or a folder is wrong; the message says which and what is expected.
    """
    source = Path(path).resolve()
    # 1. Read the YAML
    if not source.is_file():
        raise StudyError(f"{source}: study file not found")
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StudyError(f"{source}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise StudyError(f"{source}: expected a mapping with a 'systems' key, got {type(raw).__name__}")
    unknown = sorted(set(raw) - KNOWN_KEYS)
    if unknown:
        raise StudyError(f"{source}: unknown key(s) {unknown}; choose from {sorted(KNOWN_KEYS)}")
    # 2. Systems: name → role and folder
    entries = raw.get("systems")
    if not isinstance(entries, dict) or not entries:
        raise StudyError(f"{source}: 'systems' must map each system's name to {{role: ..., folder: ...}}, "
                         f"got {entries!r}")
    systems: list[System] = []
    for name, entry in entries.items():
        where = f"{source}: systems.{name}"
        if not isinstance(entry, dict) or set(entry) != {"role", "folder"}:
            raise StudyError(f"{where}: expected {{role: ..., folder: ...}}, got {entry!r}")
        if entry["role"] not in ROLES:
            raise StudyError(f"{where}.role: unknown role {entry['role']!r}; choose from {list(ROLES)}")
        folder = (source.parent / str(entry["folder"])).resolve()
        if not folder.is_dir():
            raise StudyError(f"{where}.folder: {folder}: folder not found")
        systems.append(System(name=str(name), role=entry["role"], folder=folder,
                              clips=_scan(folder, f"{where}.folder {folder}")))
    roles = [s.role for s in systems]
    if roles.count("ours") != 1:
        raise StudyError(f"{source}: exactly one system must have role 'ours', got {roles.count('ours')} "
                         f"({[s.name for s in systems if s.role == 'ours']})")
    if roles.count("ground_truth") > 1:
        raise StudyError(f"{source}: at most one system may have role 'ground_truth', "
                         f"got {roles.count('ground_truth')}")
    # 3. Clips: the names every system has
    common = set.intersection(*(set(s.clips) for s in systems))
    for system in systems:
        missing = sorted(set(system.clips) - common)
        if missing:
            log.warning("%s: left out clip(s) %s of system %r: not in every system's folder", source, missing,
                        system.name)
    if not common:
        raise StudyError(f"{source}: no clip name is in every system's folder "
                         f"({', '.join(f'{s.name}: {len(s.clips)} clips in {s.folder}' for s in systems)})")
    study = Study(path=source, title=str(raw.get("title") or "Listening test"),
                  instructions=str(raw.get("instructions") or ""), systems=tuple(systems), clips=tuple(sorted(common)),
                  ratings_per_participant=_count(raw, "ratings_per_participant", source),
                  pairs_per_participant=_count(raw, "pairs_per_participant", source))
    if study.pages_per_participant == 0:
        raise StudyError(f"{source}: a participant would get no pages (ratings_per_participant "
                         f"{study.ratings_per_participant}, pairs_per_participant {study.pairs_per_participant})")
    log.info("study %s: %d clips × %d systems, %d pages per participant", source, len(study.clips),
             len(study.systems), study.pages_per_participant)
    return study
