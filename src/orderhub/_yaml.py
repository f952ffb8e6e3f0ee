"""YAML with line numbers: errors in config and mapping files name `file:line: field: message`."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass
class ConfigError(Exception):
    """A problem in a file a user wrote, with where it is."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class _Loader(yaml.SafeLoader):
    pass


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Document:
    """A loaded YAML document plus the line of every value, keyed by its path."""

    file: str
    data: Any
    lines: dict[tuple[str | int, ...], int]

    def line_of(self, path: Sequence[str | int]) -> int:
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)

    def error(self, path: Sequence[str | int], message: str) -> ConfigError:
        field = ".".join(str(p) for p in path) or "(document)"
        return ConfigError(self.file, self.line_of(path), field, message)


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def load_yaml(path: Path, display: str | None = None) -> Document:
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(name, 1, "(file)", f"cannot read: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise ConfigError(name, line, "(syntax)", str(exc.problem)) from None
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _walk(node, (), lines)
    return Document(name, data if data is not None else {}, lines)


def expand_env(doc: Document, environ: dict[str, str] | None = None) -> Any:
    """Replace `${VAR}` in every string; a missing variable is an error at its line."""
    env = os.environ if environ is None else environ

    def expand(value: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(value, str):

            def sub(match: re.Match[str]) -> str:
                name = match.group(1)
                if name not in env:
                    raise doc.error(
                        path, f"environment variable {name} is not set (export it, or put the value in the file)"
                    )
                return env[name]

            return _ENV.sub(sub, value)
        if isinstance(value, dict):
            return {k: expand(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [expand(v, (*path, i)) for i, v in enumerate(value)]
        return value

    return expand(doc.data, ())
