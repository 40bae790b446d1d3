"""What a source file holds (language, lines, top-level symbols), for the workspace map.

Parsing uses tree-sitter with one grammar wheel per language (``tree-sitter-python``,
``tree-sitter-javascript`` ...): those wheels carry their compiled grammar, so
nothing is fetched at run time. The packages are optional: when one is missing
(or its grammar does not load) files of that language are listed without
symbols. The walk of each language's tree is in `symbol_walkers`. Thread-safe:
languages are shared, parsers are not.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import re
import stat
import threading
from typing import Any, NamedTuple

from samokoder.workspace.symbol_walkers import WALKERS

logger = logging.getLogger(__name__)

MAX_SYMBOLS = 200
"""Symbols kept per file; a generated file with thousands of functions adds noise."""
BINARY_SNIFF_BYTES = 8192
_CACHE_SIZE = 20_000

_LANGUAGE_BY_SUFFIX = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    # Listed with a language but no symbols.
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".kt": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".sh": "shell",
    ".html": "html",
    ".css": "css",
    ".scss": "scss",
    ".vue": "vue",
    ".svelte": "svelte",
    ".sql": "sql",
    ".md": "markdown",
    ".rst": "rst",
    ".json": "json",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".xml": "xml",
}
_LANGUAGE_BY_NAME = {"Dockerfile": "dockerfile", "Makefile": "make"}

# language -> (grammar module, function returning the grammar pointer)
_GRAMMARS = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAME_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_STOPWORD_TEXT = (
    "the and for with that this from into when then than should must not new all are can "
    "add use make fix bug file files code test tests run get set main init its has have "
    "was were will would could also only more less some any each other which what where "
    "how why who them they their there here but out our your you about like just src lib "
    "index module package class function method def var let const py js ts go rs java"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""Words too common in task texts or code to say which file is meant."""
_local = threading.local()


def language_for(path: str) -> str | None:
    """Language name guessed from the file name, or None when unknown."""
    name = path.rpartition("/")[2]  # no PurePosixPath: this runs once per file of a scan
    if name in _LANGUAGE_BY_NAME:
        return _LANGUAGE_BY_NAME[name]
    dot = name.rfind(".")
    return _LANGUAGE_BY_SUFFIX.get(name[dot:].lower()) if 0 < dot < len(name) - 1 else None


def has_symbol_support(language: str | None) -> bool:
    """Whether symbols can be extracted for ``language`` here (its grammar loads)."""
    return language is not None and _grammar(language) is not None


def extract_symbols(language: str | None, source: bytes) -> tuple[str, ...]:
    """Top-level classes, functions, methods (``Class.method``) and constants.

    Empty for unsupported languages, a missing parser or a parse that fails; the
    grammars are error-tolerant, so a file with syntax errors still yields what
    parses.
    """
    if language is None or language not in WALKERS:
        return ()
    parser = _parser(language)
    if parser is None:
        return ()
    try:
        root = parser.parse(source).root_node
        names: list[str] = []
        for name in WALKERS[language](root):
            if name and name not in names:
                names.append(name)
                if len(names) >= MAX_SYMBOLS:
                    break
        return tuple(names)
    except Exception:  # a grammar bug must not break the map
        logger.debug("symbol extraction failed for a %s file", language, exc_info=True)
        return ()


def identifiers(text: str) -> list[str]:
    """Identifier-like words of ``text``, in order (``repo_map``, ``RepoMap``, ``the``)."""
    return _IDENTIFIER.findall(text)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def name_parts(identifier: str) -> frozenset[str]:
    """Lower-case words of a camelCase or snake_case name, minus short and common ones."""
    # No part spans a "_" (the pattern never matches one), so the whole name is split at once.
    parts = map(str.lower, _NAME_PART.findall(identifier))
    return frozenset(p for p in parts if len(p) >= 3 and p not in STOPWORDS)


class FileFacts(NamedTuple):
    """What a file holds; ``status`` is ``ok`` or why it is not listed."""

    status: str  # ok | too_large | binary | undecodable
    lines: int
    language: str | None
    symbols: tuple[str, ...]


class UnreadableFileError(Exception):
    """The file cannot be opened or read; raised, not returned, so it is never cached."""


@functools.lru_cache(maxsize=_CACHE_SIZE)
def analyze_file(path: str, rel: str, *, mtime_ns: int, size: int, limit: int) -> FileFacts:
    """Facts for the file at ``path``, cached by ``(path, mtime_ns, size)``.

    A file with a NUL byte in its first 8 KB is binary; one that is not UTF-8 is
    undecodable (it could not go into a prompt). Never follows a symlink.
    """
    return facts_of(rel, _read_no_follow(path, limit)[0])


def analyze_unstamped(path: str, rel: str, limit: int) -> tuple[tuple[int, int], FileFacts]:
    """``((mtime_ns, size), facts)`` of a file not stat'ed before: the stamp of what was read.

    A first scan leaves the ``stat`` of each file to whoever reads it (not cached).
    """
    data, info = _read_no_follow(path, limit)
    return (info.st_mtime_ns, info.st_size), facts_of(rel, data)


def facts_of(rel: str, data: bytes | None) -> FileFacts:
    """What a file's bytes hold; ``data`` None: it is over the size limit."""
    language = language_for(rel)
    if data is None:
        return FileFacts("too_large", 0, language, ())
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        return FileFacts("binary", 0, language, ())
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return FileFacts("undecodable", 0, language, ())
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return FileFacts("ok", lines, language, extract_symbols(language, data))


def _read_no_follow(path: str, limit: int) -> tuple[bytes | None, os.stat_result]:
    """The file's bytes (None when over ``limit``) and its ``fstat``; refuses a symlink
    swapped in meanwhile."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableFileError(f"{path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFileError(f"{path}: not a regular file")
        if info.st_size > limit:
            return None, info
        chunks: list[bytes] = []
        remaining = limit + 1  # the file may have grown since it was listed
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise UnreadableFileError(f"{path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    return (None if len(data) > limit else data), info


def clear_caches() -> None:
    """Forget file facts and loaded grammars (tests simulate a missing parser package)."""
    analyze_file.cache_clear()
    _grammar.cache_clear()
    _local.__dict__.clear()


@functools.cache
def _grammar(language: str) -> Any | None:
    spec = _GRAMMARS.get(language)
    if spec is None:
        return None
    module_name, function_name = spec
    try:
        tree_sitter = importlib.import_module("tree_sitter")
        grammar = importlib.import_module(module_name)
        return tree_sitter.Language(getattr(grammar, function_name)())
    except ImportError:
        logger.info(
            "no %s parser installed; %s files are listed without symbols", language, language
        )
    except Exception:  # an ABI mismatch between tree-sitter and a grammar wheel
        logger.warning("the %s grammar did not load; no symbols for it", language, exc_info=True)
    return None


def _parser(language: str) -> Any | None:
    # A tree-sitter Parser must not be shared between threads: one per thread and language.
    parsers: dict[str, Any] = _local.__dict__.setdefault("parsers", {})
    if language not in parsers:
        grammar = _grammar(language)
        if grammar is None:
            return None
        parsers[language] = importlib.import_module("tree_sitter").Parser(grammar)
    return parsers[language]
