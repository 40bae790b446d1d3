"""`workspace/applyEdit` on disk: the CLI has no buffers, so an edit goes to the files.

The server sends one only in the `annotated` review mode (or for files an editor
has open, which a CLI never has). Paths outside the workspace folder are refused,
and nothing is written unless every operation can be carried out.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from samokoder.workspace.textedits import Position, Range, TextEdit, apply_edits


class EditRefused(Exception):
    """The edit cannot be applied; the message is the `failureReason`."""


def path_from_uri(uri: str, root: Path) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise EditRefused(f"not a file URI: {uri}")
    path = Path(url2pathname(unquote(parsed.path))).resolve()
    base = root.resolve()
    if path != base and base not in path.parents:
        raise EditRefused(f"{path} is outside the workspace folder {base}")
    return path


def _text_edits(edits: list[dict[str, Any]]) -> list[TextEdit]:
    def pos(p: dict[str, Any]) -> Position:
        return Position(int(p["line"]), int(p["character"]))

    return [
        TextEdit(Range(pos(e["range"]["start"]), pos(e["range"]["end"])), str(e["newText"]))
        for e in edits
    ]


def plan_edit(edit: dict[str, Any], root: Path) -> dict[Path, str | None]:
    """Every file's content after the edit (None: deleted), computed before writing any."""
    result: dict[Path, str | None] = {}

    def current(path: Path) -> str | None:
        if path in result:
            return result[path]
        return path.read_text(encoding="utf-8") if path.exists() else None

    for op in edit.get("documentChanges") or []:
        kind = op.get("kind")
        if kind == "create":
            path = path_from_uri(op["uri"], root)
            options = op.get("options") or {}
            if current(path) is None or options.get("overwrite"):
                result[path] = ""
            elif not options.get("ignoreIfExists"):
                raise EditRefused(f"{path} already exists")
        elif kind == "delete":
            path = path_from_uri(op["uri"], root)
            if current(path) is None and not (op.get("options") or {}).get("ignoreIfNotExists"):
                raise EditRefused(f"{path} does not exist")
            result[path] = None
        elif kind == "rename":
            raise EditRefused("renaming files is not supported by the terminal client")
        else:
            path = path_from_uri(op["textDocument"]["uri"], root)
            result[path] = _edited(path, current(path), op.get("edits") or [])
    for uri, edits in (edit.get("changes") or {}).items():
        path = path_from_uri(uri, root)
        result[path] = _edited(path, current(path), edits)
    return result


def _edited(path: Path, text: str | None, edits: list[dict[str, Any]]) -> str:
    if text is None:
        raise EditRefused(f"{path} does not exist")
    try:
        return apply_edits(text, _text_edits(edits))
    except (KeyError, TypeError, ValueError) as exc:
        raise EditRefused(f"bad edit for {path}: {exc}") from None


def write_planned(planned: dict[Path, str | None]) -> None:
    """Write (atomically, per file) or delete each planned file."""
    for path, text in planned.items():
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def needs_confirmation(edit: dict[str, Any]) -> bool:
    annotations = edit.get("changeAnnotations") or {}
    return any(isinstance(a, dict) and a.get("needsConfirmation") for a in annotations.values())
