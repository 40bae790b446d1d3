"""Settings: merged from the environment and the client, forgiving of bad values."""

from __future__ import annotations

from samokoder.settings import Settings, parse_settings


def test_defaults() -> None:
    settings, problems = parse_settings(environ={})
    assert problems == []
    assert settings == Settings()
    assert settings.model == "" and settings.review is None and settings.checkpoints == "shadow"


def test_environment_then_sources_later_wins() -> None:
    settings, problems = parse_settings(
        {"model": "openai/a", "maxParallel": 2},
        {"model": "openai/b"},
        environ={"SAMOKODER_MODEL": "env/model", "SAMOKODER_API_BASE": "http://127.0.0.1:1"},
    )
    assert problems == []
    assert settings.model == "openai/b"
    assert settings.api_base == "http://127.0.0.1:1"
    assert settings.max_parallel == 2


def test_invalid_values_reported_and_defaults_kept() -> None:
    settings, problems = parse_settings(
        {"model": "openai/x", "review": "sometimes", "maxParallel": 0, "temperature": "hot"},
        environ={},
    )
    assert settings.model == "openai/x"
    assert settings.review is None and settings.max_parallel == 4 and settings.temperature == 0
    assert len(problems) == 3
    assert any("'review'" in p for p in problems)
    assert all(p.endswith("using the default") for p in problems)


def test_non_object_source_is_reported() -> None:
    settings, problems = parse_settings(["not", "an", "object"], environ={})  # type: ignore[arg-type]
    assert settings == Settings()
    assert problems == ["settings must be an object, got list"]


def test_agent_models_and_keys() -> None:
    settings, _ = parse_settings(
        {
            "model": "openai/main",
            "agentModels": {"reviewer": "anthropic/claude"},
            "apiKeys": {"anthropic": "sk-ant-xyz", "default": "sk-default"},
        },
        environ={},
    )
    assert settings.model_for("reviewer") == "anthropic/claude"
    assert settings.model_for("code_monkey") == "openai/main"
    assert settings.api_key_for("anthropic/claude") == "sk-ant-xyz"
    assert settings.api_key_for("openai/main") == "sk-default"
    assert "sk-ant-xyz" not in repr(settings)
