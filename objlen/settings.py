"""The app's settings: which segmenter, where the endpoint is, units, the database.

Settings come from three places, later ones winning:

1. the defaults of :class:`AppSettings` (local segmenter, mm,
   ``data/objlen.sqlite3``);
2. the ``[objlen]`` section of ``.streamlit/secrets.toml`` (see
   ``.streamlit/secrets.toml.example``), passed in as a mapping;
3. the environment: ``OBJLEN_SEGMENTER``, ``OBJLEN_ENDPOINT``,
   ``OBJLEN_REGION`` (else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``),
   ``OBJLEN_PROFILE`` (else ``AWS_PROFILE``), ``OBJLEN_ENDPOINT_URL``,
   ``OBJLEN_S3_ENDPOINT_URL``, ``OBJLEN_UNIT``, ``OBJLEN_DB``,
   ``OBJLEN_REFERENCE_RULE`` and the class ids
   ``OBJLEN_BACKGROUND_CLASS``, ``OBJLEN_OBJECT_CLASS``,
   ``OBJLEN_REFERENCE_CLASS``, ``OBJLEN_IGNORE_CLASS``.

AWS credentials are never read into the settings: boto3's own credential
chain (environment, ``~/.aws``, instance role) finds them when the endpoint is
called. A credential that was put in the ``[objlen]`` section by mistake is
ignored (only its key name is reported, never its value).

The endpoint URLs and the database path are the operator's: the app shows
them (the URLs without user-info or query, :func:`objlen.redact.redact_url`)
but no browser user can change them.

This module knows no Streamlit: the pages pass ``st.secrets`` and
``os.environ`` in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from objlen.classes import ClassIds
from objlen.errors import ParameterError
from objlen.redact import redact_url
from objlen.segment.local import REFERENCE_CHOICES
from objlen.units import UNITS, check_unit

if TYPE_CHECKING:
    from objlen.segment.sagemaker import SageMakerSettings

#: Segmenter backends the app can use for a photo.
APP_BACKENDS = ("local", "sagemaker")
#: Where the history database lives unless told otherwise (relative to the project).
DEFAULT_DB_PATH = "data/objlen.sqlite3"
#: Name of the secrets.toml section the app reads.
SECRETS_SECTION = "objlen"

# secrets key -> field name; several spellings are accepted for convenience.
_SECRET_KEYS = {
    "segmenter": "segmenter",
    "backend": "segmenter",
    "endpoint": "endpoint_name",
    "endpoint_name": "endpoint_name",
    "region": "region",
    "profile": "profile",
    "endpoint_url": "endpoint_url",
    "s3_endpoint_url": "s3_endpoint_url",
    "unit": "default_unit",
    "default_unit": "default_unit",
    "db": "db_path",
    "db_path": "db_path",
    "reference_rule": "reference_rule",
    "timeout_s": "timeout_s",
}
_CLASS_NAMES = ("background", "object", "reference", "ignore")
# environment variable -> field name, the first present of each group wins.
_ENV_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("segmenter", ("OBJLEN_SEGMENTER",)),
    ("endpoint_name", ("OBJLEN_ENDPOINT",)),
    ("region", ("OBJLEN_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")),
    ("profile", ("OBJLEN_PROFILE", "AWS_PROFILE")),
    ("endpoint_url", ("OBJLEN_ENDPOINT_URL",)),
    ("s3_endpoint_url", ("OBJLEN_S3_ENDPOINT_URL",)),
    ("default_unit", ("OBJLEN_UNIT",)),
    ("db_path", ("OBJLEN_DB",)),
    ("reference_rule", ("OBJLEN_REFERENCE_RULE",)),
    ("timeout_s", ("OBJLEN_TIMEOUT_S",)),
)


def _redact_url(url: str) -> str:
    """``url`` without its user-info, query and fragment (:func:`objlen.redact.redact_url`)."""
    if not url:
        return ""
    try:
        urlsplit(url).port  # noqa: B018 - parsing the port validates it
    except ValueError:
        return "(not a valid URL; hidden)"
    return redact_url(url)


def _check_url(url: str) -> None:
    """Raise :class:`ParameterError` unless ``url`` is an http(s) URL with a host.
    The message never repeats the URL (it may carry a password)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError:
        raise ParameterError("the endpoint URL is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ParameterError(
            "the endpoint URL must start with http:// or https://, e.g. http://127.0.0.1:8080"
        )


@dataclass(frozen=True)
class AppSettings:
    """What the app needs to know besides the photo; immutable.

    Attributes:
        segmenter: ``"local"`` (default, no network) or ``"sagemaker"``.
        endpoint_name: SageMaker endpoint name (empty: not configured).
        region: AWS region of the endpoint, e.g. ``"ap-northeast-1"``.
        profile: named AWS profile (empty: boto3's default chain).
        endpoint_url: runtime URL instead of AWS's, e.g. ``objlen serve``'s.
        s3_endpoint_url: S3 URL instead of AWS's, for the Batch page's
            ``s3://`` inputs (e.g. a local S3 server).
        classes: class ids of the masks.
        default_unit: ``"mm"``, ``"cm"`` or ``"in"``.
        db_path: the history database file; relative paths are relative to
            the project folder (see :meth:`db_file`).
        reference_rule: how the local segmenter tells the reference.
        timeout_s: seconds to wait for the endpoint's answer.
        ignored_keys: names of ``[objlen]`` secrets keys that were not used
            (their values are never kept).
    """

    segmenter: str = "local"
    endpoint_name: str = ""
    region: str = ""
    profile: str = ""
    endpoint_url: str = ""
    s3_endpoint_url: str = ""
    classes: ClassIds = field(default_factory=ClassIds)
    default_unit: str = "mm"
    db_path: str = DEFAULT_DB_PATH
    reference_rule: str = "auto"
    timeout_s: float = 60.0
    ignored_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.segmenter not in APP_BACKENDS:
            raise ParameterError(
                f"unknown segmenter {self.segmenter!r}; use one of {', '.join(APP_BACKENDS)}"
            )
        check_unit(self.default_unit)
        if self.reference_rule not in REFERENCE_CHOICES:
            raise ParameterError(
                f"unknown reference rule {self.reference_rule!r}; use one of "
                + ", ".join(REFERENCE_CHOICES)
            )
        if not str(self.db_path).strip():
            raise ParameterError("the database path is empty")
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ParameterError(f"the endpoint timeout must be positive; got {self.timeout_s!r}")
        if self.endpoint_url:
            _check_url(self.endpoint_url)
        if self.s3_endpoint_url:
            _check_url(self.s3_endpoint_url)

    @property
    def sagemaker_configured(self) -> bool:
        """True when an endpoint name is set."""
        return bool(self.endpoint_name.strip())

    def sagemaker_settings(self) -> SageMakerSettings | None:
        """The endpoint settings for :mod:`objlen.segment`, or ``None`` when no
        endpoint name is set.

        Raises:
            ParameterError: an endpoint name is set but no region.
        """
        if not self.sagemaker_configured:
            return None
        from objlen.segment.sagemaker import SageMakerSettings

        return SageMakerSettings(
            endpoint_name=self.endpoint_name.strip(),
            region=self.region.strip(),
            profile=self.profile.strip() or None,
            endpoint_url=self.endpoint_url.strip() or None,
            timeout_s=self.timeout_s,
        )

    def db_file(self, project_root: str | Path) -> Path:
        """The database path, a relative one taken from ``project_root``."""
        path = Path(self.db_path).expanduser()
        return path if path.is_absolute() else Path(project_root) / path

    def redacted(self) -> dict[str, str]:
        """A view for display: every setting as text, nothing secret.

        Credentials are never in the settings; the endpoint URL loses any
        user name, password and query string it might carry.
        """
        classes = self.classes
        view = {
            "segmenter": self.segmenter,
            "endpoint name": self.endpoint_name or "(not set)",
            "region": self.region or "(not set)",
            "profile": self.profile or "(default credential chain)",
            "endpoint URL": _redact_url(self.endpoint_url) or "(AWS)",
            "S3 endpoint URL": _redact_url(self.s3_endpoint_url) or "(AWS)",
            "classes": (
                f"background {classes.background}, object {classes.object}, "
                f"reference {classes.reference}, ignore {classes.ignore}"
            ),
            "default unit": self.default_unit,
            "database": str(self.db_path),
            "reference rule": self.reference_rule,
            "endpoint timeout": f"{self.timeout_s:g} s",
        }
        if self.ignored_keys:
            view["ignored secrets keys"] = ", ".join(self.ignored_keys)
        return view

    def to_dict(self) -> dict[str, Any]:
        """Plain values for saving with a measurement; the URL is redacted."""
        values = asdict(self)
        values["endpoint_url"] = _redact_url(self.endpoint_url)
        values["s3_endpoint_url"] = _redact_url(self.s3_endpoint_url)
        values.pop("ignored_keys")
        return values

    def with_changes(self, **changes: Any) -> AppSettings:
        """A validated copy with some fields changed."""
        return replace(self, **changes)


def _text(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ParameterError(f"setting {what} must be text, got {type(value).__name__}")
    return str(value).strip()


def _class_id(value: Any, what: str) -> int:
    try:
        number = float(str(value).strip())
    except ValueError as exc:
        raise ParameterError(f"class id {what} must be a whole number 0..255") from exc
    if not number.is_integer():
        raise ParameterError(f"class id {what} must be a whole number 0..255")
    return int(number)


def _number(value: Any, what: str) -> float:
    try:
        return float(str(value).strip())
    except ValueError as exc:
        raise ParameterError(f"setting {what} must be a number") from exc


def _convert(field_name: str, value: Any, what: str) -> Any:
    if field_name == "timeout_s":
        return _number(value, what)
    text = _text(value, what)
    return text.lower() if field_name in ("segmenter", "default_unit", "reference_rule") else text


def load_settings(secrets: Mapping[str, Any], environ: Mapping[str, str]) -> AppSettings:
    """Build :class:`AppSettings` from a secrets mapping and the environment.

    Args:
        secrets: the whole secrets mapping (``st.secrets``, or ``{}``); only
            its ``[objlen]`` section is read, with optional ``[objlen.classes]``.
        environ: environment variables (``os.environ``); they override secrets.

    Raises:
        ParameterError: a value is invalid (unknown segmenter or unit, bad
            class id...); the message names the setting, never a secret.
    """
    values: dict[str, Any] = {}
    class_values = {name: getattr(ClassIds(), name) for name in _CLASS_NAMES}
    ignored: list[str] = []
    section = secrets.get(SECRETS_SECTION, {}) if isinstance(secrets, Mapping) else {}
    if not isinstance(section, Mapping):
        raise ParameterError(f"[{SECRETS_SECTION}] in the secrets file must be a table")
    for key, value in section.items():
        if key == "classes" and isinstance(value, Mapping):
            for name, class_id in value.items():
                if name in class_values:
                    class_values[name] = _class_id(class_id, f"{SECRETS_SECTION}.classes.{name}")
                else:
                    ignored.append(f"classes.{name}")
        elif key.endswith("_class") and key[: -len("_class")] in class_values:
            name = key[: -len("_class")]
            class_values[name] = _class_id(value, f"{SECRETS_SECTION}.{key}")
        elif key in _SECRET_KEYS:
            values[_SECRET_KEYS[key]] = _convert(_SECRET_KEYS[key], value, key)
        else:
            ignored.append(str(key))
    for field_name, names in _ENV_KEYS:
        for name in names:
            if environ.get(name, "").strip():
                values[field_name] = _convert(field_name, environ[name], name)
                break
    for name in _CLASS_NAMES:
        env_name = f"OBJLEN_{name.upper()}_CLASS"
        if environ.get(env_name, "").strip():
            class_values[name] = _class_id(environ[env_name], env_name)
    return AppSettings(classes=ClassIds(**class_values), ignored_keys=tuple(ignored), **values)


__all__ = [
    "APP_BACKENDS",
    "DEFAULT_DB_PATH",
    "REFERENCE_CHOICES",
    "SECRETS_SECTION",
    "UNITS",
    "AppSettings",
    "load_settings",
]
