"""${VAR}, ${VAR:-default} and ${file:/path} interpolation."""

from __future__ import annotations

from pathlib import Path

from seawall.config import FindingCode, check_text

BASE = """
version: 1
admin:
  listen: {listen}
  tokens:
    - {{name: ops, token: {token}, role: admin}}
"""


def _admin(listen: str, token: str, env: dict[str, str]):
    return check_text(BASE.format(listen=listen, token=token), env=env)


def test_variable_and_default() -> None:
    """${VAR} reads the environment and ${VAR:-x} falls back to x."""
    config, findings = _admin("127.0.0.1:${PORT:-9091}", "${TOKEN}", {"TOKEN": "abc"})
    assert findings == []
    assert config is not None
    assert config.admin.listen == ("127.0.0.1", 9091)
    assert config.admin.tokens[0].token.get_secret_value() == "abc"


def test_file_reference_strips_trailing_newline(tmp_path: Path) -> None:
    """${file:/path} reads a secret file, as Docker and Kubernetes mount them."""
    secret = tmp_path / "token"
    secret.write_text("from-a-file\n")
    config, findings = _admin("127.0.0.1:8081", f"${{file:{secret}}}", {})
    assert findings == []
    assert config is not None
    assert config.admin.tokens[0].token.get_secret_value() == "from-a-file"


def test_secret_with_yaml_syntax_is_taken_verbatim() -> None:
    """A secret holding YAML punctuation does not change how the file parses."""
    tricky = "a}b, c: {d} # e"
    config, findings = _admin("127.0.0.1:8081", "${TOKEN}", {"TOKEN": tricky})
    assert findings == []
    assert config is not None
    assert config.admin.tokens[0].token.get_secret_value() == tricky


def test_escaped_reference_is_literal() -> None:
    """$${ writes a literal ${ into the value."""
    config, findings = _admin("127.0.0.1:8081", '"$${NOT_A_VAR}"', {})
    assert findings == []
    assert config is not None
    assert config.admin.tokens[0].token.get_secret_value() == "${NOT_A_VAR}"


def test_lone_variable_takes_yaml_type() -> None:
    """An unquoted lone ${VAR} is typed like the YAML it expands to."""
    text = "version: 1\ndefaults:\n  policy:\n    retry: {attempts: ${ATTEMPTS}}\n"
    config, findings = check_text(text, env={"ATTEMPTS": "4"})
    assert findings == []
    assert config is not None
    assert config.defaults.policy.retry.attempts == 4


def test_bad_value_from_environment_is_not_echoed() -> None:
    """A wrong value that came from the environment is reported without being shown."""
    text = "version: 1\ngateway:\n  listen: ${LISTEN}\n"
    _, findings = check_text(text, env={"LISTEN": "super-secret-host"})
    assert [f.code for f in findings] == [FindingCode.VALUE]
    assert "super-secret-host" not in findings[0].message
    assert findings[0].key_path == "gateway.listen"


def test_comments_with_references_are_ignored() -> None:
    """A ${VAR} inside a comment is not an unset variable."""
    text = "version: 1  # ${NOT_SET_AT_ALL}\n"
    _, findings = check_text(text, env={})
    assert findings == []


def test_yaml_one_point_one_booleans_are_plain_words() -> None:
    """on/off/yes/no stay strings, so retry.on is a key and not a boolean."""
    text = "version: 1\ndefaults:\n  policy:\n    retry: {on: [timeout]}\n"
    config, findings = check_text(text, env={})
    assert findings == []
    assert config is not None
    assert config.defaults.policy.retry.on == ("timeout",)
