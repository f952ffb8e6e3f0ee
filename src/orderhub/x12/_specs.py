"""Transaction-set specs as data: load `specs/*.yaml`, check them, and compile one per set and version.

`specs/segments.yaml` is the dictionary every set shares (data elements, code lists, composites,
segments); `specs/<set>.yaml` lists a set's segments and loops in order; `specs/overlays/*.yaml`
adjust the 004010 base for the group's version (GS08): earlier releases, later releases, and
named conventions such as `004010VICS`. Any mistake in a file raises `SpecError` naming the file
and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

SPECS_DIR = Path(__file__).with_name("specs")
BASE_VERSION = "004010"

Usage = Literal["M", "O", "X"]
ElementType = Literal["AN", "ID", "N", "R", "DT", "TM", "B"]

_ELEMENT_TYPE = re.compile(r"^(AN|ID|R|DT|TM|B|N\d?)$")
_ELEMENT_USE = re.compile(r"^(\d{1,4}|C\d{3}) ([MOX])$")
_SEGMENT_USE = re.compile(r"^([A-Z][A-Z0-9]{1,2}) ([MOX]) (\d+|>1)$")
_SYNTAX_NOTE = re.compile(r"^([PRECL])((?:\d\d){2,})$")


class SpecError(ValueError):
    """A spec file that cannot be used: `file:line: field: message`.

    `field` is the dotted path inside the file ("segments.BEG.elements.1"); `line` is where that
    field is written, when it can be found.
    """

    def __init__(self, file: Path | str, field: str, message: str, line: int | None = None) -> None:
        self.file = str(file)
        self.field = field
        self.message = message
        self.line = line if line is not None else _line_of(Path(file), field)
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


def _line_of(path: Path, field: str) -> int | None:
    """The 1-based line of a dotted field path in a YAML file; its nearest existing parent's line."""
    try:
        node: yaml.Node | None = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in field.split(".") if field else []:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            child = node.value[int(part)]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


# --- what the validator works with ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ElementDef:
    number: str  # X12 data element number, "353"
    name: str
    type: ElementType
    decimals: int | None  # implied decimals of an Nn element
    min_length: int
    max_length: int
    codes: frozenset[str] | None  # None: any value of the type
    codes_partial: bool = False  # the list names only common codes: a value outside it is not rejected


@dataclass(frozen=True, slots=True)
class CompositeDef:
    id: str  # "C001"
    name: str
    components: tuple[ElementUse, ...]


@dataclass(frozen=True, slots=True)
class ElementUse:
    usage: Usage
    element: ElementDef | None = None
    composite: CompositeDef | None = None

    @property
    def reference(self) -> str:
        """The X12 reference number (AK404 / IK404): the element number or the composite id."""
        if self.composite is not None:
            return self.composite.id
        return self.element.number if self.element is not None else ""


@dataclass(frozen=True, slots=True)
class SyntaxNote:
    kind: Literal["P", "R", "E", "C", "L"]
    positions: tuple[int, ...]

    def __str__(self) -> str:
        return self.kind + "".join(f"{p:02d}" for p in self.positions)


@dataclass(frozen=True, slots=True)
class SegmentDef:
    tag: str
    name: str
    elements: tuple[ElementUse, ...]
    syntax: tuple[SyntaxNote, ...] = ()
    open: bool = False  # elements beyond the described ones are not checked


@dataclass(frozen=True, slots=True)
class SegmentUse:
    segment: SegmentDef
    usage: Usage
    max_use: int | None  # None: unbounded (">1")

    @property
    def tag(self) -> str:
        return self.segment.tag


@dataclass(frozen=True, slots=True)
class LoopDef:
    id: str  # the loop identifier X12 acknowledgments use (AK303): the trigger segment's id
    usage: Usage
    max_repeat: int | None
    children: tuple[SegmentUse | LoopDef, ...]
    ordered: bool = True  # False: the loop's segments may come in any order

    @property
    def trigger(self) -> SegmentUse:
        first = self.children[0]
        assert isinstance(first, SegmentUse)
        return first


@dataclass(frozen=True, slots=True)
class TransactionSetSpec:
    id: str  # "850"
    name: str
    functional_group: str  # the GS01 the set belongs in
    version: str  # the GS08 it was compiled for
    root: LoopDef  # ST..SE, as a loop that occurs once
    date_lengths: tuple[int, ...] = (8,)
    allow_extra_elements: bool = False
    known_segments: frozenset[str] = field(default_factory=frozenset)  # the whole dictionary

    def segment_tags(self) -> list[str]:
        """Every segment id of the set in table order (a tag used in several places appears once)."""
        tags: list[str] = []

        def walk(loop: LoopDef) -> None:
            for child in loop.children:
                if isinstance(child, LoopDef):
                    walk(child)
                elif child.tag not in tags:
                    tags.append(child.tag)

        walk(self.root)
        return tags


# --- the files, as read ------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _keys_as_str(value: Any) -> Any:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value


class _CompositeFile(_Strict):
    name: str
    components: list[str]


class _SegmentFile(_Strict):
    name: str
    elements: list[str] = []
    syntax: list[str] = []
    open: bool = False


class _DictionaryFile(_Strict):
    elements: dict[str, tuple[str, str, int, int]]
    codes: dict[str, str] = {}
    partial_code_lists: list[int] = []
    composites: dict[str, _CompositeFile] = {}
    segments: dict[str, _SegmentFile]

    _str_keys = field_validator("elements", "codes", mode="before")(_keys_as_str)


class _LoopFile(_Strict):
    loop: str
    usage: Usage = "O"
    repeat: int | Literal[">1"]
    ordered: bool = True
    segments: list[str | _LoopFile]


class _SetFile(_Strict):
    id: str
    name: str
    functional_group: str
    segments: list[str | _LoopFile]


class _Insert(_Strict):
    set: str
    after: str
    use: str


class _OverlayFile(_Strict):
    applies_to: list[str]
    date_lengths: list[int] | None = None
    allow_extra_elements: bool | None = None
    element_lengths: dict[str, tuple[int, int]] = {}
    add_codes: dict[str, str] = {}
    segments: dict[str, _SegmentFile] = {}  # replaces the dictionary's definition for these versions
    insert_segments: list[_Insert] = []

    _str_keys = field_validator("element_lengths", "add_codes", mode="before")(_keys_as_str)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(path, "", f"not valid YAML: {problem}", line=mark.line + 1 if mark else None) from exc
    except OSError as exc:
        raise SpecError(path, "", f"cannot be read: {exc}") from exc


_M = TypeVar("_M", bound=BaseModel)


def _validated(model: type[_M], path: Path) -> _M:
    data = _read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(part) for part in error["loc"] if not str(part).startswith(("str", "_LoopFile")))
        raise SpecError(path, loc, error["msg"]) from exc


# --- compiling ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Overlay:
    path: Path
    data: _OverlayFile

    def applies(self, version: str) -> bool:
        """`applies_to` entries of six or more characters name one GS08 exactly; shorter ones are prefixes."""
        return any(version == v or (len(v) < 6 and version.startswith(v)) for v in self.data.applies_to)


class SpecLibrary:
    """Every spec of one `specs` directory, checked when loaded; `spec_for` compiles and caches."""

    def __init__(self, directory: Path = SPECS_DIR) -> None:
        self.directory = directory
        self._dictionary_path = directory / "segments.yaml"
        self._dictionary = _validated(_DictionaryFile, self._dictionary_path)
        self._sets = {path.stem: (path, _validated(_SetFile, path)) for path in sorted(directory.glob("[0-9]*.yaml"))}
        overlay_dir = directory / "overlays"
        self._overlays = [_Overlay(path, _validated(_OverlayFile, path)) for path in sorted(overlay_dir.glob("*.yaml"))]
        self._cache: dict[tuple[str, str], TransactionSetSpec] = {}
        # Compile everything once under the base version so every reference is checked at load time.
        base = self._segment_defs(self._element_defs(()))
        for set_id, (path, data) in self._sets.items():
            if data.id != set_id:
                raise SpecError(path, "id", f"says {data.id!r} but the file is named {path.name}")
            self._compile_set(path, data, base, [])
        for overlay in self._overlays:
            for index, insert in enumerate(overlay.data.insert_segments):
                where = f"insert_segments.{index}"
                if insert.set not in self._sets:
                    raise SpecError(overlay.path, f"{where}.set", f"no spec for transaction set {insert.set!r}")
                self._parse_segment_use(overlay.path, f"{where}.use", insert.use, base)
            for number in [*overlay.data.element_lengths, *overlay.data.add_codes]:
                if number not in self._dictionary.elements:
                    raise SpecError(overlay.path, number, f"element {number} is not in segments.yaml")
            self._segment_defs(self._element_defs([overlay]), [overlay])

    @property
    def set_ids(self) -> list[str]:
        return list(self._sets)

    def spec_for(self, set_id: str, version: str) -> TransactionSetSpec | None:
        """The spec of `set_id` (ST01) for a group of `version` (GS08); None when there is none."""
        key = (set_id, version)
        if key not in self._cache:
            if set_id not in self._sets:
                return None
            overlays = [o for o in self._overlays if o.applies(version)]
            elements = self._element_defs(overlays)
            segments = self._segment_defs(elements, overlays)
            path, data = self._sets[set_id]
            root = self._compile_set(path, data, segments, overlays)
            date_lengths: tuple[int, ...] = (8,)
            allow_extra = False
            for overlay in overlays:
                if overlay.data.date_lengths is not None:
                    date_lengths = tuple(overlay.data.date_lengths)
                if overlay.data.allow_extra_elements is not None:
                    allow_extra = overlay.data.allow_extra_elements
            self._cache[key] = TransactionSetSpec(
                id=data.id,
                name=data.name,
                functional_group=data.functional_group,
                version=version,
                root=root,
                date_lengths=date_lengths,
                allow_extra_elements=allow_extra,
                known_segments=frozenset(segments),
            )
        return self._cache[key]

    def _element_defs(self, overlays: list[_Overlay] | tuple[()]) -> dict[str, ElementDef]:
        path = self._dictionary_path
        defs: dict[str, ElementDef] = {}
        for number, (name, type_, min_length, max_length) in self._dictionary.elements.items():
            where = f"elements.{number}"
            if not number.isdigit():
                raise SpecError(path, where, "an element number is digits only")
            if not _ELEMENT_TYPE.match(type_):
                raise SpecError(path, f"{where}.type", f"unknown element type {type_!r} (AN, ID, R, DT, TM, B, Nn)")
            if not 0 < min_length <= max_length:
                raise SpecError(path, f"{where}.length", f"min {min_length} / max {max_length} is not a length range")
            codes_text = self._dictionary.codes.get(number)
            codes = frozenset(codes_text.split()) if codes_text is not None else None
            for overlay in overlays:
                if number in overlay.data.element_lengths:
                    min_length, max_length = overlay.data.element_lengths[number]
                if codes is not None and number in overlay.data.add_codes:
                    codes = codes | frozenset(overlay.data.add_codes[number].split())
            base_type = "N" if type_.startswith("N") else type_
            decimals = int(type_[1:]) if base_type == "N" and len(type_) > 1 else (0 if base_type == "N" else None)
            partial = int(number) in self._dictionary.partial_code_lists
            defs[number] = ElementDef(number, name, base_type, decimals, min_length, max_length, codes, partial)  # type: ignore[arg-type]
        for number in self._dictionary.codes:
            if number not in defs:
                raise SpecError(path, f"codes.{number}", f"element {number} is not defined under elements")
        for index, partial_number in enumerate(self._dictionary.partial_code_lists):
            if str(partial_number) not in self._dictionary.codes:
                raise SpecError(
                    path, f"partial_code_lists.{index}", f"element {partial_number} has no list under codes"
                )
        return defs

    def _element_use(self, path: Path, text: str, where: str, elements: dict[str, ElementDef]) -> ElementUse:
        match = _ELEMENT_USE.match(text)
        if not match:
            raise SpecError(path, where, f"{text!r} is not '<element number or composite id> <M|O|X>'")
        ref, usage = match.group(1), match.group(2)
        if ref.startswith("C"):
            raise SpecError(path, where, f"composite {ref} cannot be used here")
        if ref not in elements:
            raise SpecError(path, where, f"element {ref} is not defined under elements")
        return ElementUse(usage=usage, element=elements[ref])  # type: ignore[arg-type]

    def _segment_defs(
        self, elements: dict[str, ElementDef], overlays: list[_Overlay] | tuple[()] = ()
    ) -> dict[str, SegmentDef]:
        path = self._dictionary_path
        sources = {tag: (path, segment) for tag, segment in self._dictionary.segments.items()}
        for overlay in overlays:
            sources.update({tag: (overlay.path, segment) for tag, segment in overlay.data.segments.items()})
        composites: dict[str, CompositeDef] = {}
        for cid, composite in self._dictionary.composites.items():
            components = tuple(
                self._element_use(path, text, f"composites.{cid}.components.{i}", elements)
                for i, text in enumerate(composite.components)
            )
            composites[cid] = CompositeDef(cid, composite.name, components)
        segments: dict[str, SegmentDef] = {}
        for tag, (path, segment) in sources.items():
            where = f"segments.{tag}"
            if not re.match(r"^[A-Z][A-Z0-9]{1,2}$", tag):
                raise SpecError(path, where, "a segment id is 2 or 3 capital letters or digits")
            if not segment.elements and not segment.open:
                raise SpecError(path, f"{where}.elements", "no elements listed and not marked open")
            uses: list[ElementUse] = []
            for i, text in enumerate(segment.elements):
                match = _ELEMENT_USE.match(text)
                if match and match.group(1).startswith("C"):
                    cid = match.group(1)
                    if cid not in composites:
                        raise SpecError(path, f"{where}.elements.{i}", f"composite {cid} is not defined")
                    uses.append(ElementUse(usage=match.group(2), composite=composites[cid]))  # type: ignore[arg-type]
                else:
                    uses.append(self._element_use(path, text, f"{where}.elements.{i}", elements))
            notes: list[SyntaxNote] = []
            for i, text in enumerate(segment.syntax):
                note = _SYNTAX_NOTE.match(text)
                if not note:
                    raise SpecError(path, f"{where}.syntax.{i}", f"{text!r} is not a syntax note like P0304")
                digits = note.group(2)
                positions = tuple(int(digits[j : j + 2]) for j in range(0, len(digits), 2))
                if max(positions) > len(uses) or min(positions) < 1:
                    raise SpecError(path, f"{where}.syntax.{i}", f"{text} names a position the segment lacks")
                notes.append(SyntaxNote(note.group(1), positions))  # type: ignore[arg-type]
            segments[tag] = SegmentDef(tag, segment.name, tuple(uses), tuple(notes), segment.open)
        return segments

    def _parse_segment_use(self, path: Path, where: str, text: str, segments: dict[str, SegmentDef]) -> SegmentUse:
        match = _SEGMENT_USE.match(text)
        if not match:
            raise SpecError(path, where, f"{text!r} is not '<segment> <M|O|X> <max use or >1>'")
        tag, usage, max_use = match.groups()
        if tag not in segments:
            raise SpecError(path, where, f"segment {tag} is not in segments.yaml")
        if max_use == "0":
            raise SpecError(path, where, "max use must be at least 1")
        return SegmentUse(segments[tag], usage, None if max_use == ">1" else int(max_use))  # type: ignore[arg-type]

    def _compile_set(
        self, path: Path, data: _SetFile, segments: dict[str, SegmentDef], overlays: list[_Overlay]
    ) -> LoopDef:
        items: list[str | _LoopFile] = list(data.segments)
        for overlay in overlays:
            for insert in overlay.data.insert_segments:
                if insert.set != data.id:
                    continue
                tags = [item.split(" ")[0] if isinstance(item, str) else "" for item in items]
                if insert.after not in tags:
                    raise SpecError(overlay.path, "insert_segments.after", f"{insert.after} is not in {path.name}")
                items.insert(tags.index(insert.after) + 1, insert.use)
        children = self._compile_children(path, "segments", items, segments)
        first, last = children[0], children[-1]
        if not (
            isinstance(first, SegmentUse) and first.tag == "ST" and isinstance(last, SegmentUse) and last.tag == "SE"
        ):
            raise SpecError(path, "segments", "a set starts with ST and ends with SE")
        return LoopDef(id="", usage="M", max_repeat=1, children=children)

    def _compile_children(
        self, path: Path, where: str, items: list[str | _LoopFile], segments: dict[str, SegmentDef]
    ) -> tuple[SegmentUse | LoopDef, ...]:
        if not items:
            raise SpecError(path, where, "a segment list cannot be empty")
        children: list[SegmentUse | LoopDef] = []
        for i, item in enumerate(items):
            item_where = f"{where}.{i}"
            if isinstance(item, str):
                children.append(self._parse_segment_use(path, item_where, item, segments))
                continue
            loop_children = self._compile_children(path, f"{item_where}.segments", item.segments, segments)
            trigger = loop_children[0]
            if not isinstance(trigger, SegmentUse) or trigger.usage != "M" or trigger.max_use != 1:
                raise SpecError(path, f"{item_where}.segments.0", "a loop starts with its trigger segment, used M 1")
            if trigger.tag != item.loop:
                raise SpecError(path, f"{item_where}.loop", f"loop {item.loop} starts with {trigger.tag}")
            if item.repeat == 0:
                raise SpecError(path, f"{item_where}.repeat", "repeat must be at least 1")
            repeat = None if item.repeat == ">1" else item.repeat
            children.append(LoopDef(item.loop, item.usage, repeat, loop_children, item.ordered))
        return tuple(children)


@cache
def default_library() -> SpecLibrary:
    """The specs shipped with orderhub, loaded and checked once."""
    return SpecLibrary(SPECS_DIR)


def spec_for(set_id: str, version: str) -> TransactionSetSpec | None:
    """The shipped spec of `set_id` for a group of `version` (GS08), None when orderhub has none."""
    return default_library().spec_for(set_id, version)
