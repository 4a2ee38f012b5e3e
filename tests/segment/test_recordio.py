"""RecordIO framing and the probability Record of semantic segmentation."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from objlen.errors import SegmentationError
from objlen.segment.recordio import (
    RECORDIO_MAGIC,
    Record,
    decode_probabilities,
    encode_probabilities,
    frame_records,
    split_records,
)

MAGIC = struct.pack("<I", RECORDIO_MAGIC)


def test_framing_layout_is_magic_length_payload_padding() -> None:
    framed = frame_records([b"abcde"])

    assert framed[:4] == bytes.fromhex("0a23d7ce")  # 0xced7230a, little-endian
    assert struct.unpack_from("<I", framed, 4)[0] == 5  # flags 0: a whole record
    assert framed[8:13] == b"abcde"
    assert framed[13:] == b"\0\0\0"
    assert len(framed) % 4 == 0


def test_magic_at_an_aligned_offset_splits_the_record_as_mxnet_does() -> None:
    payload = b"abcd" + MAGIC + b"xyz"

    framed = frame_records([payload])

    first_flags = struct.unpack_from("<I", framed, 4)[0]
    assert (first_flags >> 29, first_flags & 0x1FFFFFFF) == (1, 4)
    second_flags = struct.unpack_from("<I", framed, 16)[0]
    assert (second_flags >> 29, second_flags & 0x1FFFFFFF) == (3, 3)
    assert split_records(framed) == [payload]


def test_magic_at_an_unaligned_offset_is_left_alone() -> None:
    payload = b"a" + MAGIC + b"bcd"
    framed = frame_records([payload])
    assert struct.unpack_from("<I", framed, 4)[0] == len(payload)
    assert split_records(framed) == [payload]


@given(st.lists(st.binary(max_size=40) | st.just(MAGIC * 2), max_size=5))
def test_framing_round_trips(payloads: list[bytes]) -> None:
    assert split_records(frame_records(payloads)) == payloads


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"\x01\x02\x03\x04\x05\x00\x00\x00hello\0\0\0", "bad magic number"),
        (MAGIC + b"\x00", "middle of a record header"),
        (MAGIC + struct.pack("<I", 100) + b"short", "cut short"),
        (MAGIC + struct.pack("<I", (1 << 29) | 0), "middle of a split record"),
        (MAGIC + struct.pack("<I", 3 << 29), "unexpected part flag 3"),
    ],
    ids=["magic", "header", "payload", "unfinished", "flag"],
)
def test_broken_framing_is_an_error(data: bytes, detail: str) -> None:
    with pytest.raises(SegmentationError, match=detail):
        split_records(data)


def test_probabilities_round_trip() -> None:
    rng = np.random.default_rng(0)
    probabilities = rng.random((3, 5, 7), dtype=np.float32)

    decoded = decode_probabilities(encode_probabilities(probabilities))

    assert decoded.dtype == np.float32
    assert np.array_equal(decoded, probabilities)


def test_encoding_is_the_published_record_layout() -> None:
    """Read back with the plain protobuf API, as the SageMaker examples do."""
    probabilities = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 24

    payload = split_records(encode_probabilities(probabilities))[0]
    record = Record()
    record.ParseFromString(payload)

    assert list(record.features["shape"].int32_tensor.values) == [1, 2, 3, 4]
    assert np.allclose(list(record.features["target"].float32_tensor.values), probabilities.ravel())


def test_decoding_a_record_built_with_the_plain_protobuf_api() -> None:
    record = Record()
    record.features["target"].float32_tensor.values.extend([0.25, 0.75, 0.5, 0.5])
    record.features["shape"].int32_tensor.values.extend([1, 2, 1, 2])
    payload = record.SerializeToString()

    for data in (frame_records([payload]), payload):  # recordio-protobuf, and bare protobuf
        decoded = decode_probabilities(data)
        assert decoded.shape == (2, 1, 2)
        assert decoded[:, 0, 0].tolist() == [0.25, 0.5]


def _record(values: list[float], shape: list[int] | None) -> bytes:
    record = Record()
    record.features["target"].float32_tensor.values.extend(values)
    if shape is not None:
        record.features["shape"].int32_tensor.values.extend(shape)
    return frame_records([record.SerializeToString()])


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (_record([0.5, 0.5], None), "lacks the 'target' or 'shape'"),
        (_record([0.5, 0.5], [2, 1, 1]), "expected [1, classes, height, width]"),
        (_record([0.5, 0.5], [1, 2, 2, 1]), "holds 2 values, its shape [1, 2, 2, 1] needs 4"),
        (frame_records([b"\xff\xff\xff"]), "not a valid protobuf Record"),
        (b"", "lacks the 'target' or 'shape'"),
    ],
    ids=["missing", "rank", "count", "garbage", "empty-body"],
)
def test_bad_probability_answers_are_errors(data: bytes, detail: str) -> None:
    with pytest.raises(SegmentationError) as caught:
        decode_probabilities(data)
    assert detail in str(caught.value)
