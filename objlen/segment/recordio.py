"""The RecordIO-protobuf answer of SageMaker's built-in semantic segmentation.

Asked with ``Accept: application/x-recordio-protobuf``, the algorithm answers
per-pixel class probabilities as one ``aialgs.data.Record`` protobuf message
(the schema SageMaker publishes for its built-in algorithms) wrapped in
MXNet's RecordIO framing:

* ``features["target"].float32_tensor.values``: the probabilities, flat, in
  C order of the shape below;
* ``features["shape"].int32_tensor.values``: ``[1, C, H, W]`` (batch, classes,
  rows, columns).

RecordIO framing of each record: little-endian ``uint32`` magic
``0xced7230a``, little-endian ``uint32`` whose lower 29 bits are the payload
length (the upper 3 bits are continuation flags, 0 for a whole record), the
payload, then zero padding to a multiple of 4 bytes.

The schema is built here with protobuf's descriptor API, so neither MXNet nor
the SageMaker SDK is needed. Arrays are ``(C, H, W)`` float32: class first,
then ``y`` (row), then ``x`` (column).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory

from objlen.errors import SegmentationError

#: First four bytes of every RecordIO record.
RECORDIO_MAGIC = 0xCED7230A
_LENGTH_MASK = (1 << 29) - 1
_HEADER = struct.Struct("<II")

#: Content types of a probability answer: framed, and bare protobuf.
RECORDIO_PROTOBUF = "application/x-recordio-protobuf"
PROTOBUF = "application/x-protobuf"

_FIELD = descriptor_pb2.FieldDescriptorProto


def _add_message(
    container: descriptor_pb2.FileDescriptorProto | descriptor_pb2.DescriptorProto,
    name: str,
    fields: Iterable[tuple[str, int, int, int, str | None]],
    *,
    packed: bool = False,
    map_entry: bool = False,
) -> descriptor_pb2.DescriptorProto:
    holder = (
        container.message_type
        if isinstance(container, descriptor_pb2.FileDescriptorProto)
        else container.nested_type
    )
    proto = holder.add(name=name)
    if map_entry:
        proto.options.map_entry = True
    for field_name, number, field_type, label, type_name in fields:
        field = proto.field.add(name=field_name, number=number, type=field_type, label=label)
        if type_name:
            field.type_name = type_name
        if packed and label == _FIELD.LABEL_REPEATED and field_type != _FIELD.TYPE_BYTES:
            field.options.packed = True
    return proto


def _build_record_class() -> type[message.Message]:
    """The ``aialgs.data.Record`` message class, from the published schema."""
    repeated, optional = _FIELD.LABEL_REPEATED, _FIELD.LABEL_OPTIONAL
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="objlen/aialgs_record.proto", package="aialgs.data", syntax="proto2"
    )
    for name, value_type in (
        ("Float32Tensor", _FIELD.TYPE_FLOAT),
        ("Float64Tensor", _FIELD.TYPE_DOUBLE),
        ("Int32Tensor", _FIELD.TYPE_INT32),
    ):
        _add_message(
            file_proto,
            name,
            [
                ("values", 1, value_type, repeated, None),
                ("keys", 2, _FIELD.TYPE_UINT64, repeated, None),
                ("shape", 3, _FIELD.TYPE_UINT64, repeated, None),
            ],
            packed=True,
        )
    _add_message(
        file_proto,
        "Bytes",
        [
            ("value", 1, _FIELD.TYPE_BYTES, repeated, None),
            ("content_type", 2, _FIELD.TYPE_STRING, optional, None),
        ],
    )
    value = _add_message(
        file_proto,
        "Value",
        [
            ("float32_tensor", 2, _FIELD.TYPE_MESSAGE, optional, ".aialgs.data.Float32Tensor"),
            ("float64_tensor", 3, _FIELD.TYPE_MESSAGE, optional, ".aialgs.data.Float64Tensor"),
            ("int32_tensor", 7, _FIELD.TYPE_MESSAGE, optional, ".aialgs.data.Int32Tensor"),
            ("bytes", 9, _FIELD.TYPE_MESSAGE, optional, ".aialgs.data.Bytes"),
        ],
    )
    value.oneof_decl.add(name="value")
    for field in value.field:
        field.oneof_index = 0
    record = _add_message(
        file_proto,
        "Record",
        [
            ("features", 1, _FIELD.TYPE_MESSAGE, repeated, ".aialgs.data.Record.FeaturesEntry"),
            ("label", 2, _FIELD.TYPE_MESSAGE, repeated, ".aialgs.data.Record.LabelEntry"),
            ("uid", 3, _FIELD.TYPE_STRING, optional, None),
            ("metadata", 4, _FIELD.TYPE_STRING, optional, None),
            ("configuration", 5, _FIELD.TYPE_STRING, optional, None),
        ],
    )
    for entry in ("FeaturesEntry", "LabelEntry"):
        _add_message(
            record,
            entry,
            [
                ("key", 1, _FIELD.TYPE_STRING, optional, None),
                ("value", 2, _FIELD.TYPE_MESSAGE, optional, ".aialgs.data.Value"),
            ],
            map_entry=True,
        )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("aialgs.data.Record"))


#: The ``aialgs.data.Record`` protobuf message class.
Record = _build_record_class()


def frame_records(payloads: Iterable[bytes]) -> bytes:
    """Wrap each payload in RecordIO framing and concatenate them.

    As MXNet's (dmlc-core's) writer does, a payload that holds the magic
    number at an offset that is a multiple of 4 is split there into parts
    (flags 1 start, 2 middle, 3 end) and that occurrence of the magic is left
    out; :func:`split_records` puts it back.
    """
    magic = struct.pack("<I", RECORDIO_MAGIC)
    parts: list[bytes] = []
    for payload in payloads:
        if len(payload) > _LENGTH_MASK:
            raise ValueError(f"a RecordIO record holds at most {_LENGTH_MASK} bytes")
        pieces = _split_at_aligned_magic(payload, magic)
        for index, piece in enumerate(pieces):
            if len(pieces) == 1:
                flag = 0
            elif index == 0:
                flag = 1
            else:
                flag = 3 if index == len(pieces) - 1 else 2
            parts.append(_HEADER.pack(RECORDIO_MAGIC, (flag << 29) | len(piece)))
            parts.append(piece)
        parts.append(b"\0" * (-len(pieces[-1]) % 4))
    return b"".join(parts)


def _split_at_aligned_magic(payload: bytes, magic: bytes) -> list[bytes]:
    pieces: list[bytes] = []
    start = 0
    found = payload.find(magic)
    while found != -1:
        if found % 4 == 0:
            pieces.append(payload[start:found])
            start = found + 4
            found = payload.find(magic, start)
        else:
            found = payload.find(magic, found + 1)
    pieces.append(payload[start:])
    return pieces


def split_records(data: bytes) -> list[bytes]:
    """The payloads of a RecordIO stream, in order.

    A record written in parts (flags 1, 2..., 3) is joined with the magic
    number between the parts, as MXNet's reader does.

    Raises:
        SegmentationError: a bad magic number, a bad flag sequence, or a
            record cut short.
    """
    magic = struct.pack("<I", RECORDIO_MAGIC)
    records: list[bytes] = []
    pending: list[bytes] | None = None
    offset = 0
    while offset < len(data):
        if len(data) - offset < _HEADER.size:
            raise SegmentationError("the RecordIO answer ends in the middle of a record header")
        found, length_flags = _HEADER.unpack_from(data, offset)
        if found != RECORDIO_MAGIC:
            raise SegmentationError(
                f"the RecordIO answer has a bad magic number {found:#010x} at byte {offset}"
            )
        length = length_flags & _LENGTH_MASK
        flag = length_flags >> 29
        start = offset + _HEADER.size
        end = start + length
        if end > len(data):
            raise SegmentationError("the RecordIO answer is cut short inside a record")
        piece = data[start:end]
        if flag > 3 or (flag in (0, 1)) != (pending is None):
            raise SegmentationError(
                f"the RecordIO answer has an unexpected part flag {flag} at byte {offset}"
            )
        if flag == 0:
            records.append(piece)
        elif flag == 1:
            pending = [piece]
        elif pending is not None:
            pending.append(piece)
            if flag == 3:
                records.append(magic.join(pending))
                pending = None
        offset = end + (-length % 4)
    if pending is not None:
        raise SegmentationError("the RecordIO answer ends in the middle of a split record")
    return records


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def encode_probabilities(probabilities: np.ndarray) -> bytes:
    """Encode ``(C, H, W)`` class probabilities as the algorithm's RecordIO answer.

    The result is what the endpoint sends for
    ``Accept: application/x-recordio-protobuf``: one framed ``Record`` with
    ``target`` (float32, flat) and ``shape`` (``[1, C, H, W]``).
    """
    if probabilities.ndim != 3:
        raise ValueError(f"probabilities must be (C, H, W), got shape {probabilities.shape}")
    values = np.ascontiguousarray(probabilities, dtype="<f4").tobytes()
    record = Record()
    # A packed float field is its raw little-endian bytes behind a length; build
    # that directly instead of converting millions of floats to Python objects.
    record.features["target"].float32_tensor.MergeFromString(
        b"\x0a" + _varint(len(values)) + values
    )
    record.features["shape"].int32_tensor.values.extend([1, *probabilities.shape])
    return frame_records([record.SerializeToString()])


def decode_probabilities(data: bytes) -> np.ndarray:
    """Decode a probability answer into a ``(C, H, W)`` float32 array.

    Accepts the RecordIO-framed form (``application/x-recordio-protobuf``) and
    a bare ``Record`` (``application/x-protobuf``); only the first record is
    read.

    Raises:
        SegmentationError: not a Record, missing ``target``/``shape``, a shape
            that is not ``[1, C, H, W]``, or a value count that does not match.
    """
    if len(data) >= 4 and struct.unpack_from("<I", data)[0] == RECORDIO_MAGIC:
        payload = split_records(data)[0]
    else:
        payload = data
    record = Record()
    try:
        record.ParseFromString(payload)
    except message.DecodeError as exc:
        raise SegmentationError("the probability answer is not a valid protobuf Record") from exc
    features = record.features
    if "target" not in features or "shape" not in features:
        raise SegmentationError(
            "the probability answer lacks the 'target' or 'shape' feature of the "
            "semantic segmentation algorithm"
        )
    shape = [int(v) for v in features["shape"].int32_tensor.values]
    if len(shape) != 4 or shape[0] != 1 or min(shape) < 1:
        raise SegmentationError(
            f"the probability answer has shape {shape}; expected [1, classes, height, width]"
        )
    values = np.array(features["target"].float32_tensor.values, dtype=np.float32)
    if values.size != shape[1] * shape[2] * shape[3]:
        raise SegmentationError(
            f"the probability answer holds {values.size} values, its shape {shape} "
            f"needs {shape[1] * shape[2] * shape[3]}"
        )
    return values.reshape(shape[1:])


__all__ = [
    "PROTOBUF",
    "RECORDIO_MAGIC",
    "RECORDIO_PROTOBUF",
    "Record",
    "decode_probabilities",
    "encode_probabilities",
    "frame_records",
    "split_records",
]
