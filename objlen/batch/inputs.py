"""The photos of a batch: files, folders, zip files, ``s3://`` prefixes, uploads.

:func:`expand_inputs` and :func:`inputs_from_uploads` list the photos by name
only; each :class:`BatchInput` reads its bytes when a worker calls its
``read``, so listing a large batch holds no photo in memory. A file larger
than :data:`MAX_INPUT_BYTES` is refused when read, with an
:class:`~objlen.errors.ImageReadError`.

A zip file is opened once: its entries are read from that one open archive
(thread-safe), so a zip of many entries costs time in proportion to their
number. An entry that cannot be read (a bad CRC, a broken header, an
unsupported compression, a password) is an
:class:`~objlen.errors.ImageReadError` for that photo alone.

S3 prefixes are listed and read with an S3 client of the shared
:class:`~objlen.sagemaker.session.AwsSession` (its profile, retries and
timeouts; no region needed), and S3's failures are told by its one
translation, :func:`~objlen.sagemaker.session.explain_aws_error`: a prefix
that cannot be listed is a :class:`BatchError`, an object that cannot be read
an :class:`~objlen.errors.ImageReadError`.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from objlen.errors import ImageReadError, ParameterError
from objlen.imageio import open_regular_file
from objlen.sagemaker.s3 import split_s3_uri
from objlen.sagemaker.session import AwsSession, explain_aws_error

#: File name endings taken from folders, zip files and S3 prefixes (a file
#: named on the command line is always taken).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".heic", ".heif")
#: Largest input file read, in bytes.
MAX_INPUT_BYTES = 256 * 1024 * 1024
#: Lock file in a batch's results folder, held by a run (``flock``) while it
#: writes; it marks the folder as a batch's results, whose pictures are no inputs.
LOCK_FILE = ".objlen-batch.lock"


class BatchError(ParameterError):
    """A batch cannot start: an input is missing, empty, or unreachable."""


@dataclass(frozen=True)
class BatchInput:
    """One photo of a batch, not yet read.

    Attributes:
        name: unique name shown in the results: a path, ``archive.zip!entry``
            or ``s3://bucket/key``.
        read: returns the file's bytes (called in a worker thread).
        size: the bytes ``read`` will return, when known before reading (a
            file's size, a zip entry's declared size); ``None`` otherwise.
    """

    name: str
    read: Callable[[], bytes] = field(repr=False, compare=False)
    size: int | None = field(default=None, compare=False)


def _is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def _read_file(path: Path) -> bytes:
    """The bytes of the regular file ``path``.

    Raises:
        ImageReadError: a link to nothing, a named pipe or device (refused at
            once, not waited on), unreadable, or larger than :data:`MAX_INPUT_BYTES`.
    """
    with open_regular_file(path) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > MAX_INPUT_BYTES:
            raise ImageReadError(f"{path}: {size / 1e6:.0f} MB is too large for a photo")
        try:
            return stream.read()
        except OSError as error:
            raise ImageReadError(f"{path}: cannot be read ({error.strerror or error})") from error


def _failing(name: str, message: str) -> BatchInput:
    """An input listed under ``name`` whose read fails with ``message``."""

    def fail() -> bytes:
        raise ImageReadError(message)

    return BatchInput(name, fail)


def _outside(path: Path) -> Callable[[], bytes]:
    """A reader that refuses ``path``: a link out of the folder the batch may read."""

    def refuse() -> bytes:
        raise ImageReadError(f"{path}: a link to a file outside the data root; not read")

    return refuse


def _folder_inputs(
    folder: Path, exclude: Path | None, within: Path | None = None
) -> Iterator[BatchInput]:
    """A folder's photos and zip files' entries. A photo's name that is not a
    readable file (a link to nothing, a named pipe) and a zip file that cannot
    be opened are listed too, as inputs that fail alone, so that they are
    reported and the other photos are measured. The results folders of
    earlier batches inside ``folder`` (marked by their :data:`LOCK_FILE`) are
    skipped: their annotated pictures are not photos to measure."""
    results = {marker.parent for marker in folder.rglob(LOCK_FILE)} - {folder}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative) or path.is_dir():
            continue
        if results and not results.isdisjoint(path.parents):
            continue
        if exclude is not None and path.resolve().is_relative_to(exclude):
            continue
        if within is not None and not path.resolve().is_relative_to(within):
            yield BatchInput(str(path), _outside(path))
            continue
        if _is_image_name(path.name):
            yield BatchInput(str(path), lambda path=path: _read_file(path))
        elif path.suffix.lower() == ".zip" and path.is_file():
            try:
                yield from _zip_inputs(path)
            except BatchError as error:
                yield _failing(str(path), str(error))


class _Archive:
    """One zip file, opened once; its entries are read from it by any thread.

    ``zipfile`` reads the members of one open archive safely from several
    threads (each read seeks and reads under the archive's lock); opening the
    archive again for every entry would parse its whole central directory
    each time, a cost that grows with the square of the number of entries.
    """

    def __init__(self, zipped: zipfile.ZipFile, label: str) -> None:
        self._zipped = zipped
        self.label = label

    def entries(self) -> list[zipfile.ZipInfo]:
        """Image entries, sorted by name; hidden and ``__MACOSX`` ones skipped."""
        return sorted(
            (
                info
                for info in self._zipped.infolist()
                if not info.is_dir()
                and _is_image_name(info.filename)
                and not any(p.startswith((".", "__MACOSX")) for p in info.filename.split("/"))
            ),
            key=lambda info: info.filename,
        )

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """The entry's bytes.

        Raises:
            ImageReadError: larger than :data:`MAX_INPUT_BYTES`, or it cannot be
                read (bad CRC, broken header, encrypted, unknown compression).
        """
        name = f"{self.label}!{info.filename}"
        if info.file_size > MAX_INPUT_BYTES:
            raise ImageReadError(f"{name}: {info.file_size / 1e6:.0f} MB is too large for a photo")
        try:
            return self._zipped.read(info)
        except zipfile.BadZipFile as error:
            reason = "its CRC does not match" if "CRC" in str(error) else "its header is broken"
            raise ImageReadError(f"{name}: the zip entry is corrupt ({reason})") from error
        except (zlib.error, EOFError) as error:
            raise ImageReadError(f"{name}: the zip entry is corrupt (cannot inflate it)") from error
        except NotImplementedError as error:
            raise ImageReadError(
                f"{name}: the zip entry uses an unsupported compression"
            ) from error
        except RuntimeError as error:  # zipfile: "File ... is encrypted, password required"
            raise ImageReadError(f"{name}: the zip entry is encrypted") from error
        except OSError as error:
            raise ImageReadError(
                f"{name}: cannot read the zip file ({error.strerror or error})"
            ) from error

    def inputs(self) -> list[BatchInput]:
        """A :class:`BatchInput` per image entry, all reading from this open archive."""
        return [
            BatchInput(
                f"{self.label}!{info.filename}",
                lambda info=info: self.read(info),
                size=info.file_size,
            )
            for info in self.entries()
        ]


def _zip_inputs(archive: Path) -> Iterator[BatchInput]:
    """The image entries of the zip file ``archive``, read from one open archive."""
    try:
        zipped = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise BatchError(f"{archive}: not a readable zip file ({error})") from error
    yield from _Archive(zipped, str(archive)).inputs()


def _s3_client(session: AwsSession, uri: str) -> Any:
    """``session``'s S3 client.

    Raises:
        BatchError: it cannot be made (e.g. the profile does not exist).
    """
    try:
        return session.client("s3", needs_region=False)
    except ParameterError as error:
        raise BatchError(f"cannot list {uri}: {error}") from error
    except BotoCoreError as error:
        reason = explain_aws_error(error, "listing the photos", session)
        raise BatchError(f"cannot list {uri}: {reason}") from error


def _read_s3_object(session: AwsSession, bucket: str, key: str) -> bytes:
    """The object's bytes.

    Raises:
        ImageReadError: larger than :data:`MAX_INPUT_BYTES`, or S3 failed.
    """
    try:
        answer = session.client("s3", needs_region=False).get_object(Bucket=bucket, Key=key)
        if answer.get("ContentLength", 0) > MAX_INPUT_BYTES:
            raise ImageReadError(f"s3://{bucket}/{key}: too large for a photo")
        return answer["Body"].read()
    except (BotoCoreError, ClientError) as error:
        reason = explain_aws_error(error, "reading it", session)
        raise ImageReadError(f"s3://{bucket}/{key}: could not be read from S3: {reason}") from error


def _s3_inputs(uri: str, session: AwsSession) -> Iterator[BatchInput]:
    bucket, prefix = split_s3_uri(uri, "the batch input")
    client = _s3_client(session, uri)
    keys: list[str] = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            keys += [o["Key"] for o in page.get("Contents", []) if _is_image_name(o["Key"])]
    except (BotoCoreError, ClientError) as error:
        reason = explain_aws_error(error, "listing the photos", session)
        raise BatchError(f"cannot list {uri}: {reason}") from error
    for key in keys:
        yield BatchInput(
            f"s3://{bucket}/{key}", lambda key=key: _read_s3_object(session, bucket, key)
        )


def inputs_from_uploads(files: Iterable[tuple[str, bytes]]) -> list[BatchInput]:
    """Photos and zip files already in memory (uploads) as batch inputs: a
    ``.zip`` gives its image entries (``name.zip!entry``), anything else is
    taken as a photo.

    Raises:
        BatchError: a ``.zip`` that is not a zip file.
    """
    found: list[BatchInput] = []
    for name, data in files:
        if not name.lower().endswith(".zip"):
            found.append(BatchInput(name, lambda data=data: data))
            continue
        try:
            zipped = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as error:
            raise BatchError(f"{name}: not a readable zip file ({error})") from error
        found += _Archive(zipped, name).inputs()
    return found


def expand_inputs(
    inputs: Iterable[str | Path | BatchInput],
    *,
    exclude: str | Path | None = None,
    s3_endpoint_url: str | None = None,
    aws_session: AwsSession | None = None,
    within: str | Path | None = None,
) -> list[BatchInput]:
    """List the photos named by ``inputs``, without reading them.

    Args:
        inputs: files (always taken, whatever their name), folders (searched
            recursively for image files and zip files; hidden files skipped),
            zip files (their image entries), ``s3://bucket/prefix`` addresses
            (every image object under the prefix), or ready :class:`BatchInput`.
        exclude: a folder whose files are never taken (the batch's own output).
        s3_endpoint_url: S3 endpoint instead of AWS's (e.g. a local server),
            used when ``aws_session`` is not given.
        aws_session: the session (profile, region, retries) whose S3 client
            reads ``s3://`` inputs; ``None``: one with the default credential
            chain and ``s3_endpoint_url``.
        within: a folder (the app's data root) that every file read must lie
            in once its symbolic links are resolved: a file found in a folder
            that links out of it fails alone, unread; a named file or folder
            outside it is a :class:`BatchError`. ``None``: anywhere.

    Returns:
        The photos in the order found, each name once (the first wins).

    Raises:
        BatchError: an input does not exist, a zip file or an S3 prefix cannot
            be listed, or no photo was found at all.
    """
    found: list[BatchInput] = []
    excluded = None if exclude is None else Path(exclude).resolve()
    confined = None if within is None else Path(within).resolve()
    session = aws_session
    for item in inputs:
        if isinstance(item, BatchInput):
            found.append(item)
            continue
        text = str(item)
        if text.startswith("s3://"):
            session = session or AwsSession(endpoint_url=s3_endpoint_url)
            found += _s3_inputs(text, session)
            continue
        path = Path(item)
        if confined is not None and not path.resolve().is_relative_to(confined):
            raise BatchError(f"{path}: outside the data root {confined}; not read")
        if path.is_dir():
            found += _folder_inputs(path, excluded, confined)
        elif path.is_file() and path.suffix.lower() == ".zip":
            found += _zip_inputs(path)
        elif path.is_file():
            found.append(BatchInput(str(path), lambda path=path: _read_file(path)))
        elif path.is_symlink() and not path.exists():
            raise BatchError(f"{path}: a link to a file or folder that does not exist")
        elif path.exists():
            raise BatchError(f"{path}: not a file or folder (a named pipe, device or socket)")
        else:
            raise BatchError(f"{path}: no such file or folder")
    seen: set[str] = set()
    unique = [i for i in found if not (i.name in seen or seen.add(i.name))]
    if not unique:
        raise BatchError(
            "no photos found in the inputs (looked for "
            + ", ".join(IMAGE_SUFFIXES)
            + " files and zip files)"
        )
    return unique


__all__ = [
    "IMAGE_SUFFIXES",
    "LOCK_FILE",
    "MAX_INPUT_BYTES",
    "BatchError",
    "BatchInput",
    "expand_inputs",
    "inputs_from_uploads",
]
