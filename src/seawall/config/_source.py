"""Reading YAML into plain data while remembering where every key came from.

PyYAML's composer gives each node a start mark; walking the node tree (instead
of ``safe_load``) lets seawall report ``FILE:LINE`` for any key path, catch
duplicate keys that ``safe_load`` silently merges, and apply ``${...}``
interpolation scalar by scalar so a secret's value is never put in a message.

``${VAR}`` may stand unquoted inside a flow mapping (``{token: ${KEY}}``), where
YAML would read ``{`` as a nested mapping. So each reference is first swapped
for an inert placeholder word, the YAML is parsed, and the placeholders are
resolved in the scalars they ended up in: the YAML stays valid whatever the
secret holds, and line numbers do not move.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from seawall.config._findings import Finding, FindingCode

__all__ = ["Source", "parse_source", "read_source"]

Path_ = tuple[str | int, ...]

# ${VAR}, ${VAR:-default}, ${file:/path}; $${ is a literal "${".
_INTERPOLATION = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(slots=True)
class Source:
    """Parsed configuration data plus the location of every path in it."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    key_lines: dict[Path_, int] = field(default_factory=dict)
    #: paths whose value came (in whole or part) from the environment or a file
    interpolated: dict[Path_, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def line_of(self, path: Path_, *, key: bool = False) -> int:
        """The line of ``path`` (its key's line when it has one), or of its
        nearest ancestor that has one."""
        probe = path
        while probe:
            if probe in self.key_lines:
                return self.key_lines[probe]
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)

    def add(self, path: Path_, code: FindingCode, message: str) -> None:
        self.findings.append(Finding(self.file, self.line_of(path), path, code, message))


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans.

    YAML 1.1 reads ``on``, ``off``, ``yes`` and ``no`` as booleans, which would
    turn ``retry.on:`` into ``True:``; only true/false are booleans here.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def read_source(path: str | Path, *, env: Mapping[str, str] | None = None) -> Source:
    """Read and parse ``path``; unreadable files become findings, not exceptions."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        source = Source(file=name, data=None)
        source.add((), FindingCode.FILE, "file not found; check the path given with -c")
        return source
    except (OSError, UnicodeDecodeError) as exc:
        source = Source(file=name, data=None)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        source.add((), FindingCode.FILE, f"cannot read the file: {reason}")
        return source
    return parse_source(text, file=name, env=env)


def parse_source(
    text: str, *, file: str = "<config>", env: Mapping[str, str] | None = None
) -> Source:
    """Parse YAML ``text``; syntax errors become findings with their line."""
    source = Source(file=file, data=None)
    nonce = secrets.token_hex(4)
    references: list[str] = []

    def hide(match: re.Match[str]) -> str:
        references.append(match.group(0))
        return f"swref{nonce}n{len(references) - 1}x"

    text = _INTERPOLATION.sub(hide, text)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and exc.problem and "<stream end>" in exc.problem:
            mark = exc.context_mark  # an unclosed bracket: point at where it opened
        line = mark.line + 1 if mark else 1
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        source.findings.append(
            Finding(file, line, (), FindingCode.SYNTAX, f"YAML syntax error: {problem}{context}")
        )
        return source
    except yaml.YAMLError as exc:
        source.findings.append(Finding(file, 1, (), FindingCode.SYNTAX, f"YAML error: {exc}"))
        return source
    if node is None:
        source.add((), FindingCode.MISSING, "the file is empty; start from examples/seawall.yaml")
        source.data = {}
        return source
    walker = _Walker(source, os.environ if env is None else env, nonce, references)
    source.data = walker.build(node, ())
    return source


class _Walker:
    def __init__(
        self, source: Source, env: Mapping[str, str], nonce: str, references: list[str]
    ) -> None:
        self.source = source
        self.env = env
        self.constructor = _Loader("")
        self.placeholder = re.compile(rf"swref{nonce}n(\d+)x")
        self.references = references

    def _restore(self, text: str) -> str:
        """Put the original ``${...}`` text back (for keys and messages)."""
        return self.placeholder.sub(lambda m: self.references[int(m.group(1))], text)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.source.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if self.placeholder.search(node.value):
            return self._interpolate(self._restore(node.value), path, plain=node.style is None)
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.source.findings.append(
                    Finding(
                        self.source.file,
                        key_node.start_mark.line + 1,
                        path,
                        FindingCode.VALUE,
                        "YAML merge keys (<<) are not supported; write the keys out",
                    )
                )
                continue
            key = self.constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str | int) or isinstance(key, bool):
                key = str(key)
            if isinstance(key, str):
                key = self._restore(key)
            line = key_node.start_mark.line + 1
            child: Path_ = (*path, key)
            if key in first_line:
                self.source.findings.append(
                    Finding(
                        self.source.file,
                        line,
                        child,
                        FindingCode.DUPLICATE_KEY,
                        f"'{key}' is given twice (first on line {first_line[key]}); "
                        "keep one, YAML would silently use the last",
                    )
                )
                continue
            first_line[key] = line
            self.source.key_lines[child] = line
            out[key] = self.build(value_node, child)
        return out

    def _interpolate(self, text: str, path: Path_, *, plain: bool) -> Any:
        names: list[str] = []
        failed = False

        def replace(match: re.Match[str]) -> str:
            nonlocal failed
            if match.group(0) == "$${":
                return "${"
            expr = match.group(1)
            names.append(expr)
            value = self._resolve(expr, path)
            if value is None:
                failed = True
                return ""
            return value

        result = _INTERPOLATION.sub(replace, text)
        if names:
            self.source.interpolated[path] = result
        if failed:
            return _Unresolved(text)
        if plain and names and _INTERPOLATION.fullmatch(text.strip()):
            # A lone ${VAR} takes YAML's type of what it expands to: ${PORT} -> 8080.
            try:
                typed = yaml.safe_load(result)
            except yaml.YAMLError:
                return result
            if isinstance(typed, bool | int | float):
                return typed
        return result

    def _resolve(self, expr: str, path: Path_) -> str | None:
        if expr.startswith("file:"):
            file_path = expr[5:].strip()
            try:
                return Path(file_path).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                self.source.add(
                    path,
                    FindingCode.FILE,
                    f"${{file:{file_path}}} cannot be read ({reason}); "
                    "create the file or fix the path",
                )
                return None
        name, sep, default = expr.partition(":-")
        name = name.strip()
        if not _VAR_NAME.fullmatch(name):
            self.source.add(
                path,
                FindingCode.VALUE,
                f"'${{{expr}}}' is not a valid reference: use ${{NAME}}, "
                "${NAME:-default} or ${file:/path}",
            )
            return None
        value = self.env.get(name)
        if value is None or (value == "" and sep):
            if sep:
                return default
            self.source.add(
                path,
                FindingCode.UNSET_VARIABLE,
                f"environment variable {name} is not set; export it, or give a default "
                f"with ${{{name}:-value}}",
            )
            return None
        return value


class _Unresolved(str):
    """A scalar whose interpolation failed; validation of its path is skipped."""

    __slots__ = ()
