"""Checkpoint commits against a real git binary in throwaway repositories."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from samokoder.errors import InvalidArgumentError, NotFoundError, SamokoderError
from samokoder.secrets import is_secret_env_name
from samokoder.workspace import git_plumbing
from samokoder.workspace.checkpoints import MAX_BLOB_BYTES, CheckpointRepo, StepCommit, blob_sha
from samokoder.workspace.git_objects import format_message, split_trailers
from samokoder.workspace.git_plumbing import git_env


def git(cwd: Path, *args: str, git_dir: Path | None = None, stdin: bytes | None = None) -> str:
    env = {**git_env(), "GIT_CONFIG_NOSYSTEM": "1"}
    if git_dir is not None:
        env["GIT_DIR"] = str(git_dir)
    done = subprocess.run(
        ["git", "-c", "user.name=Tester", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()


def step(repo: CheckpointRepo, changes: dict[str, bytes | None], step_id: str) -> StepCommit:
    return repo.commit_step(
        changes,
        agent="code_monkey",
        summary=f"step {step_id}",
        run_id="run1",
        step_id=step_id,
        model="gpt-test",
        tokens=42,
    )


def write(root: Path, files: dict[str, bytes | None]) -> None:
    for rel, data in files.items():
        path = root / rel
        if data is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def user_repo(root: Path) -> Path:
    root.mkdir(exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write(root, {"README.md": b"hello\n", "src/app.py": b"print(1)\n", "src/util.py": b"x = 1\n"})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def shadow_tree(root: Path, commit: str) -> dict[str, str]:
    """path -> blob sha of a commit in the shadow repository."""
    out = git(root, "ls-tree", "-r", "-z", commit, git_dir=root / ".samokoder/checkpoints.git")
    entries = [rec.split("\t", 1) for rec in out.split("\0") if rec]
    return {path: info.split()[2] for info, path in entries}


def repo_tree(root: Path, commit: str) -> dict[str, str]:
    out = git(root, "ls-tree", "-r", "-z", commit)
    return {
        path: info.split()[2] for info, path in (r.split("\t", 1) for r in out.split("\0") if r)
    }


def user_state(root: Path) -> tuple[str, str, bytes, str]:
    return (
        git(root, "status", "--porcelain", "--untracked-files=all"),
        git(root, "rev-parse", "HEAD"),
        (root / ".git/index").read_bytes(),
        git(root, "branch", "--list"),
    )


# -- pure helpers ---------------------------------------------------------------


def test_blob_sha_matches_git_hash_object(tmp_path: Path) -> None:
    for data in (b"", b"hello\n", bytes(range(256)) * 3):
        assert blob_sha(data) == git(tmp_path, "hash-object", "--stdin", stdin=data).strip()


def test_git_env_keeps_only_what_git_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("SOME_PASSWORD", "hunter2")
    monkeypatch.setenv("UNRELATED_SETTING", "1")
    env = git_env({"GIT_DIR": "/tmp/x", "ANTHROPIC_API_KEY": "leak"})
    assert "OPENAI_API_KEY" not in env and "GITHUB_TOKEN" not in env
    assert "SOME_PASSWORD" not in env and "ANTHROPIC_API_KEY" not in env
    assert "UNRELATED_SETTING" not in env
    assert env["PATH"] == os.environ["PATH"]
    assert env["GIT_DIR"] == "/tmp/x"
    assert env["GIT_COMMITTER_NAME"] == "Samokoder"
    assert env["GIT_AUTHOR_EMAIL"] == "samokoder@localhost"


def test_git_env_drops_what_the_shared_secret_rule_drops() -> None:
    extra = {"GIT_DIR": "/tmp/x", "SIGNING_PASSPHRASE": "p", "NPM_CREDENTIALS": "c"}
    env = git_env(extra)
    assert all(not is_secret_env_name(name) for name in env)
    assert "SIGNING_PASSPHRASE" not in env and "NPM_CREDENTIALS" not in env
    assert env["GIT_DIR"] == "/tmp/x"


def test_checkpoint_git_processes_get_the_scrubbed_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    seen: list[dict[str, str]] = []
    real_run = subprocess.run

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs["env"])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    repo = CheckpointRepo.open(tmp_path)
    step(repo, {"a.txt": b"a\n"}, "s1")
    assert seen
    assert all("OPENAI_API_KEY" not in env for env in seen)


def test_message_trailers_round_trip() -> None:
    message = format_message(
        "developer: add login\n\nwith a second paragraph",
        {"Samokoder-Step": "s1", "Samokoder-Model": "multi\nline"},
    )
    text, trailers = split_trailers(message)
    assert text == "developer: add login\n\nwith a second paragraph"
    assert trailers == {"Samokoder-Step": "s1", "Samokoder-Model": "multi line"}
    assert split_trailers("fix: one paragraph only") == ("fix: one paragraph only", {})


# -- shadow mode ----------------------------------------------------------------


def test_shadow_mode_leaves_the_user_repository_untouched(tmp_path: Path) -> None:
    root = user_repo(tmp_path / "ws")
    write(root, {"src/app.py": b"print(2)\n", "notes.txt": b"untracked\n"})
    git(root, "add", "src/app.py")  # a staged change of the user's
    write(root, {"src/new.py": b"new = True\n", "src/util.py": b"x = 2\n"})
    repo = CheckpointRepo.open(root)
    before = user_state(root)

    commit = step(repo, {"src/new.py": b"new = True\n", "src/util.py": b"x = 2\n"}, "s1")

    assert user_state(root) == before
    assert ".samokoder/" in (root / ".git/info/exclude").read_text().splitlines()
    assert (root / ".samokoder/.gitignore").read_text() == "*\n"
    assert ".samokoder" not in git(root, "status", "--porcelain", "--ignored=no")
    assert commit.skipped == []
    assert repo.head() == commit.sha
    assert shadow_tree(root, commit.sha) == {
        "src/new.py": blob_sha(b"new = True\n"),
        "src/util.py": blob_sha(b"x = 2\n"),
    }


def test_shadow_exclude_line_is_added_once(tmp_path: Path) -> None:
    root = user_repo(tmp_path / "ws")
    (root / ".git/info").mkdir(exist_ok=True)
    (root / ".git/info/exclude").write_text("*.log")  # no trailing newline
    (root / ".samokoder").mkdir()  # made earlier by the store, without a .gitignore
    CheckpointRepo.open(root)
    CheckpointRepo.open(root)
    assert (root / ".git/info/exclude").read_text() == "*.log\n.samokoder/\n"
    assert (root / ".samokoder/.gitignore").read_text() == "*\n"


def test_shadow_steps_build_on_the_previous_tree(tmp_path: Path) -> None:
    root = tmp_path / "plain"  # not a git repository
    root.mkdir()
    repo = CheckpointRepo.open(root)
    assert repo.head() is None and repo.log() == []
    first = step(repo, {"a.txt": b"a1\n", "lib/b.txt": b"b1\n"}, "s1")
    second = step(repo, {"lib/c.txt": b"c1\n", "a.txt": b"a2\n"}, "s2")
    third = step(repo, {"lib/b.txt": None, "lib/c.txt": None}, "s3")

    assert shadow_tree(root, second.sha) == {
        "a.txt": blob_sha(b"a2\n"),
        "lib/b.txt": blob_sha(b"b1\n"),
        "lib/c.txt": blob_sha(b"c1\n"),
    }
    assert shadow_tree(root, third.sha) == {"a.txt": blob_sha(b"a2\n")}
    assert not (root / ".git").exists()
    parents = git(
        root, "rev-list", "--parents", "-n1", third.sha, git_dir=root / ".samokoder/checkpoints.git"
    )
    assert parents.split() == [third.sha, second.sha]

    history = repo.log()
    assert [c.sha for c in history] == [third.sha, second.sha, first.sha]
    assert history[0].message == "code_monkey: step s3"
    assert history[0].trailers == {
        "Samokoder-Run": "run1",
        "Samokoder-Step": "s3",
        "Samokoder-Model": "gpt-test",
        "Samokoder-Tokens": "42",
    }
    assert sorted(history[0].files) == ["lib/b.txt", "lib/c.txt"]
    assert sorted(history[2].files) == ["a.txt", "lib/b.txt"]
    assert history[0].timestamp > 0
    assert [c.sha for c in repo.log(limit=1)] == [third.sha]
    assert repo.tree_blob(second.sha, "lib/c.txt") == blob_sha(b"c1\n")
    assert repo.tree_blob(third.sha, "lib/c.txt") is None
    assert repo.tree_blob(second.sha, "lib") is None  # a directory, not a blob


def test_trees_are_valid_git_objects_for_awkward_paths(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    write(root, {"bin/run": b"#!/bin/sh\n"})
    (root / "bin/run").chmod(0o755)
    repo = CheckpointRepo.open(root)
    step(repo, {"bin/run": b"#!/bin/sh\n", "a b/ü n.txt": b"x\n", "a-b": b"1", "a/z": b"2"}, "s1")
    step(repo, {"a": None, "a/z": None, "a b/ü n.txt": b"y\n", "deep/1/2/3/f": b"f"}, "s2")
    replaced = step(repo, {"deep/1": b"now a file", "deep/1/2/3/f": None}, "s3")
    again = step(repo, {"bin/run": b"#!/bin/sh\necho\n"}, "s4")

    git_dir = root / ".samokoder/checkpoints.git"
    git(root, "fsck", "--strict", "--no-dangling", git_dir=git_dir)
    assert shadow_tree(root, replaced.sha) == {
        "a b/ü n.txt": blob_sha(b"y\n"),
        "a-b": blob_sha(b"1"),
        "bin/run": blob_sha(b"#!/bin/sh\n"),
        "deep/1": blob_sha(b"now a file"),
    }
    mode = git(root, "ls-tree", again.sha, "bin/run", git_dir=git_dir).split()[0]
    assert mode == "100755"  # new executable file, and its mode survives a later change


def test_write_blob_before_any_commit_and_read_back(tmp_path: Path) -> None:
    repo = CheckpointRepo.open(tmp_path)
    sha = repo.write_blob(b"before content\n")
    assert sha == blob_sha(b"before content\n")
    assert repo.read_blob(sha) == b"before content\n"
    assert repo.head() is None
    with pytest.raises(NotFoundError):
        repo.read_blob(blob_sha(b"never written"))
    with pytest.raises(InvalidArgumentError):
        repo.read_blob("HEAD")


def test_files_over_the_size_cap_are_skipped_and_reported(tmp_path: Path) -> None:
    repo = CheckpointRepo.open(tmp_path)
    big = b"x" * (MAX_BLOB_BYTES + 1)
    commit = step(repo, {"big.bin": big, "small.txt": b"s\n"}, "s1")
    assert commit.skipped == ["big.bin"]
    assert shadow_tree(tmp_path, commit.sha) == {"small.txt": blob_sha(b"s\n")}
    assert not (tmp_path / ".samokoder/checkpoints.git/objects" / blob_sha(big)[:2]).exists()


def test_bad_paths_are_refused(tmp_path: Path) -> None:
    repo = CheckpointRepo.open(tmp_path)
    for bad in ("../x", "/etc/passwd", ".git/config", "a/.git/x", ".samokoder/x", "a//b", "a\nb"):
        with pytest.raises(InvalidArgumentError):
            step(repo, {bad: b"x"}, "s1")
    with pytest.raises(InvalidArgumentError):
        step(repo, {"a": b"file", "a/b": b"file below it"}, "s1")
    assert repo.head() is None


def test_interrupted_step_leaves_no_visible_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = CheckpointRepo.open(tmp_path)
    first = step(repo, {"a.txt": b"1"}, "s1")
    real_run = git_plumbing.GitRunner.run

    def crash_on_ref_update(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if args[0] == "update-ref":
            raise KeyboardInterrupt
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(git_plumbing.GitRunner, "run", crash_on_ref_update)
    with pytest.raises(KeyboardInterrupt):
        step(repo, {"a.txt": b"2"}, "s2")
    monkeypatch.undo()
    assert repo.head() == first.sha
    assert [c.sha for c in repo.log()] == [first.sha]


def test_parallel_threads_both_land_in_the_chain(tmp_path: Path) -> None:
    repo = CheckpointRepo.open(tmp_path)
    other = CheckpointRepo.open(tmp_path)  # a second instance shares the same lock
    errors: list[BaseException] = []

    def worker(r: CheckpointRepo, name: str) -> None:
        try:
            for i in range(5):
                step(r, {f"{name}/{i}.txt": f"{name}{i}".encode()}, f"{name}-{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(r, n)) for r, n in ((repo, "t1"), (other, "t2"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    history = repo.log()
    assert len(history) == 10
    assert {c.trailers["Samokoder-Step"] for c in history} == {
        f"{n}-{i}" for n in ("t1", "t2") for i in range(5)
    }
    assert len(shadow_tree(tmp_path, history[0].sha)) == 10


def test_a_stale_instance_rebuilds_on_the_moved_branch(tmp_path: Path) -> None:
    first, second = CheckpointRepo.open(tmp_path), CheckpointRepo.open(tmp_path)
    step(first, {"a.txt": b"a"}, "s1")
    step(second, {"b.txt": b"b"}, "s2")  # `first` still believes s1 is the tip
    third = step(first, {"c.txt": b"c"}, "s3")
    assert [c.trailers["Samokoder-Step"] for c in first.log()] == ["s3", "s2", "s1"]
    assert sorted(shadow_tree(tmp_path, third.sha)) == ["a.txt", "b.txt", "c.txt"]

    git_dir = tmp_path / ".samokoder/checkpoints.git"
    outside = git(
        tmp_path,
        "commit-tree",
        "-p",
        third.sha,
        "-m",
        "by hand",
        f"{third.sha}^{{tree}}",
        git_dir=git_dir,
    ).strip()
    git(tmp_path, "update-ref", "refs/heads/checkpoints", outside, git_dir=git_dir)
    fourth = step(first, {"d.txt": b"d"}, "s4")
    assert git(tmp_path, "rev-parse", f"{fourth.sha}^", git_dir=git_dir).strip() == outside


def test_a_ref_that_cannot_be_updated_is_reported(tmp_path: Path) -> None:
    repo = CheckpointRepo.open(tmp_path)
    first = step(repo, {"a.txt": b"1"}, "s1")
    lock = tmp_path / ".samokoder/checkpoints.git/refs/heads/checkpoints.lock"
    lock.write_text("")  # as left behind by a crashed git
    with pytest.raises(SamokoderError, match="could not record step s2"):
        step(repo, {"a.txt": b"2"}, "s2")
    lock.unlink()
    assert repo.head() == first.sha


# -- repo mode ------------------------------------------------------------------


def test_repo_mode_commits_on_the_branch_and_keeps_staged_changes(tmp_path: Path) -> None:
    root = user_repo(tmp_path / "ws")
    old_head = git(root, "rev-parse", "HEAD").strip()
    old_tree = repo_tree(root, old_head)
    write(root, {"README.md": b"hello, staged\n"})
    git(root, "add", "README.md")  # the user's staged change on A
    staged_before = git(root, "diff", "--cached")
    write(root, {"src/app.py": b"print(3)\n", "src/b.py": b"b = 1\n"})  # the step's B and C
    repo = CheckpointRepo.open(root, "repo")

    commit = step(repo, {"src/app.py": b"print(3)\n", "src/b.py": b"b = 1\n"}, "s1")

    assert git(root, "rev-parse", "HEAD").strip() == commit.sha
    assert git(root, "rev-parse", "HEAD^").strip() == old_head
    assert git(root, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(root, "diff", "--cached") == staged_before
    assert git(root, "status", "--porcelain") == "M  README.md\n"
    assert repo_tree(root, commit.sha) == {
        **old_tree,
        "src/app.py": blob_sha(b"print(3)\n"),
        "src/b.py": blob_sha(b"b = 1\n"),
    }
    (info,) = repo.log()
    assert info.sha == commit.sha and sorted(info.files) == ["src/app.py", "src/b.py"]
    assert "Samokoder-Step: s1" in git(root, "log", "-1", "--format=%B")
    assert ".samokoder/" in (root / ".git/info/exclude").read_text()


def test_repo_mode_deletion_and_staged_path_left_alone(tmp_path: Path) -> None:
    root = user_repo(tmp_path / "ws")
    repo = CheckpointRepo.open(root, "repo")
    write(root, {"src/util.py": b"x = 'staged'\n"})
    git(root, "add", "src/util.py")
    write(root, {"src/app.py": None, "src/util.py": b"x = 'step'\n"})
    commit = step(repo, {"src/app.py": None, "src/util.py": b"x = 'step'\n"}, "s1")

    assert "src/app.py" not in repo_tree(root, commit.sha)
    # util.py: index still holds the user's staged blob, so it shows as staged + modified
    assert git(root, "ls-files", "-s", "src/util.py").split()[1] == blob_sha(b"x = 'staged'\n")
    assert git(root, "status", "--porcelain") == "MM src/util.py\n"


def test_repo_mode_skips_user_commits_in_log(tmp_path: Path) -> None:
    root = user_repo(tmp_path / "ws")
    repo = CheckpointRepo.open(root, "repo")
    write(root, {"a.txt": b"1"})
    first = step(repo, {"a.txt": b"1"}, "s1")
    write(root, {"mine.txt": b"user work\n"})
    git(root, "add", "mine.txt")
    git(root, "commit", "-q", "-m", "user commit")
    write(root, {"a.txt": b"2"})
    second = step(repo, {"a.txt": b"2"}, "s2")
    assert [c.sha for c in repo.log()] == [second.sha, first.sha]
    assert repo.head() == second.sha
    assert git(root, "status", "--porcelain") == ""


def test_repo_mode_unborn_branch_gets_a_root_commit(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    git(root, "init", "-q", "-b", "trunk")
    repo = CheckpointRepo.open(root, "repo")
    assert repo.head() is None
    write(root, {"main.py": b"print()\n"})
    commit = step(repo, {"main.py": b"print()\n"}, "s1")
    assert git(root, "rev-list", "--parents", "HEAD").split() == [commit.sha]
    assert git(root, "symbolic-ref", "HEAD").strip() == "refs/heads/trunk"
    assert git(root, "status", "--porcelain") == ""


def test_repo_mode_refuses_detached_head_and_non_repos(tmp_path: Path) -> None:
    root = user_repo(tmp_path / "ws")
    git(root, "checkout", "-q", "--detach")
    repo = CheckpointRepo.open(root, "repo")
    with pytest.raises(SamokoderError, match=r"detached.*shadow"):
        step(repo, {"a.txt": b"1"}, "s1")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SamokoderError, match="not inside a Git work tree"):
        CheckpointRepo.open(plain, "repo")


def test_repo_mode_in_a_subfolder_and_with_packed_objects(tmp_path: Path) -> None:
    top = user_repo(tmp_path / "mono")
    root = top / "src"
    repo = CheckpointRepo.open(root, "repo")
    write(root, {"util.py": b"x = 3\n"})
    commit = step(repo, {"util.py": b"x = 3\n"}, "s1")
    assert repo_tree(top, commit.sha)["src/util.py"] == blob_sha(b"x = 3\n")
    assert repo.log()[0].files == ["util.py"]
    assert repo.tree_blob(commit.sha, "util.py") == blob_sha(b"x = 3\n")
    git(top, "gc", "-q")  # every object is now packed: reads must go through git
    assert repo.read_blob(blob_sha(b"x = 3\n")) == b"x = 3\n"
    write(root, {"app.py": b"print(4)\n"})
    second = step(repo, {"app.py": b"print(4)\n"}, "s2")
    assert repo_tree(top, second.sha)["src/util.py"] == blob_sha(b"x = 3\n")
    assert git(top, "status", "--porcelain") == ""
    git(top, "fsck", "--strict", "--no-dangling")


def test_repo_mode_in_a_sha256_repository(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    git(root, "init", "-q", "-b", "main", "--object-format=sha256")
    write(root, {"a.txt": b"one\n"})
    git(root, "add", "a.txt")
    git(root, "commit", "-q", "-m", "initial")
    repo = CheckpointRepo.open(root, "repo")
    assert repo.object_format == "sha256"
    write(root, {"a.txt": b"two\n", "sub/b.txt": b"b\n"})
    commit = step(repo, {"a.txt": b"two\n", "sub/b.txt": b"b\n"}, "s1")
    assert len(commit.sha) == 64
    assert repo.tree_blob(commit.sha, "a.txt") == blob_sha(b"two\n", "sha256")
    assert repo.read_blob(blob_sha(b"two\n", "sha256")) == b"two\n"
    assert git(root, "status", "--porcelain") == ""
    git(root, "fsck", "--strict", "--no-dangling")
