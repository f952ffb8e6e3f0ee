"""The declarative mapping engine: mapping files turn source payloads into canonical orders."""

from orderhub.mapping.engine import (
    BUILTIN_DIR,
    Mapping,
    MappingContext,
    builtin_mapping,
    compile_path,
    map_payload,
    parse_json,
)
from orderhub.mapping.errors import MappingError, MappingFileError, UnknownMappingError
from orderhub.mapping.transforms import TRANSFORMS

__all__ = [
    "BUILTIN_DIR",
    "TRANSFORMS",
    "Mapping",
    "MappingContext",
    "MappingError",
    "MappingFileError",
    "UnknownMappingError",
    "builtin_mapping",
    "compile_path",
    "map_payload",
    "parse_json",
]
