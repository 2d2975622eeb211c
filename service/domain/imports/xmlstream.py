"""A streaming XML reader for untrusted exports: expat fed in chunks, so memory stays flat
whatever the file's size, with the line of every element.

Exports never need a DTD's entities, and entity declarations are how XML bombs (billion
laughs, quadratic blow-up) and external-entity reads work: any entity declaration or
external reference refuses the file (what defusedxml does, without the dependency).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO
from xml.parsers import expat

from service.domain.imports.records import ExportRefused

CHUNK_BYTES = 1 << 16


@dataclass(frozen=True, slots=True)
class XmlEvent:
    """``start`` (with ``attrs``) or ``end`` (with the element's own ``text``) of an element.
    ``name`` is ``"<namespace> <local>"`` for namespaced elements, else the local name;
    ``depth`` is 1 for the root."""

    kind: str
    name: str
    depth: int
    line: int
    text: str = ""
    attrs: dict[str, str] | None = None


def local(name: str) -> str:
    return name.rpartition(" ")[2]


def namespace(name: str) -> str:
    return name.rpartition(" ")[0]


def _refuse_entities(*_: object) -> None:
    raise ExportRefused("the file declares XML entities: refused (exports never need them)")


def _refuse_external(*_: object) -> int:
    raise ExportRefused("the file refers to an external entity: refused")


def xml_events(stream: BinaryIO) -> Iterator[XmlEvent]:
    """The file's elements as start and end events, in order. Raises :class:`ExportRefused`
    (naming the line) when the file is not well-formed or declares entities."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_external
    events: list[XmlEvent] = []
    texts: list[list[str]] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        texts.append([])
        events.append(XmlEvent("start", name, len(texts), parser.CurrentLineNumber, "", attrs))

    def end(name: str) -> None:
        line = parser.CurrentLineNumber
        text = "".join(texts.pop())
        events.append(XmlEvent("end", name, len(texts) + 1, line, text))

    def characters(data: str) -> None:
        if texts:
            texts[-1].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    while True:
        chunk = stream.read(CHUNK_BYTES)
        try:
            parser.Parse(chunk, not chunk)
        except expat.ExpatError as exc:
            raise ExportRefused(
                f"not well-formed XML at line {exc.lineno}: {expat.ErrorString(exc.code)}"
            ) from None
        yield from events
        events.clear()
        if not chunk:
            return
