"""Connector files -> connector instances, with every problem reported as `file:line: field: message`."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import ValidationError

from orderhub._sqlite import Database
from orderhub._yaml import ConfigError, Document
from orderhub.connectors import Connector, connector_class, connector_kinds
from orderhub.connectors.base import Intake, load_mapping_setting
from orderhub.mapping import MappingFileError
from orderhub.service.config import ConfigErrors, HubConfig, read_connector_files, validation_errors
from orderhub.x12.partners import PartnerDirectory, load_partners


@runtime_checkable
class UsesPartners(Protocol):
    """A connector that exchanges with X12 trading partners (profiles from `partners_dir`)."""

    def use_partners(self, directory: PartnerDirectory) -> list[tuple[tuple[str | int, ...], str]]: ...


@runtime_checkable
class UsesDatabase(Protocol):
    """A connector that allocates control numbers in the store's database."""

    def use_database(self, database: Database) -> None: ...


def build_connectors(config: HubConfig, intake: Intake, database: Database | None = None) -> list[Connector]:
    errors: list[ConfigError] = []
    connectors: list[Connector] = []
    partner_users: list[tuple[Document, UsesPartners]] = []
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
        connector = cls(settings, intake, base_dir)
        if isinstance(connector, UsesPartners):
            partner_users.append((doc, connector))
        if database is not None and isinstance(connector, UsesDatabase):
            connector.use_database(database)
        connectors.append(connector)
    if partner_users:
        try:
            partners = load_partners(config.partners_dir)
        except ConfigErrors as exc:
            errors.extend(exc.errors)
        else:
            for doc, user in partner_users:
                errors.extend(doc.error(path, message) for path, message in user.use_partners(partners))
    if errors:
        raise ConfigErrors(errors)
    return connectors
