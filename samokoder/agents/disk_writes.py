"""Writing closed files for a step: all of them or none, never over a change made since.

The editor's buffers change through a workspace edit (`steps.apply_files`); files
the editor does not have open are written here, each atomically.
"""

from __future__ import annotations

import logging

from samokoder import crashpoints
from samokoder.agents.step_types import PlannedFile, StepFolder
from samokoder.errors import StaleProposalError
from samokoder.workspace.files import atomic_write, decode_text, delete_file, read_bytes

log = logging.getLogger(__name__)


def read_disk(project: StepFolder, rel: str) -> str | None:
    """The file's text on disk, None when it does not exist."""
    data = read_bytes(project.workspace.resolve(rel))
    return None if data is None else decode_text(data)


def put_file(project: StepFolder, rel: str, text: str | bytes | None) -> None:
    """Make a closed file hold `text` (None: delete it), atomically."""
    path = project.workspace.resolve(rel)
    if text is None:
        delete_file(path, project.root)
    else:
        atomic_write(path, text.encode("utf-8") if isinstance(text, str) else text)


def write_all(project: StepFolder, files: list[PlannedFile]) -> None:
    """Write every file or none: checked against `before` first, rolled back on an error."""
    changed = [f.rel for f in files if read_disk(project, f.rel) != f.before]
    if changed:  # e.g. a git checkout since the step was planned: never write over it
        raise StaleProposalError(
            ", ".join(changed) + " changed on disk just now; nothing was written. Run the"
            " command again.",
            changed,
        )
    written: list[PlannedFile] = []
    try:
        for planned in files:
            put_file(project, planned.rel, planned.after)
            written.append(planned)
            crashpoints.reached("mid_disk_writes")
    except Exception:
        for planned in reversed(written):
            try:
                if read_disk(project, planned.rel) == planned.after:
                    put_file(project, planned.rel, planned.before)
            except Exception:
                log.exception("could not restore %s after a failed write", planned.rel)
        raise
