"""Batches over real HTTP: photos from an S3 prefix (moto in server mode) and
masks from the local SageMaker-compatible endpoint, several calls at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from objlen import MeasureOptions, ReferenceSpec
from objlen.batch.inputs import BatchError, expand_inputs
from objlen.batch.photo import segmenter_factory_for
from objlen.batch.runner import run_batch
from objlen.classes import ClassIds
from objlen.imageio import encode_jpeg, sha256_hex
from objlen.sagemaker.local_endpoint import InvocationLog, make_server
from objlen.sagemaker.session import HOW_TO_CONFIGURE, LOCAL_ENDPOINT_KEYS, AwsSession
from objlen.segment.sagemaker import SageMakerSegmenter
from tests.aws_servers import REGION, ColourSegmenter, draw_photo, settings_for

pytestmark = pytest.mark.aws

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
CARD = MeasureOptions(reference=ReferenceSpec(size=(85.6, 54.0)), method="homography")
#: Object 192 px wide and 112 px tall; reference 32 x 64 px = 16 x 32 mm.
DRAWN = MeasureOptions(reference=ReferenceSpec(size=(16.0, 32.0)))


@pytest.fixture
def moto_url(aws_env: None) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_photos_from_an_s3_prefix(moto_url: str, tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto_url)
    s3.create_bucket(Bucket="photos", CreateBucketConfiguration={"LocationConstraint": REGION})
    names = ["card_rectangle", "card_ellipse", "dark_card_ellipse"]
    for name in names:
        s3.put_object(
            Bucket="photos", Key=f"in/{name}.jpg", Body=(SAMPLES / f"{name}.jpg").read_bytes()
        )
    s3.put_object(Bucket="photos", Key="in/readme.txt", Body=b"not a photo")
    s3.put_object(Bucket="photos", Key="elsewhere/card_blob_gradient.jpg", Body=b"outside")
    s3.put_object(Bucket="photos", Key="in/broken.jpg", Body=b"\xff\xd8 broken")
    factory = segmenter_factory_for("local", classes=ClassIds())
    report = run_batch(
        ["s3://photos/in/"],
        tmp_path / "out",
        options=CARD,
        segmenter_factory=factory,
        concurrency=2,
        s3_endpoint_url=moto_url,
    )
    assert report.total == 4
    by_name = {r["name"]: r for r in report.records}
    assert set(by_name) == {f"s3://photos/in/{n}.jpg" for n in [*names, "broken"]}
    assert by_name["s3://photos/in/broken.jpg"]["status"] == "error"
    for name in names:
        assert by_name[f"s3://photos/in/{name}.jpg"]["status"] == "ok"
    assert by_name["s3://photos/in/card_rectangle.jpg"]["width"] == pytest.approx(154.35, rel=0.015)

    again = run_batch(
        ["s3://photos/in/"],
        tmp_path / "out",
        options=CARD,
        segmenter_factory=factory,
        s3_endpoint_url=moto_url,
    )
    assert again.processed == 0 and again.resumed == 4


def test_a_missing_bucket_stops_before_anything_runs(moto_url: str, tmp_path: Path) -> None:
    with pytest.raises(BatchError, match="cannot list s3://nothing-here/x"):
        run_batch(
            ["s3://nothing-here/x"],
            tmp_path / "out",
            options=CARD,
            segmenter_factory=segmenter_factory_for("local", classes=ClassIds()),
            s3_endpoint_url=moto_url,
        )


class _Unavailable(BaseHTTPRequestHandler):
    """Every request answered as S3 does when it is unavailable (503), and counted."""

    def do_GET(self) -> None:
        self.server.requests += 1  # type: ignore[attr-defined]
        body = b"<Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>"
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def unavailable_s3(aws_env: None) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    server.requests = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_s3_inputs_are_called_with_the_shared_sessions_retry_settings(
    unavailable_s3: ThreadingHTTPServer,
) -> None:
    url = f"http://127.0.0.1:{unavailable_s3.server_address[1]}"
    session = AwsSession(endpoint_url=url, max_attempts=2, connect_timeout_s=2.0)

    with pytest.raises(BatchError, match=r"cannot list s3://photos/in/: .*unavailable") as caught:
        expand_inputs(["s3://photos/in/"], aws_session=session)

    assert unavailable_s3.requests == 2  # type: ignore[attr-defined]
    assert "(2 attempts)" in str(caught.value)


def test_s3_inputs_use_the_shared_sessions_profile(moto_url: str) -> None:
    session = AwsSession(endpoint_url=moto_url, profile="nobody")

    with pytest.raises(BatchError, match="AWS profile 'nobody' not found"):
        expand_inputs(["s3://photos/in/"], aws_session=session)


def test_s3_inputs_without_credentials_say_how_to_configure(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(BatchError) as caught:
        expand_inputs(["s3://photos/in/"], s3_endpoint_url=moto_url)

    # an endpoint URL (here moto's): the message says that any keys will do
    expected = f"cannot list s3://photos/in/: {HOW_TO_CONFIGURE}; {LOCAL_ENDPOINT_KEYS}"
    assert str(caught.value) == expected


class TimedLog(InvocationLog):
    """The server's log, also keeping when each request ended."""

    def __init__(self) -> None:
        super().__init__()
        self.ends: list[float] = []

    def append(self, item) -> None:
        self.ends.append(time.perf_counter())
        super().append(item)

    def most_at_once(self) -> int:
        """The largest number of requests the server was serving at one moment."""
        edges = []
        for end, item in zip(self.ends, self.items(), strict=True):
            edges += [(end - item.seconds, 1), (end, -1)]
        now = most = 0
        for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
            now += step
            most = max(most, now)
        return most


@pytest.fixture
def drawn_photos(tmp_path: Path) -> Path:
    folder = tmp_path / "drawn"
    folder.mkdir()
    for index in range(10):
        photo, _ = draw_photo((320, 240), (48, 64, 240, 176), (272, 16, 304, 80))
        photo[200 + index, 10] = (0, 0, 0)  # different bytes, same scene
        (folder / f"drawn-{index}.jpg").write_bytes(encode_jpeg(photo, quality=95))
    return folder


def test_sagemaker_backend_calls_concurrently_but_bounded(
    aws_env: None, drawn_photos: Path, tmp_path: Path
) -> None:
    server = make_server(ColourSegmenter(blur_px=3), latency_s=0.3, endpoint_names=["objlen-test"])
    server.log = TimedLog()
    server.start()
    try:
        settings = settings_for(server)
        made = []
        lock = threading.Lock()

        def factory() -> SageMakerSegmenter:
            with lock:
                made.append(1)
            return SageMakerSegmenter(settings, ClassIds())

        start = time.perf_counter()
        report = run_batch(
            [drawn_photos],
            tmp_path / "out",
            options=DRAWN,
            segmenter_factory=factory,
            concurrency=4,
            annotate=False,
        )
        elapsed = time.perf_counter() - start
    finally:
        server.stop()
    assert report.ok == 10, report.failures
    for record in report.records:
        assert record["width"] == pytest.approx(96.0, rel=0.01)  # 192 px at 0.5 mm/px
        assert record["height"] == pytest.approx(56.0, rel=0.01)
    calls = server.log.items()
    assert len(calls) == 10 and all(c.status == 200 for c in calls)
    assert 2 <= server.log.most_at_once() <= 4
    assert len(made) <= 4
    assert elapsed < 10 * 0.3  # one at a time would take at least 3 s


def test_the_sagemaker_backend_gets_each_jpeg_byte_for_byte(
    aws_env: None, drawn_photos: Path, tmp_path: Path
) -> None:
    server = make_server(ColourSegmenter(blur_px=3), endpoint_names=["objlen-test"]).start()
    try:
        factory = segmenter_factory_for(
            "sagemaker", classes=ClassIds(), sagemaker=settings_for(server)
        )
        report = run_batch(
            [drawn_photos],
            tmp_path / "out",
            options=DRAWN,
            segmenter_factory=factory,
            concurrency=2,
            annotate=False,
        )
        calls = server.log.items()
    finally:
        server.stop()
    assert report.ok == 10, report.failures
    files = {sha256_hex(path.read_bytes()) for path in drawn_photos.iterdir()}
    assert len(files) == 10
    assert {call.body_sha256 for call in calls} == files


def test_a_failed_call_fails_its_photo_and_is_retried_next_run(
    aws_env: None, drawn_photos: Path, tmp_path: Path
) -> None:
    server = make_server(ColourSegmenter(blur_px=3), endpoint_names=["objlen-test"]).start()
    try:
        settings = settings_for(server, max_attempts=1)
        factory = segmenter_factory_for("sagemaker", classes=ClassIds(), sagemaker=settings)
        server.faults.add("model_error", message="the model fell over")
        first = run_batch(
            [drawn_photos],
            tmp_path / "out",
            options=DRAWN,
            segmenter_factory=factory,
            concurrency=1,
            annotate=False,
        )
        assert (first.ok, first.failed) == (9, 1)
        assert "the model fell over" in first.failures[0][1]
        server.log.clear()
        second = run_batch(
            [drawn_photos],
            tmp_path / "out",
            options=DRAWN,
            segmenter_factory=factory,
            concurrency=1,
            annotate=False,
        )
    finally:
        server.stop()
    assert (second.ok, second.failed, second.processed) == (10, 0, 1)
    assert len(server.log.items()) == 1  # only the failed photo was sent again
