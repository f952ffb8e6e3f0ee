"""Connector files -> connector instances, with every problem reported as `file:line: field: message`."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from orderhub._yaml import ConfigError
from orderhub.connectors import Connector, connector_class, connector_kinds
from orderhub.connectors.base import Intake, load_mapping_setting
from orderhub.mapping import MappingFileError
from orderhub.service.config import ConfigErrors, HubConfig, read_connector_files, validation_errors


def build_connectors(config: HubConfig, intake: Intake) -> list[Connector]:
    errors: list[ConfigError] = []
    connectors: list[Connector] = []
    seen: dict[str, str] = {}
    for doc, data in read_connector_files(config.connectors_dir):
        kind = data.get("kind")
        cls = connector_class(kind) if isinstance(kind, str) else None
        if cls is None:
            known = ", ".join(sorted(connector_kinds()))
            errors.append(doc.error(("kind",), f"unknown connector kind {kind!r} (known: {known})"))
            continue
        try:
            settings = cls.settings_model.model_validate(data)
        except ValidationError as exc:
            errors.extend(validation_errors(doc, exc))
            continue
        except OSError as exc:  # a `file:` secret that cannot be read
            errors.append(doc.error((), f"cannot read secret file: {exc}"))
            continue
        if settings.name in seen:
            errors.append(
                doc.error(("name",), f"connector name {settings.name!r} is already used in {seen[settings.name]}")
            )
            continue
        seen[settings.name] = doc.file
        base_dir = Path(doc.file).parent
        # a mapping named in the settings loads now, so a broken one stops start-up, not the first order
        mapping_setting = getattr(settings, "mapping", None)
        if isinstance(mapping_setting, str):
            try:
                load_mapping_setting(mapping_setting, base_dir)
            except MappingFileError as exc:
                errors.append(doc.error(("mapping",), str(exc)))
                continue
            except (OSError, KeyError, ValueError) as exc:
                errors.append(doc.error(("mapping",), f"cannot load mapping {mapping_setting!r}: {exc}"))
                continue
        connectors.append(cls(settings, intake, base_dir))
    if errors:
        raise ConfigErrors(errors)
    return connectors
