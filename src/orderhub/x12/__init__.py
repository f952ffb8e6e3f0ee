"""orderhub's own X12 layer: tokenizer, serializer, envelopes, transaction-set specs, validator, acks."""

from orderhub.x12._envelopes import (
    EnvelopeReader,
    FunctionalGroup,
    Interchange,
    TransactionSet,
    X12Document,
    iter_transaction_sets,
    parse,
)
from orderhub.x12._errors import (
    EnvelopeError,
    IsaError,
    MisplacedSegmentError,
    MissingTrailerError,
    TokenizeError,
    WriteError,
    X12Error,
)
from orderhub.x12._findings import Finding, FindingKind
from orderhub.x12._segments import Delimiters, Segment
from orderhub.x12._serializer import X12Writer, iter_document, iter_exact, serialize, write_exact
from orderhub.x12._tokenizer import SegmentReader, iter_segments, read_segments

__all__ = [
    "Delimiters",
    "EnvelopeError",
    "EnvelopeReader",
    "Finding",
    "FindingKind",
    "FunctionalGroup",
    "Interchange",
    "IsaError",
    "MisplacedSegmentError",
    "MissingTrailerError",
    "Segment",
    "SegmentReader",
    "TokenizeError",
    "TransactionSet",
    "WriteError",
    "X12Document",
    "X12Error",
    "X12Writer",
    "iter_document",
    "iter_exact",
    "iter_segments",
    "iter_transaction_sets",
    "parse",
    "read_segments",
    "serialize",
    "write_exact",
]
