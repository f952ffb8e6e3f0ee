"""`orderhub.yaml` and connector files: loaded, validated, every error as `file:line: field: message`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orderhub._yaml import ConfigError, Document, expand_env, load_yaml

DEFAULT_CONFIG = "orderhub.yaml"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpSettings(_Settings):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(5 * 1024 * 1024, gt=0)
    api_token: str | None = None


class EmbeddedBusSettings(_Settings):
    kind: Literal["embedded"] = "embedded"


class KafkaBusSettings(_Settings):
    kind: Literal["kafka"]
    bootstrap_servers: str
    topic_prefix: str = "orderhub."
    enable_idempotence: bool = True
    partitions: int = Field(3, ge=1)
    session_timeout_ms: int = 10000
    heartbeat_interval_ms: int = 3000


class SqliteStoreSettings(_Settings):
    kind: Literal["sqlite"] = "sqlite"


BusSettings = Annotated[EmbeddedBusSettings | KafkaBusSettings, Field(discriminator="kind")]


class HubConfig(_Settings):
    data_dir: Path = Path("./var")
    http: HttpSettings = Field(default_factory=HttpSettings)
    bus: BusSettings = Field(default_factory=EmbeddedBusSettings)
    store: SqliteStoreSettings = Field(default_factory=SqliteStoreSettings)
    connectors_dir: Path = Path("./connectors")
    partners_dir: Path = Path("./partners")  # X12 trading-partner profiles, one file each
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # processes that map payloads beside the daemon's event loop; 0 maps in the daemon itself
    normalize_workers: int = Field(1, ge=0, le=64)

    # set by load_config: where the file was, so relative paths resolve against it
    base_dir: Path = Field(default=Path("."), exclude=True)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "orderhub.sqlite"


def config_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("ORDERHUB_CONFIG") or DEFAULT_CONFIG)


def validation_errors(doc: Document, exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[ConfigError]:
    errors = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in ("embedded", "kafka", "sqlite")))
        message = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
        errors.append(doc.error((*prefix, *loc), message))
    return errors


class ConfigErrors(Exception):
    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def load_config(path: Path) -> HubConfig:
    """Load `orderhub.yaml`. A missing file at the default place means the built-in defaults."""
    path = path.resolve()
    if not path.exists():
        raise ConfigErrors(
            [ConfigError(str(path), 1, "(file)", "no such file; pass --config FILE or set ORDERHUB_CONFIG")]
        )
    doc = load_yaml(path)
    data = expand_env(doc)
    if not isinstance(data, dict):
        raise ConfigErrors([doc.error((), "expected a mapping of settings")])
    try:
        config = HubConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigErrors(validation_errors(doc, exc)) from None
    base = path.parent
    return config.model_copy(
        update={
            "base_dir": base,
            "data_dir": (base / config.data_dir).resolve(),
            "connectors_dir": (base / config.connectors_dir).resolve(),
            "partners_dir": (base / config.partners_dir).resolve(),
        }
    )


def default_config(base: Path) -> HubConfig:
    return HubConfig(
        base_dir=base,
        data_dir=(base / "var").resolve(),
        connectors_dir=(base / "connectors").resolve(),
        partners_dir=(base / "partners").resolve(),
    )


def read_connector_files(directory: Path) -> list[tuple[Document, dict[str, Any]]]:
    """Every `*.yaml`/`*.yml` in the connectors folder, with `${VAR}` expanded."""
    if not directory.is_dir():
        return []
    found: list[tuple[Document, dict[str, Any]]] = []
    errors: list[ConfigError] = []
    for file in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            doc = load_yaml(file)
            data = expand_env(doc)
        except ConfigError as exc:
            errors.append(exc)
            continue
        if not isinstance(data, dict):
            errors.append(doc.error((), "a connector file is a mapping with name and kind"))
            continue
        found.append((doc, data))
    if errors:
        raise ConfigErrors(errors)
    return found
