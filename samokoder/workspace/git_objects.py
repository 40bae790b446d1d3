"""Git's object formats, pure: ids, trees, commits, trailers and `cat-file --batch` output.

No processes and no files here, so the encoding that checkpoints depend on is
tested byte for byte without a repository; `git_plumbing` does the I/O.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

IDENTITY_NAME = "Samokoder"
IDENTITY_EMAIL = "samokoder@localhost"
TREE_MODE = "40000"
FILE_MODES = frozenset({"100644", "100755"})
GITLINK_MODE = "160000"
ID_BYTES = {"sha1": 20, "sha256": 32}
"""Object formats git supports, with the width of their ids in bytes."""

_BATCH_HEADER = re.compile(rb"^([0-9a-f]{40}|[0-9a-f]{64}) ([a-z]+) ([0-9]+)$")
_TRAILER_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*): ?(.*)$")


def object_sha(kind: str, body: bytes, object_format: str = "sha1") -> str:
    """Git's id for an object of this kind and body, computed without spawning git."""
    digest = hashlib.new(object_format)
    digest.update(b"%s %d\0" % (kind.encode("ascii"), len(body)))
    digest.update(body)
    return digest.hexdigest()


def blob_sha(data: bytes, object_format: str = "sha1") -> str:
    """Git's id for a blob with this content (what `git hash-object` prints)."""
    return object_sha("blob", data, object_format)


@dataclass(frozen=True)
class GitObject:
    sha: str
    kind: str
    body: bytes


def parse_batch(out: bytes, count: int) -> list[GitObject | None]:
    """Split `cat-file --batch` output for `count` requests; None where a name was missing."""
    found: list[GitObject | None] = []
    pos = 0
    for _ in range(count):
        eol = out.index(b"\n", pos)
        header = _BATCH_HEADER.match(out[pos:eol])
        pos = eol + 1
        if header is None:  # "<name> missing" / "<name> ambiguous"
            found.append(None)
            continue
        size = int(header[3])
        found.append(GitObject(header[1].decode(), header[2].decode(), out[pos : pos + size]))
        pos += size + 1
    return found


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    sha: str

    @property
    def is_tree(self) -> bool:
        return self.mode == TREE_MODE


def parse_tree(body: bytes, object_format: str = "sha1") -> dict[str, TreeEntry]:
    """Decode a raw tree object; names keep undecodable bytes via surrogateescape."""
    width = ID_BYTES[object_format]
    entries: dict[str, TreeEntry] = {}
    pos = 0
    while pos < len(body):
        space = body.index(b" ", pos)
        nul = body.index(b"\0", space)
        name = body[space + 1 : nul].decode("utf-8", "surrogateescape")
        sha = body[nul + 1 : nul + 1 + width].hex()
        entries[name] = TreeEntry(body[pos:space].decode("ascii"), sha)
        pos = nul + 1 + width
    return entries


def _tree_sort_key(item: tuple[bytes, TreeEntry]) -> bytes:
    name, entry = item
    return name + b"/" if entry.is_tree else name


def serialize_tree(entries: Mapping[str, TreeEntry]) -> bytes:
    """Encode a tree in git's canonical order (directories sort as if named `name/`)."""
    encoded = sorted(
        ((name.encode("utf-8", "surrogateescape"), entry) for name, entry in entries.items()),
        key=_tree_sort_key,
    )
    return b"".join(
        entry.mode.encode("ascii") + b" " + name + b"\0" + bytes.fromhex(entry.sha)
        for name, entry in encoded
    )


def parent_dirs(path: str) -> Iterable[str]:
    """The directories holding `path`, innermost first, ending with the root ("")."""
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        yield path
    yield ""


def commit_object(tree: str, parent: str | None, message: str) -> bytes:
    """The body of a commit by the Samokoder identity, dated now in the local time zone."""
    now = int(time.time())
    offset = time.localtime(now).tm_gmtoff
    zone = f"{'-' if offset < 0 else '+'}{abs(offset) // 3600:02d}{abs(offset) % 3600 // 60:02d}"
    ident = f"{IDENTITY_NAME} <{IDENTITY_EMAIL}> {now} {zone}"
    lines = [f"tree {tree}", *([f"parent {parent}"] if parent else [])]
    lines += [f"author {ident}", f"committer {ident}", "", message]
    return "\n".join(lines).encode("utf-8", "surrogateescape")


def commit_message(body: bytes) -> str:
    """The message of a raw commit object (what follows its headers)."""
    return body.decode("utf-8", "replace").partition("\n\n")[2]


def split_trailers(message: str) -> tuple[str, dict[str, str]]:
    """Split a commit message into its text and the `Key: value` trailers of its last paragraph."""
    text = message.strip()
    head, _, last = text.rpartition("\n\n")
    if not head:
        return text, {}
    trailers: dict[str, str] = {}
    for line in last.splitlines():
        match = _TRAILER_LINE.match(line)
        if match is None:
            return text, {}
        trailers[match.group(1)] = match.group(2).strip()
    return head.strip(), trailers


def format_message(subject: str, trailers: Mapping[str, str]) -> str:
    """Subject, blank line, one `Key: value` line per trailer (values forced onto one line)."""
    lines = [f"{key}: {' '.join(value.split()) or '-'}" for key, value in trailers.items()]
    return subject.strip() + "\n\n" + "\n".join(lines) + "\n"
