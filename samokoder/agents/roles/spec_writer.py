"""Spec writer: turns the request into a specification; asks when it is too vague."""

from __future__ import annotations

from samokoder.agents.roles import Messages, bullet, system, user
from samokoder.agents.schemas import Specification

AGENT = "spec_writer"
SCHEMA = Specification

ROLE = (
    "You are the spec writer. Turn the user's request into a short specification: a summary, "
    "the user-visible features and the assumptions you make where the request is silent. "
    "Only when the request is too vague to build anything sensible, add up to 3 questions "
    "for the user; otherwise leave `questions` empty and state assumptions instead."
)


def messages(description: str, answers: list[tuple[str, str]] | None = None) -> Messages:
    text = f"Request:\n{description.strip()}\n"
    if answers:
        qa = "\n".join(f"Q: {q}\nA: {a}" for q, a in answers)
        text += f"\nThe user answered your questions:\n{qa}\nDo not ask more questions.\n"
    elif answers is not None:
        text += "\nThe user skipped the questions: state assumptions, ask nothing more.\n"
    return [system(ROLE), user(text)]


def render(spec: Specification) -> str:
    return (
        f"Summary: {spec.summary}\nFeatures:\n{bullet(spec.features)}\n"
        f"Assumptions:\n{bullet(spec.assumptions)}"
    )
