"""A worker that keeps applying, undoing and redoing steps until it is killed, and the
checks that must hold once a new process opens the folder again.

The worker goes through the production paths (a proposal accepted through
`ProposalBook.accept`, `steps.undo`, `steps.redo`) on files whose every version
is recognisable, so a torn or half-applied write cannot hide. It appends each
step it saw complete to a journal; a step in the journal must survive any kill.

    python -m tests.reliability.crash_scenario work ROOT SEED shadow|repo   # until killed
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from samokoder.agents import steps
from samokoder.agents.project import Project
from samokoder.agents.recovery import recover
from samokoder.agents.review import Proposal, ProposalBook, ProposedFile, new_proposal_id
from samokoder.errors import NotFoundError, SamokoderError
from samokoder.store.db import undo_redo_targets
from samokoder.store.rows import RunRow
from samokoder.workspace.git_objects import blob_sha
from tests.fakes.quiet_host import QuietHost

FILES = tuple(f"src/f{i}.txt" for i in range(4))
JOURNAL = "journal.txt"  # beside the workspace, not inside it
_HEADER = re.compile(r"^(?P<path>\S+) version (?P<token>[0-9a-f]+)\n")
SKIP_DIRS = {".git", ".samokoder"}


def content(rel: str, token: str) -> str:
    """A version of a file: ~24 KiB, fully determined by its first line."""
    body = "".join(f"{rel} {token} line {n}\n" for n in range(600))
    return f"{rel} version {token}\n{body}"


def is_whole(rel: str, text: str) -> bool:
    match = _HEADER.match(text)
    return bool(match) and match is not None and content(rel, match["token"]) == text


def make_workspace(root: Path, mode: str = "shadow") -> None:
    """The folder a worker edits; in "repo" mode a Git repository whose branch gets the steps."""
    (root / "src").mkdir(parents=True)
    for rel in FILES:
        (root / rel).write_text(content(rel, "0"))
    (root / "README.md").write_text("not touched by any step\n")
    if mode == "repo":
        from tests.e2e.harness import git

        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial")


# -- the worker ---------------------------------------------------------------------------


def _read(root: Path, rel: str) -> str | None:
    path = root / rel
    return path.read_text() if path.exists() else None


async def _one_apply(project: Project, book: ProposalBook, run_id: str, rng: random.Random) -> str:
    root = project.root
    present = sorted(str(p.relative_to(root)) for p in (root / "src").glob("*.txt") if p.is_file())
    chosen = rng.sample(present, k=min(len(present), rng.randint(1, 3)))
    token = f"{rng.getrandbits(48):012x}"
    files = []
    for rel in chosen:
        base = _read(root, rel)
        if rng.random() < 0.1 and len(present) > 2:
            files.append(ProposedFile(rel, "delete", base, None))
        else:
            files.append(ProposedFile(rel, "modify", base, content(rel, token)))
    if rng.random() < 0.3:
        rel = f"src/new_{token}.txt"
        files.append(ProposedFile(rel, "create", None, content(rel, token)))
    proposal = Proposal(
        new_proposal_id(), run_id, f"step {token}", project, files, "code_monkey", "m", 1
    )
    host = QuietHost()
    await book.publish(proposal, host)
    result = await book.accept(proposal.proposal_id, None, host)
    return str(result["stepId"])


async def work(root: Path, seed: int, mode: str) -> None:
    project = await asyncio.to_thread(Project.open, root, mode)
    await asyncio.to_thread(recover, project)  # as the server does after opening
    run_id = f"r-worker-{seed}"
    await asyncio.to_thread(
        project.store.create_run,
        RunRow(run_id, "editSelection", "crash test", "running", "", None, time.time(), None),
    )
    book = ProposalBook()
    rng = random.Random(seed)
    journal = (root.parent / JOURNAL).open("a", encoding="utf-8")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        roll = rng.random()
        try:
            if roll < 0.6:
                line = f"apply {await _one_apply(project, book, run_id, rng)}"
            elif roll < 0.85:
                line = f"undo {(await steps.undo(project, QuietHost()))['stepId']}"
            else:
                line = f"redo {(await steps.redo(project, QuietHost()))['stepId']}"
        except NotFoundError:
            continue  # nothing to undo or redo
        journal.write(line + "\n")
        journal.flush()


# -- the checks ---------------------------------------------------------------------------


@dataclass
class Verdict:
    """What a kill left behind, once the folder is opened again."""

    corrupted: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)
    fsck_errors: list[str] = field(default_factory=list)
    lost_steps: list[str] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)
    chain_mismatch: str = ""
    undo_error: str = ""
    pending: int = 0
    interrupted_runs: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)

    @property
    def files_corrupted(self) -> int:
        return len(self.corrupted) + len(self.temp_files)

    @property
    def steps_lost(self) -> int:
        return len(self.lost_steps) + (1 if self.unrecorded else 0)

    def problems(self) -> list[str]:
        found = []
        for name in ("corrupted", "temp_files", "fsck_errors", "lost_steps", "unrecorded"):
            if getattr(self, name):
                found.append(f"{name}: {getattr(self, name)}")
        if self.chain_mismatch:
            found.append(f"store and checkpoints disagree: {self.chain_mismatch}")
        if self.undo_error:
            found.append(f"undo/redo after restart: {self.undo_error}")
        if self.pending:
            found.append(f"{self.pending} step(s) still pending after recovery")
        return found


def _git(gitdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "--git-dir", str(gitdir), *args], capture_output=True, text=True, check=False
    )


def _workspace_files(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            found.append(str((Path(dirpath) / name).relative_to(root)))
    return sorted(found)


def _tip_tree(gitdir: Path, ref: str) -> dict[str, str]:
    listed = _git(gitdir, "ls-tree", "-r", ref)
    tree = {}
    for line in listed.stdout.splitlines():
        info, _, path = line.partition("\t")
        tree[path] = info.split()[2]
    return tree


def _branch_steps(gitdir: Path, ref: str) -> list[str]:
    out = _git(gitdir, "log", "--reverse", "--format=%(trailers:key=Samokoder-Step,valueonly)", ref)
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def _disk_sha(root: Path, rel: str) -> str | None:
    path = root / rel
    return blob_sha(path.read_bytes()) if path.exists() else None


def _journal(root: Path) -> list[str]:
    path = root.parent / JOURNAL
    if not path.exists():
        return []
    return [line.split()[1] for line in path.read_text().splitlines() if len(line.split()) == 2]


async def check(root: Path, mode: str = "shadow") -> Verdict:
    """Open the folder as a restarted server would, then look for anything broken."""
    verdict = Verdict()
    project = await asyncio.to_thread(Project.open, root, mode)
    recovery = await asyncio.to_thread(recover, project)
    verdict.recovered = [r.outcome for r in recovery.steps]
    verdict.interrupted_runs = list(recovery.interrupted_runs)
    try:
        await asyncio.to_thread(_check_files, project, verdict)
        await _check_undo(project, verdict)
        await asyncio.to_thread(_check_files, project, verdict)  # undo and redo kept it whole
    finally:
        project.close()
    return verdict


def _check_files(project: Project, verdict: Verdict) -> None:
    root = project.root
    repo_mode = project.checkpoints.mode == "repo"
    gitdir = root / ".git" if repo_mode else root / ".samokoder" / "checkpoints.git"
    ref = "HEAD" if repo_mode else "refs/heads/checkpoints"
    for rel in _workspace_files(root):
        name = rel.rsplit("/", 1)[-1]
        if name.endswith(".tmp"):
            verdict.temp_files.append(rel)
        elif rel.startswith("src/") and not is_whole(rel, (root / rel).read_text()):
            verdict.corrupted.append(rel)
    fsck = _git(gitdir, "fsck", "--full", "--strict", "--no-dangling")
    if repo_mode:  # the user's index and work tree agree with the branch
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        if status.strip():
            verdict.unrecorded.append(f"git status: {status.strip()[:200]}")
    if fsck.returncode != 0 or fsck.stdout.strip() or "error" in fsck.stderr:
        verdict.fsck_errors.append((fsck.stdout + fsck.stderr).strip()[:2000])
    store = project.store
    chain = store.step_chain()
    ids = [step_id for step_id, _kind, _target in chain]
    branch = _branch_steps(gitdir, ref)
    if ids != branch:
        at = next((i for i, (a, b) in enumerate(zip(ids, branch, strict=False)) if a != b), None)
        at = min(len(ids), len(branch)) if at is None else at
        verdict.chain_mismatch = (
            f"{len(ids)} steps in the store, {len(branch)} on the branch, first difference at"
            f" {at}: store {ids[at : at + 2]} vs branch {branch[at : at + 2]}"
        )
    verdict.lost_steps = [s for s in _journal(root) if s not in ids]
    # Every file a step touched holds what the last step left; files no step touched
    # still hold their first version.
    tree = _tip_tree(gitdir, ref)
    touched = {f.path for s in store.list_steps(1000) for f in s.files}
    for rel in sorted(touched | set(_workspace_files(root))):
        if not rel.startswith("src/") or rel in verdict.unrecorded:
            continue
        first = blob_sha(content(rel, "0").encode())
        expected = tree.get(rel) if rel in touched or rel in tree else first
        if _disk_sha(root, rel) != expected:
            verdict.unrecorded.append(rel)
    verdict.pending = _pending_count(project)


def _pending_count(project: Project) -> int:
    return len(project.store.pending_steps())


async def _check_undo(project: Project, verdict: Verdict) -> None:
    chain = await asyncio.to_thread(project.store.step_chain)
    undo_id, _ = undo_redo_targets(chain)
    if undo_id is None:
        return
    try:
        target = await asyncio.to_thread(project.store.get_step, undo_id)
        assert target is not None
        await steps.undo(project, QuietHost())
        for f in target.files:
            if _disk_sha(project.root, f.path) != f.before_blob:
                verdict.undo_error = f"undo left {f.path} different from before the step"
        await steps.redo(project, QuietHost())
        for f in target.files:
            if _disk_sha(project.root, f.path) != f.after_blob:
                verdict.undo_error = f"redo left {f.path} different from after the step"
    except SamokoderError as exc:
        verdict.undo_error = exc.message


def digest(root: Path) -> str:
    """A fingerprint of the workspace files, to tell whether a check changed anything."""
    h = hashlib.sha256()
    for rel in _workspace_files(root):
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes())
    return h.hexdigest()


REPO = Path(__file__).resolve().parents[2]
WORKER_MODULE = "tests.reliability.crash_scenario"


@dataclass(frozen=True)
class Kill:
    """How one worker dies: at an armed crash point, or by SIGKILL `delay` seconds after it
    is ready (after it starts when `early`: then it may die while recovering)."""

    crash: str | None = None
    delay: float | None = None
    early: bool = False
    mode: str = "shadow"  # checkpoints: "shadow" or "repo"


def run_worker(root: Path, seed: int, kill: Kill, timeout: float = 30.0) -> int:
    """Start a worker on `root`, let it die as `kill` says; return its exit status."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMOKODER_")}
    if kill.crash:
        env["SAMOKODER_TEST_CRASH"] = kill.crash
    with (root.parent / "worker.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, "work", str(root), str(seed), kill.mode],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    try:
        assert proc.stdout is not None
        if kill.early and kill.delay is not None:
            time.sleep(kill.delay)
            proc.kill()
            return proc.wait(timeout)
        ready = proc.stdout.readline()
        if ready.strip() != b"ready":
            proc.wait(timeout)
            raise RuntimeError(f"worker did not start: {(root.parent / 'worker.log').read_text()}")
        if kill.delay is not None:
            time.sleep(kill.delay)
            proc.kill()
        return proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "work":
        asyncio.run(work(Path(argv[1]), int(argv[2]), argv[3]))
        return 0
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
