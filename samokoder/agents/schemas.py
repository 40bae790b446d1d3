"""What each agent role answers, as pydantic models (DESIGN §6).

Replies are validated against these; a reply that does not fit is sent back to
the model with the validation error, a bounded number of times.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TASKS = 12
MAX_FILES_PER_TASK = 30
MAX_PLANNED_FILES = 200


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Specification(_Model):
    """The spec writer's reading of the request."""

    summary: str = Field(description="What will be built, in two or three sentences.")
    features: list[str] = Field(default_factory=list, description="User-visible features.")
    assumptions: list[str] = Field(
        default_factory=list, description="Choices made where the request is silent."
    )
    questions: list[str] = Field(
        default_factory=list,
        max_length=5,
        description="Questions for the user, only when the request is too vague to build.",
    )


class PlannedFile(_Model):
    path: str = Field(description="Path relative to the project folder, with forward slashes.")
    purpose: str = Field(default="", description="What the file holds.")


class Architecture(_Model):
    """Stack, dependencies and file layout; any stack, not only Node."""

    stack: str = Field(description="Languages, frameworks and tools, in one line.")
    dependencies: list[str] = Field(default_factory=list, description="Packages to install.")
    files: list[PlannedFile] = Field(default_factory=list, max_length=MAX_PLANNED_FILES)
    run_command: str = Field(default="", description="How to run the app.")
    test_command: str = Field(default="", description="How to run its tests.")


class FileStep(_Model):
    path: str = Field(description="Path relative to the project folder.")
    action: Literal["create", "modify", "delete"]
    instructions: str = Field(default="", description="What to write or change in this file.")
    depends_on: list[str] = Field(
        default_factory=list, description="Files of this task that must be written first."
    )


class Task(_Model):
    title: str = Field(description="Short imperative title, e.g. 'Add the storage module'.")
    description: str = Field(description="What to do, precisely enough for a developer.")
    acceptance_criteria: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list, description="Files the task touches.")
    steps: list[FileStep] = Field(
        default_factory=list,
        max_length=MAX_FILES_PER_TASK,
        description="Each file of the task to create, modify or delete, with instructions "
        "for a code writer who sees only that file and them.",
    )
    commands: list[str] = Field(
        default_factory=list, description="Commands to run after the task (install, test)."
    )


class Plan(_Model):
    """The tech lead's plan: tasks in the order they are done."""

    tasks: list[Task] = Field(min_length=1, max_length=MAX_TASKS)


class Blueprint(_Model):
    """The architect's layout and the tech lead's plan, from one call (generate)."""

    architecture: Architecture
    tasks: list[Task] = Field(min_length=1, max_length=MAX_TASKS)


class TaskSteps(_Model):
    """The developer's breakdown of one task."""

    files: list[FileStep] = Field(min_length=1, max_length=MAX_FILES_PER_TASK)
    commands: list[str] = Field(
        default_factory=list, description="Commands to run afterwards (install, test)."
    )


class ReviewIssue(_Model):
    path: str
    problem: str


class Review(_Model):
    """The reviewer's verdict on a task's change set."""

    approved: bool
    issues: list[ReviewIssue] = Field(default_factory=list)
    summary: str = ""


class FixPlan(_Model):
    """The troubleshooter's reading of a failure and the files to change to fix it."""

    diagnosis: str = Field(description="What is wrong and why, in one or two sentences.")
    files: list[FileStep] = Field(
        default_factory=list,
        max_length=MAX_FILES_PER_TASK,
        description="Files to change to fix it; empty when no change to the code can fix it.",
    )
