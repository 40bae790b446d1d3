"""Confinement rules (DESIGN §3): explicit cases for each rule, then a property test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samokoder.errors import InvalidArgumentError, OutsideWorkspaceError
from samokoder.workspace.confinement import IgnoreMatcher, Workspace, is_secret_name


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Workspace, Path]:
    """A workspace ``root`` next to an ``outside`` folder, with a few files."""
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / ".git").mkdir()
    (root / "pkg" / ".samokoder").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("nope")
    return Workspace.at(root), outside


def refusal(ws: Workspace, path: str | Path) -> str:
    with pytest.raises(OutsideWorkspaceError) as info:
        ws.resolve(path)
    assert info.value.path == os.fspath(path)
    assert repr(os.fspath(path)) in info.value.message
    return info.value.rule


# --- the workspace itself -------------------------------------------------------------


def test_at_resolves_root_and_refuses_non_folders(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    assert Workspace.at(tmp_path / "alias").root == real.resolve()
    with pytest.raises(InvalidArgumentError, match="not an existing folder"):
        Workspace.at(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgumentError):
        Workspace.at(tmp_path / "file")


# --- lexical rules ----------------------------------------------------------------------


def test_relative_paths_inside_are_normalized(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    assert ws.resolve("src/app.py") == ws.root / "src" / "app.py"
    assert ws.relative("src/../src/./app.py") == "src/app.py"
    assert ws.relative("a/../b") == "b"
    assert ws.relative("new/dir/file.txt") == "new/dir/file.txt"
    assert ws.relative("src/") == "src"


def test_empty_and_nul_refused(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    assert "empty" in refusal(ws, "")
    assert "NUL byte" in refusal(ws, "src/a\x00.py")


def test_dotdot_escape_refused(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    assert "outside the workspace folder" in refusal(ws, "../outside/secret.txt")
    assert "outside the workspace folder" in refusal(ws, "src/../../outside")
    assert str(ws.root) in refusal(ws, "..")


def test_absolute_inside_ok_and_elsewhere_refused(layout: tuple[Workspace, Path]) -> None:
    ws, outside = layout
    assert ws.relative(ws.root / "src" / "app.py") == "src/app.py"
    assert ws.relative(str(ws.root) + "/src/../src/app.py") == "src/app.py"
    assert "outside" in refusal(ws, "/etc/passwd")
    assert "outside" in refusal(ws, outside / "secret.txt")
    # A sibling folder whose name starts with the root's name is still outside.
    assert "outside" in refusal(ws, str(ws.root) + "-evil/x")


def test_absolute_path_through_alias_of_root_ok(layout: tuple[Workspace, Path]) -> None:
    ws, outside = layout
    alias = outside / "alias"
    alias.symlink_to(ws.root)
    assert ws.relative(alias / "src" / "app.py") == "src/app.py"
    assert "outside" in refusal(ws, "/proc/self/root" + str(outside / "secret.txt"))


def test_root_itself_refused_as_a_file(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    assert "workspace folder itself" in refusal(ws, ".")
    assert "workspace folder itself" in refusal(ws, ws.root)
    assert "workspace folder itself" in refusal(ws, "src/..")


@pytest.mark.parametrize(
    "path",
    [".git", ".git/config", ".git/hooks/pre-commit", "sub/.git/HEAD", ".samokoder",
     ".samokoder/state.db", "pkg/.samokoder/x", "a/b/c/.git/objects/x", "x/.git"],
)  # fmt: skip
def test_protected_folders_refused_at_any_depth(layout: tuple[Workspace, Path], path: str) -> None:
    ws, _ = layout
    rule = refusal(ws, path)
    assert "are never touched" in rule
    assert (".git/" in rule) or (".samokoder/" in rule)


def test_protected_names_are_case_sensitive_and_exact(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    assert ws.relative(".GIT/config") == ".GIT/config"
    assert ws.relative(".gitignore") == ".gitignore"
    assert ws.relative(".github/workflows/ci.yml") == ".github/workflows/ci.yml"
    assert ws.relative("x.git/y") == "x.git/y"


# --- symlinks ---------------------------------------------------------------------------


def test_symlink_to_etc_refused(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    (ws.root / "passwd").symlink_to("/etc/passwd")
    (ws.root / "etc").symlink_to("/etc")
    assert "symlink in it leads outside" in refusal(ws, "passwd")
    assert "symlink in it leads outside" in refusal(ws, "etc/hosts")


def test_symlinked_parent_outside_refused_even_for_new_files(
    layout: tuple[Workspace, Path],
) -> None:
    ws, outside = layout
    (ws.root / "src" / "vendor").symlink_to(outside, target_is_directory=True)
    assert "symlink" in refusal(ws, "src/vendor/secret.txt")
    assert "symlink" in refusal(ws, "src/vendor/not_yet_there.py")
    assert "symlink" in refusal(ws, "src/vendor/deep/new/file.py")


def test_dangling_symlink_outside_refused(layout: tuple[Workspace, Path]) -> None:
    ws, outside = layout
    (ws.root / "dangling").symlink_to(outside / "does" / "not" / "exist")
    (ws.root / "dangling_abs").symlink_to("/nonexistent-samokoder-target/x")
    assert not (ws.root / "dangling").exists()
    assert "symlink" in refusal(ws, "dangling")
    assert "symlink" in refusal(ws, "dangling_abs")
    assert "symlink" in refusal(ws, "dangling/child")


def test_symlink_inside_ok(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    (ws.root / "link_src").symlink_to("src", target_is_directory=True)
    (ws.root / "app_link.py").symlink_to("src/app.py")
    (ws.root / "dangling_inside").symlink_to("src/later.py")
    # The path is kept as written: an editor's URI for link_src/app.py must match.
    assert ws.relative("link_src/app.py") == "link_src/app.py"
    assert ws.resolve("app_link.py").resolve() == ws.root / "src" / "app.py"
    assert ws.relative("dangling_inside") == "dangling_inside"


def test_symlink_into_git_refused(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    (ws.root / "hooks").symlink_to(".git", target_is_directory=True)
    rule = refusal(ws, "hooks/config")
    assert ".git/" in rule
    assert "symlink" in rule


def test_symlink_to_root_refused_as_target_but_usable_as_parent(
    layout: tuple[Workspace, Path],
) -> None:
    ws, _ = layout
    (ws.root / "self").symlink_to(".", target_is_directory=True)
    assert "workspace folder itself" in refusal(ws, "self")
    assert ws.resolve("self/src/app.py").resolve() == ws.root / "src" / "app.py"


def test_symlink_loop_refused(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    (ws.root / "loop").symlink_to("loop")
    assert "loops" in refusal(ws, "loop")
    assert "loops" in refusal(ws, "loop/x")


# --- special files ----------------------------------------------------------------------


def test_fifo_refused(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    os.mkfifo(ws.root / "pipe")
    assert "special file" in refusal(ws, "pipe")


def test_socket_refused(tmp_path: Path) -> None:
    # AF_UNIX paths are limited to ~108 bytes, so use a short private folder.
    root = Path(os.path.realpath(tmp_path)) / "w"
    root.mkdir()
    ws = Workspace.at(root)
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(root / "s"))
        assert "special file" in refusal(ws, "s")
    finally:
        sock.close()


def test_device_file_reached_by_symlink_refused(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    (ws.root / "null").symlink_to("/dev/null")
    assert "outside" in refusal(ws, "null")
    assert "outside" in refusal(ws, "/dev/null")


# --- URIs and cwd -----------------------------------------------------------------------


def test_uri_round_trip_with_percent_encoding(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    rel = "my dir/naïve 100%.py"
    uri = ws.uri_for(rel)
    assert uri.startswith("file:///")
    assert "my%20dir" in uri
    assert "%25" in uri
    assert ws.path_from_uri(uri) == ws.root / "my dir" / "naïve 100%.py"
    assert ws.path_from_uri(ws.root.as_uri() + "/a%20b.py") == ws.root / "a b.py"
    assert ws.path_from_uri("file://localhost" + str(ws.root) + "/x.py") == ws.root / "x.py"


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("untitled:Untitled-1", "not a file URI"),
        ("https://example.com/x.py", "not a file URI"),
        ("file://otherhost/etc/passwd", "not a file URI on this machine"),
        ("file:///etc/passwd", "outside the workspace"),
    ],
)
def test_bad_uris_refused(layout: tuple[Workspace, Path], uri: str, words: str) -> None:
    ws, _ = layout
    with pytest.raises(OutsideWorkspaceError) as info:
        ws.path_from_uri(uri)
    assert words in info.value.rule
    assert info.value.path == uri


def test_uri_with_encoded_escape_or_nul_refused(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    base = ws.root.as_uri()
    with pytest.raises(OutsideWorkspaceError, match="outside"):
        ws.path_from_uri(base + "/%2E%2E/%2E%2E/etc/passwd")
    with pytest.raises(OutsideWorkspaceError, match="NUL"):
        ws.path_from_uri(base + "/a%00b")
    with pytest.raises(OutsideWorkspaceError, match=r"\.git/"):
        ws.path_from_uri(base + "/.git/config")


def test_check_cwd(layout: tuple[Workspace, Path]) -> None:
    ws, outside = layout
    assert ws.check_cwd(".") == ws.root
    assert ws.check_cwd("src") == ws.root / "src"
    with pytest.raises(InvalidArgumentError, match="not an existing folder"):
        ws.check_cwd("src/app.py")
    with pytest.raises(InvalidArgumentError, match="not an existing folder"):
        ws.check_cwd("nowhere")
    with pytest.raises(OutsideWorkspaceError):
        ws.check_cwd("..")
    with pytest.raises(OutsideWorkspaceError):
        ws.check_cwd(".git")
    (ws.root / "out").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OutsideWorkspaceError, match="symlink"):
        ws.check_cwd("out")


# --- secrets and .gitignore -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "secret"),
    [(".env", True), (".env.local", True), (".envrc", True), ("server.pem", True),
     ("tls.key", True), ("id_rsa", True), ("id_ed25519", True), ("id_ecdsa_sk", True),
     ("app.py", False), ("id_utils.py", False), ("environment.py", False),
     ("keys.py", False), ("README.md", False)],
)  # fmt: skip
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_is_secret_without_repo(layout: tuple[Workspace, Path]) -> None:
    ws, _ = layout
    matcher = IgnoreMatcher(ws.root)  # .git here is an empty folder, not a repository
    assert ws.is_secret("config/.env", matcher)
    assert ws.is_secret("certs/server.pem")
    assert not ws.is_secret("src/app.py", matcher)
    assert not matcher.is_ignored("build/out.o")


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_is_secret_follows_gitignore_in_a_real_repo(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("build/\n*.log\n!keep.log\nsecrets.yaml\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.o").write_bytes(b"\x7fELF")
    ws = Workspace.at(repo)
    matcher = IgnoreMatcher(ws.root)
    assert ws.is_secret("debug.log", matcher)
    assert ws.is_secret("sub/dir/trace.log", matcher)
    assert ws.is_secret("build/out.o", matcher)
    assert ws.is_secret("secrets.yaml", matcher)
    assert not ws.is_secret("keep.log", matcher)
    assert not ws.is_secret("src/app.py", matcher)
    assert not ws.is_secret("debug.log")  # without a matcher only names count
    assert matcher.ignored(["a.log", "b.py", "with space.log", "a.log"]) == {
        "a.log",
        "with space.log",
    }


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_ignore_matcher_caches_and_can_be_cleared(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("*.tmp\n")
    matcher = IgnoreMatcher(repo)
    assert matcher.is_ignored("a.tmp")
    (repo / ".gitignore").write_text("")
    assert matcher.is_ignored("a.tmp")  # cached answer
    matcher.clear()
    assert not matcher.is_ignored("a.tmp")


def test_ignore_matcher_without_git_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    matcher = IgnoreMatcher(tmp_path)
    assert not matcher.is_ignored("anything.log")


# --- property test: no generated path ever escapes ------------------------------------

_COMPONENTS = [
    "..", ".", "a", "b", ".git", ".samokoder", "link_out", "link_in", "link_parent",
    "link_git", "link_root", "dangling_out", "dangling_in", "loop", "f.txt", "", "/",
]  # fmt: skip


@pytest.fixture(scope="module")
def symlink_layout(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    base = Path(os.path.realpath(tmp_path_factory.mktemp("prop")))
    root, outside = base / "root", base / "outside"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "f.txt").write_text("x")
    (root / ".git").mkdir()
    (root / ".samokoder").mkdir()
    (outside / "a").mkdir(parents=True)
    (outside / "f.txt").write_text("x")
    (root / "link_out").symlink_to(outside, target_is_directory=True)
    (root / "link_in").symlink_to("a", target_is_directory=True)
    (root / "link_parent").symlink_to("..", target_is_directory=True)
    (root / "link_git").symlink_to(".git", target_is_directory=True)
    (root / "link_root").symlink_to(".", target_is_directory=True)
    (root / "dangling_out").symlink_to(outside / "missing")
    (root / "dangling_in").symlink_to("a/missing")
    (root / "loop").symlink_to("loop")
    (root / "a" / "link_up").symlink_to("../..", target_is_directory=True)
    (root / "a" / "link_out").symlink_to("../../outside", target_is_directory=True)
    return Workspace.at(root)


path_texts = st.tuples(
    st.sampled_from(["", "/", "ROOT/", "BASE/"]),
    st.lists(st.sampled_from(_COMPONENTS), min_size=0, max_size=8),
)


@settings(max_examples=3000, deadline=None)
@given(parts=path_texts)
def test_property_accepted_paths_never_escape(
    symlink_layout: Workspace, parts: tuple[str, list[str]]
) -> None:
    ws = symlink_layout
    prefix, components = parts
    prefix = prefix.replace("ROOT", str(ws.root)).replace("BASE", str(ws.root.parent))
    path = prefix + "/".join(components)
    try:
        resolved = ws.resolve(path)
    except OutsideWorkspaceError as exc:
        assert exc.path == path
        assert exc.rule
        return
    real = Path(os.path.realpath(resolved))
    assert resolved.is_absolute()
    assert ".." not in resolved.parts
    assert real != ws.root
    assert real.is_relative_to(ws.root), f"{path!r} escaped to {real}"
    for checked in (real, resolved):
        rel_parts = checked.relative_to(ws.root).parts
        assert ".git" not in rel_parts
        assert ".samokoder" not in rel_parts
    assert ws.relative(path) == resolved.relative_to(ws.root).as_posix()


def test_property_layout_accepts_and_refuses_what_it_should(symlink_layout: Workspace) -> None:
    """Guards the property test against a layout where everything is refused."""
    ws = symlink_layout
    for ok in ["a/f.txt", "link_in/f.txt", "link_parent/root/a", "a/link_up/root/a/b",
               "link_root/a", "dangling_in", str(ws.root) + "/a/../a/b"]:  # fmt: skip
        assert ws.resolve(ok).exists() or ok == "dangling_in"
    for bad in ["link_out/f.txt", "link_parent/outside", "a/link_out", "link_git/x",
                "dangling_out", "loop", "a/link_up", "link_root"]:  # fmt: skip
        with pytest.raises(OutsideWorkspaceError):
            ws.resolve(bad)
