"""Hypothesis strategies for LSP traffic to `samokoder serve`, read off the protocol.

Each request is drawn per method from what docs/protocol.md says it takes, then
broken: arguments missing, mistyped, extra; URIs outside the folder, into `.git/`,
with NUL bytes or other schemes; positions past the end of the document, negative,
huge, or inside a UTF-16 surrogate pair; huge strings, lone surrogates and deeply
nested JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

COMMANDS = (
    "samokoder.editSelection",
    "samokoder.generate",
    "samokoder.implement",
    "samokoder.resume",
    "samokoder.review.accept",
    "samokoder.review.reject",
    "samokoder.cancel",
    "samokoder.undo",
    "samokoder.redo",
    "samokoder.history",
    "samokoder.usage",
    "samokoder.fixDiagnostics",
    "samokoder.writeTests",
    "samokoder.explain",
)
FIELDS = (
    "uri", "range", "instruction", "description", "folder", "files", "runId",
    "proposalId", "feedback", "limit", "path", "diagnostics",
)  # fmt: skip
EMOJI_LINE = 'greeting = "😀 hi 🎉"\n'
"""In the fuzzed document: characters 12, 13, 18 and 19 fall inside surrogate pairs."""
HUGE = "x" * 2_000_000
LONE_SURROGATES = ("\ud800", "a\udfffb", "\udbff\udc00\ud800")


@dataclass(frozen=True)
class Workspace:
    root: Path
    files: tuple[str, ...]  # relative paths that exist

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**63)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=40)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def mostly(
    good: st.SearchStrategy[Any], *bad: st.SearchStrategy[Any], weight: int = 3
) -> st.SearchStrategy[Any]:
    """`good` `weight` times as often as the rest: deep code paths are reached, and broken
    input is still tried at every level."""
    return st.one_of(*([good] * weight), st.one_of(*bad))


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def strings() -> st.SearchStrategy[Any]:
    return mostly(
        st.text(max_size=60),
        st.sampled_from(("", " ", "\x00", "\n" * 50, HUGE, *LONE_SURROGATES)),
        json_values(4),
    )


def uris(ws: Workspace) -> st.SearchStrategy[Any]:
    root = ws.root
    odd = (
        ws.uri(".git/config"),
        ws.uri(".samokoder/state.db"),
        ws.uri("missing.py"),
        ws.uri("src"),
        (root / ".." / "outside.py").as_uri(),
        "file:///etc/passwd",
        "file://" + str(root) + "/app.py%00.txt",
        "file:" + str(root) + "/app.py",
        "http://example.com/app.py",
        "untitled:Untitled-1",
        "file://",
        "",
        "not a uri",
        "file:///" + "a/" * 2000,
    )
    return mostly(
        st.sampled_from([ws.uri(rel) for rel in ws.files]), st.sampled_from(odd), strings()
    )


def numbers() -> st.SearchStrategy[Any]:
    return mostly(
        st.one_of(
            st.integers(min_value=0, max_value=30),
            st.sampled_from((12, 13, 18, 19)),  # inside a surrogate pair on the emoji line
            st.sampled_from((1000, 2**31 - 1)),  # past the end of the document
        ),
        st.integers(min_value=-(2**40), max_value=2**40),
        st.sampled_from((2**31 - 1, 2**31, 2**53, -1)),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
        st.text(max_size=5),
        weight=12,
    )


def positions() -> st.SearchStrategy[Any]:
    good = st.fixed_dictionaries({"line": numbers(), "character": numbers()})
    return mostly(good, good.map(lambda p: {"line": p["line"]}), json_values(4), weight=8)


def ranges() -> st.SearchStrategy[Any]:
    good = st.fixed_dictionaries({"start": positions(), "end": positions()})
    return mostly(good, json_values(4), weight=8)


Fields = tuple[dict[str, st.SearchStrategy[Any]], dict[str, st.SearchStrategy[Any]]]


def _fields(ws: Workspace) -> dict[str, Fields]:
    """Each command's (required, optional) argument fields, as docs/protocol.md lists them."""
    where = {"uri": uris(ws), "range": ranges()}
    paths = st.one_of(st.lists(st.one_of(uris(ws), strings()), max_size=4), strings())
    return {
        "samokoder.editSelection": (where, {"instruction": strings()}),
        "samokoder.generate": ({"description": strings()}, {"folder": uris(ws) | strings()}),
        "samokoder.implement": ({"description": strings()}, {"files": paths}),
        "samokoder.resume": ({"runId": strings()}, {}),
        "samokoder.review.accept": ({"proposalId": strings()}, {"files": paths}),
        "samokoder.review.reject": ({"proposalId": strings()}, {"feedback": strings()}),
        "samokoder.cancel": ({"runId": strings()}, {}),
        "samokoder.history": ({}, {"limit": numbers()}),
        "samokoder.usage": ({}, {"runId": strings()}),
        "samokoder.fixDiagnostics": (
            {"uri": uris(ws)},
            {"range": ranges(), "diagnostics": st.lists(json_values(6), max_size=2)},
        ),
        "samokoder.writeTests": ({"uri": uris(ws)}, {"range": ranges()}),
        "samokoder.explain": (where, {}),
    }


def execute_command(ws: Workspace) -> st.SearchStrategy[Any]:
    fields = _fields(ws)

    def call(name: str) -> st.SearchStrategy[Any]:
        required, optional = fields.get(name, ({}, {}))
        whole = st.fixed_dictionaries(required, optional=optional)
        # now and then a required field missing, or extra fields
        partial = st.fixed_dictionaries({}, optional={**required, **optional})
        extra = st.dictionaries(st.sampled_from(FIELDS), json_values(3), max_size=2)
        arg = mostly(whole, partial, st.tuples(whole, extra).map(lambda p: {**p[1], **p[0]}))
        arguments = mostly(
            arg.map(lambda a: [a]),
            arg.map(lambda a: [a, a]),
            st.lists(json_values(6), max_size=3),
            st.just([nested(500)]),
            weight=6,
        )
        return st.fixed_dictionaries({"command": st.just(name), "arguments": arguments})

    return mostly(
        st.sampled_from(COMMANDS).flatmap(call),
        st.fixed_dictionaries({"command": st.one_of(st.text(max_size=20), json_values(2))}),
        json_values(6),
        weight=8,
    )


def text_document(ws: Workspace) -> st.SearchStrategy[Any]:
    return mostly(st.fixed_dictionaries({"uri": uris(ws)}), json_values(3), weight=8)


def code_action(ws: Workspace) -> st.SearchStrategy[Any]:
    context = mostly(
        st.just({"diagnostics": []}),
        st.fixed_dictionaries({"diagnostics": st.lists(json_values(6), max_size=2)}),
        st.fixed_dictionaries(
            {"diagnostics": st.just([]), "only": st.lists(strings(), max_size=2)}
        ),
        json_values(3),
    )
    good = st.fixed_dictionaries(
        {"textDocument": text_document(ws), "range": ranges(), "context": context}
    )
    return mostly(good, json_values(6), weight=6)


def proposal_file() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.fixed_dictionaries({"proposalId": strings(), "path": strings()}), json_values(6)
    )


def requests(ws: Workspace) -> st.SearchStrategy[tuple[Any, Any]]:
    """(method, params) of a request the server must answer, exactly once."""
    return st.one_of(
        st.tuples(st.just("workspace/executeCommand"), execute_command(ws)),
        st.tuples(st.just("textDocument/codeAction"), code_action(ws)),
        st.tuples(st.just("samokoder/proposalFile"), proposal_file()),
        st.tuples(
            st.sampled_from(("textDocument/hover", "samokoder/nope", "workspace/symbol")),
            json_values(4),
        ),
    )


def change_event(ws: Workspace) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.fixed_dictionaries({"range": ranges(), "text": strings()}),
        st.fixed_dictionaries({"text": strings()}),
        json_values(3),
    )


def notifications(ws: Workspace) -> st.SearchStrategy[tuple[str, Any]]:
    """(method, params) of a notification: no answer, and no crash."""
    did_change = st.fixed_dictionaries(
        {
            "textDocument": st.fixed_dictionaries({"uri": uris(ws), "version": numbers()}),
            "contentChanges": st.lists(change_event(ws), max_size=3),
        }
    )
    did_open = st.fixed_dictionaries(
        {
            "textDocument": st.fixed_dictionaries(
                {
                    "uri": uris(ws),
                    "languageId": st.just("python"),
                    "version": numbers(),
                    "text": strings(),
                }
            )
        }
    )
    return st.one_of(
        st.tuples(st.just("textDocument/didChange"), st.one_of(did_change, json_values(4))),
        st.tuples(st.just("textDocument/didOpen"), st.one_of(did_open, json_values(4))),
        st.tuples(st.just("textDocument/didClose"), text_document(ws).map(_doc)),
        st.tuples(st.just("$/cancelRequest"), st.fixed_dictionaries({"id": numbers()})),
        st.tuples(st.just("window/workDoneProgress/cancel"), json_values(3)),
        st.tuples(st.just("samokoder/whatever"), json_values(3)),
    )


def _doc(value: Any) -> Any:
    return {"textDocument": value}


def messages(ws: Workspace) -> st.SearchStrategy[list[tuple[str, str, Any]]]:
    """A burst of ("request" | "notify", method, params), sent without waiting."""
    one = st.one_of(
        requests(ws).map(lambda r: ("request", *r)),
        requests(ws).map(lambda r: ("request", *r)),
        notifications(ws).map(lambda n: ("notify", *n)),
    )
    return st.lists(one, min_size=4, max_size=10)
