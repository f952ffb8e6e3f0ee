"""Errors of mapping files (at load time) and of payloads (at apply time)."""

from __future__ import annotations


class MappingFileError(ValueError):
    """A mapping file is invalid: `file:line: field: message`."""

    def __init__(self, file: str, line: int, field: str, message: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        super().__init__(f"{file}:{line}: {field}: {message}")


class MappingError(ValueError):
    """A payload cannot be mapped.

    `file` is the mapping file, `field` the canonical field (`lines[2].unit_price`), `source_path`
    where in the payload the value was looked for (`order.line_items[2].price`).
    """

    def __init__(self, file: str, field: str, source_path: str, message: str) -> None:
        self.file = file
        self.field = field
        self.source_path = source_path
        self.message = message
        super().__init__(self._text())

    def _text(self) -> str:
        where = f" (at {self.source_path})" if self.source_path else ""
        prefix = f"{self.file}: " if self.file else ""
        field = f"{self.field}: " if self.field else ""
        return f"{prefix}{field}{self.message}{where}"

    def in_file(self, file: str) -> MappingError:
        return MappingError(file, self.field, self.source_path, self.message)


class UnknownMappingError(KeyError):
    """No built-in mapping of that name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown mapping"
