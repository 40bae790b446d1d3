"""The prompt layout for provider prompt caching (issue 13): what every role of a run
sends alike comes first, byte for byte; breakpoints only where a provider needs them."""

from __future__ import annotations

from samokoder.agents import roles
from samokoder.agents.roles import code_monkey, developer, tech_lead, tech_writer, troubleshooter
from samokoder.agents.schemas import FileStep, Task
from samokoder.client.render import usage_line
from samokoder.llm.prompt_cache import needs_breakpoints, with_breakpoints
from samokoder.store.usage import fold_usage

TASK = Task(title="Greet", description="write greet()", acceptance_criteria=["it greets"])
DESIGN = "Stack: Python\nFiles:\n- app.py: the greeter"
MAP = "app.py  (2 lines)\n  def greet"


def test_every_role_after_the_design_starts_with_the_same_system_prefix() -> None:
    step = FileStep(path="app.py", action="create")
    systems = [
        m[0]["content"]
        for m in (
            tech_lead.messages("goal", DESIGN, MAP),
            developer.messages(TASK, DESIGN, MAP, {}, None),
            code_monkey.messages(TASK, step, DESIGN, None, {}),
            code_monkey.messages(TASK, step, DESIGN, "x = 1\n", {}),
            tech_writer.messages("spec", DESIGN, ["app.py"], None),
            troubleshooter.messages(TASK, "it failed", {}, DESIGN),
        )
    ]
    shared = roles.PREAMBLE + roles.shared_context(DESIGN)
    assert all(s.startswith(shared + "You are the ") for s in systems)
    assert len({s[len(shared) :] for s in systems}) == len(systems)  # the role comes after


def test_the_per_call_part_stays_in_the_user_message() -> None:
    messages = developer.messages(TASK, DESIGN, MAP, {"app.py": "x = 1\n"}, "say hello")
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert user.startswith("Task: Greet\n") and "say hello" in user and MAP in user
    assert DESIGN not in user


def test_a_map_the_design_carries_is_not_sent_again() -> None:
    design = roles.with_map(DESIGN, MAP)
    assert roles.map_unless_shared(design, MAP) == ""
    assert "other.py  (1 line)" in roles.map_unless_shared(design, "other.py  (1 line)")
    planned = tech_lead.messages("goal", design, MAP)
    assert planned[0]["content"].count(MAP) == 1 and MAP not in planned[1]["content"]


def test_breakpoints_only_for_providers_that_need_them() -> None:
    assert needs_breakpoints("anthropic/claude-sonnet-4-5")
    assert needs_breakpoints("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0")
    assert needs_breakpoints("vertex_ai/claude-sonnet-4@20250514")
    assert not needs_breakpoints("openai/gpt-4.1-mini")
    assert not needs_breakpoints("bedrock/amazon.nova-pro-v1:0")
    messages = developer.messages(TASK, DESIGN, MAP, {}, None)
    assert with_breakpoints("openai/gpt-4.1-mini", messages) is messages


def test_the_shared_context_and_the_role_are_marked_blocks_of_their_own() -> None:
    messages = developer.messages(TASK, DESIGN, MAP, {}, None)
    marked = with_breakpoints("anthropic/claude-sonnet-4-5", messages)
    shared, role = marked[0]["content"]
    assert shared["text"] == roles.PREAMBLE + roles.shared_context(DESIGN)
    assert role["text"].startswith("You are the developer.")
    assert shared["cache_control"] == role["cache_control"] == {"type": "ephemeral"}
    assert shared["text"] + role["text"] == messages[0]["content"]
    assert marked[1] == messages[1]  # the per-call part is not marked
    alone = with_breakpoints("anthropic/claude-sonnet-4-5", [{"role": "system", "content": "x"}])
    assert alone[0]["content"] == [
        {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
    ]


def test_usage_shows_cached_tokens_and_savings_only_when_there_are_some() -> None:
    rows = [
        ("r1", "developer", "m", 4000, 100, 0.5, 2, 0, 3000, 0.25),
        ("r1", "reviewer", "m", 1000, 10, 0.1, 1, 0, 0, 0.0),
    ]
    usage = fold_usage(rows)
    total = usage["total"]
    assert isinstance(total, dict)
    assert total["cachedTokens"] == 3000 and total["savedUsd"] == 0.25
    by_agent = usage["byAgent"]
    assert isinstance(by_agent, list)
    assert "cachedTokens" not in by_agent[1] and "savedUsd" not in by_agent[1]


def test_the_usage_line_says_what_the_cache_saved() -> None:
    totals = {"promptTokens": 4000, "completionTokens": 10, "costUsd": 0.5, "requests": 2}
    assert "cached" not in usage_line(totals)
    line = usage_line({**totals, "cachedTokens": 3000, "savedUsd": 0.25})
    assert line.endswith("(3,000 cached, $0.2500 saved)")
