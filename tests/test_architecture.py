"""docs/ARCHITECTURE.md against the code: every module it names exists, and no module imports from a floor above its
own as the page lays the floors out."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "egosonics"
DOC = ROOT / "docs" / "ARCHITECTURE.md"


def floors(doc: Path = DOC) -> dict[str, int]:
    """Room → floor, from the rows ``| N | `room` `room/` … | … |`` of the page's floor table."""
    rooms: dict[str, int] = {}
    for line in doc.read_text().splitlines():
        row = re.match(r"\|\s*(\d+)\s*\|([^|]*)\|", line)
        if row:
            for name in re.findall(r"`([^`]+)`", row.group(2)):
                rooms[name.removesuffix("/").removesuffix(".py")] = int(row.group(1))
    return rooms


def room_of(path: Path, package: Path = PACKAGE) -> str:
    """The room of a source file: its top folder under the package, or its own name for a top-level module."""
    parts = path.relative_to(package).parts
    return parts[0] if len(parts) > 1 else path.stem


def imported_rooms(path: Path) -> list[tuple[int, str]]:
    """(line, room) of every ``egosonics`` import in a file, at any depth (lazy imports inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import; write egosonics.…"
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "egosonics":
                found.append((node.lineno, parts[1] if len(parts) > 1 else "__init__"))
    return found


def upward_imports(package: Path = PACKAGE, doc: Path = DOC) -> list[str]:
    """Every import of a room on a higher floor than the importing module's, as ``file:line: a (N) imports b (M)``."""
    rooms = floors(doc)
    problems = []
    for path in sorted(package.rglob("*.py")):
        own = room_of(path, package)
        for line, target in imported_rooms(path):
            if rooms[target] > rooms[own]:
                problems.append(f"{path.relative_to(package)}:{line}: {own} (floor {rooms[own]}) imports {target} "
                                f"(floor {rooms[target]})")
    return problems


def test_every_room_of_the_package_has_a_floor():
    rooms = floors()
    assert len(set(rooms.values())) >= 6, rooms  # the table was read
    unplaced = sorted({room_of(p) for p in PACKAGE.rglob("*.py")} - set(rooms))
    assert not unplaced, f"rooms missing from the floor table of docs/ARCHITECTURE.md: {unplaced}"
    missing = sorted(r for r in rooms if not (PACKAGE / r).is_dir() and not (PACKAGE / f"{r}.py").is_file())
    assert not missing, f"rooms in docs/ARCHITECTURE.md that do not exist: {missing}"


def test_no_module_imports_from_a_floor_above_its_own():
    assert upward_imports() == []


def test_the_import_check_sees_an_upward_import(tmp_path):
    """The check itself can fail: a model that imports the pipeline (as models/loading.py once did) is reported."""
    package = tmp_path / "egosonics"
    (package / "models").mkdir(parents=True)
    (package / "pipeline.py").write_text("from egosonics.models.syncronet import Syncronet\n")
    (package / "models" / "loading.py").write_text("def load():\n    from egosonics.pipeline import Pipeline\n")
    assert upward_imports(package) == ["models/loading.py:2: models (floor 3) imports pipeline (floor 4)"]


def _defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _module_file(dotted: list[str]) -> tuple[Path, list[str]] | None:
    """The file of the longest module prefix of a dotted name under the package, and the rest of the name."""
    for cut in range(len(dotted), 0, -1):
        base = PACKAGE.joinpath(*dotted[:cut])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate, dotted[cut:]
    return None


def test_every_module_and_name_the_page_mentions_exists():
    text = DOC.read_text()
    checked = 0
    for token in re.findall(r"`([^`\s]+)`", text):
        if re.fullmatch(r"(tests|docs|src|benchmarks|scripts)/[\w/.]+", token):
            assert (ROOT / token).exists(), f"ARCHITECTURE.md names {token}, which does not exist"
        elif re.fullmatch(r"[\w/]+\.py|\w+/", token):
            assert (PACKAGE / token).exists(), f"ARCHITECTURE.md names {token}, not in src/egosonics/"
        elif re.fullmatch(r"\w+(\.\w+)+", token) and token.split(".")[0] in floors():
            found = _module_file(token.split("."))
            assert found is not None, f"ARCHITECTURE.md names {token}: no such module"
            path, rest = found
            assert not rest or rest[0] in _defined_names(path), f"ARCHITECTURE.md names {token}: not in {path}"
        else:
            continue
        checked += 1
    # A module followed by a name (`media/video.py` `read_frames`): the name is defined in that module.
    for module, name in re.findall(r"`([\w/]+\.py)`\s+`([\w.]+)`", text):
        if name.endswith(".py"):  # two modules in a row
            continue
        name = name.split(".")[0]
        assert name in _defined_names(PACKAGE / module), f"ARCHITECTURE.md: {name} is not defined in {module}"
        checked += 1
    assert checked >= 40, checked  # the page was read
