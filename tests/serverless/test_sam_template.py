"""template.yaml (AWS SAM) and lambda/requirements.txt agree with the handler.

The template is read as YAML with the CloudFormation short-form tags
(``!Ref``, ``!Sub``, ``!GetAtt``, ...) turned into their long forms, as
CloudFormation itself reads them. No AWS call is made.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from objlen.serverless import config as config_module
from objlen.serverless import request as request_module

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

#: Environment variables Lambda sets itself; a template may not set them.
RESERVED_ENV = {
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
}


class CloudFormationLoader(yaml.SafeLoader):
    """A YAML loader that accepts CloudFormation's short-form intrinsic tags."""


def _long_form(name: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _tag in ("Ref", "Condition"):
    CloudFormationLoader.add_constructor(f"!{_tag}", _long_form(_tag))
for _tag in (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "GetAtt",
    "If",
    "ImportValue",
    "Join",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "Transform",
):
    CloudFormationLoader.add_constructor(f"!{_tag}", _long_form(f"Fn::{_tag}"))


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


@pytest.fixture(scope="module")
def function(template: dict[str, Any]) -> dict[str, Any]:
    [props] = [
        r["Properties"] for r in resources_of(template, "AWS::Serverless::Function").values()
    ]
    return props


@pytest.fixture(scope="module")
def api(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    [(name, resource)] = resources_of(template, "AWS::Serverless::Api").items()
    return name, resource["Properties"]


def test_the_loader_turns_short_tags_into_long_forms() -> None:
    text = "a: !Ref X\nb: !GetAtt F.Arn\nc: !Sub 'x-${X}'\nd: !Join [',', [a, !Ref Y]]\n"
    assert yaml.load(text, Loader=CloudFormationLoader) == {
        "a": {"Ref": "X"},
        "b": {"Fn::GetAtt": ["F", "Arn"]},
        "c": {"Fn::Sub": "x-${X}"},
        "d": {"Fn::Join": [",", ["a", {"Ref": "Y"}]]},
    }


def test_it_is_a_sam_template(template: dict[str, Any]) -> None:
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    for name, resource in template["Resources"].items():
        assert re.fullmatch(r"[A-Za-z0-9]+", name), name
        assert "Type" in resource


def test_every_ref_names_a_parameter_or_resource(template: dict[str, Any]) -> None:
    known = set(template["Parameters"]) | set(template["Resources"])

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and not node["Ref"].startswith("AWS::"):
                assert node["Ref"] in known, node
            if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
                for name in re.findall(r"\$\{([^}!]+)\}", node["Fn::Sub"]):
                    if not name.startswith("AWS::"):
                        assert name.split(".")[0] in known, name
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(template["Resources"])
    walk(template["Outputs"])


def test_the_handler_path_imports(function: dict[str, Any]) -> None:
    module_name, _, attribute = function["Handler"].rpartition(".")
    assert (module_name, attribute) == ("objlen.serverless.handler", "handler")
    code_root = (ROOT / function["CodeUri"]).resolve()
    assert (code_root / Path(*module_name.split("."))).with_suffix(".py").is_file()
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attribute))


def test_the_runtime_is_one_lambda_still_accepts(function: dict[str, Any]) -> None:
    # python3.11 (Amazon Linux 2) can no longer be used for new functions, and
    # its glibc 2.26 cannot load the pinned numpy/pillow wheels (manylinux_2_27+).
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["x86_64"]


def test_the_policy_is_invoke_endpoint_on_the_parameterised_endpoint_only(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    assert "Role" not in function
    [policy] = function["Policies"]
    assert isinstance(policy, dict), "no managed policies or policy templates"
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow"
    actions = (
        statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    )
    assert actions == ["sagemaker:InvokeEndpoint"]
    resource = statement["Resource"]
    assert resource == {
        "Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
        ":endpoint/${EndpointName}"
    }
    assert "*" not in resource["Fn::Sub"]
    assert template["Parameters"]["EndpointName"]["Type"] == "String"
    assert function["Environment"]["Variables"]["OBJLEN_ENDPOINT"] == {"Ref": "EndpointName"}


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("objlen-segmentation", True),
        ("ep1", True),
        ("a" * 63, True),
        ("Objlen-Segmentation", False),  # its ARN would be lower case: the policy would not match
        ("-objlen", False),
        ("objlen-", False),
        ("objlen_seg", False),
        ("a" * 64, False),
    ],
)
def test_endpoint_names_must_be_lower_case_sagemaker_names(
    template: dict[str, Any], name: str, accepted: bool
) -> None:
    pattern = template["Parameters"]["EndpointName"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, name)) is accepted


def test_binary_media_types_are_the_handlers_image_types(api: tuple[str, dict[str, Any]]) -> None:
    _, props = api
    media_types = {value.replace("~1", "/") for value in props["BinaryMediaTypes"]}
    assert media_types == {"image/jpeg", "image/png"} == set(request_module.IMAGE_TYPES)


def test_cors_on_the_api_and_on_gateway_errors(
    template: dict[str, Any], api: tuple[str, dict[str, Any]], function: dict[str, Any]
) -> None:
    _, props = api
    cors = props["Cors"]
    assert cors["AllowOrigin"] == {"Fn::Sub": "'${AllowedOrigin}'"}
    assert "POST" in cors["AllowMethods"] and "OPTIONS" in cors["AllowMethods"]
    assert "Content-Type" in cors["AllowHeaders"]
    for response in ("DEFAULT_4XX", "DEFAULT_5XX"):
        headers = props["GatewayResponses"][response]["ResponseParameters"]["Headers"]
        assert headers["Access-Control-Allow-Origin"] == {"Fn::Sub": "'${AllowedOrigin}'"}
    assert function["Environment"]["Variables"]["OBJLEN_CORS_ORIGIN"] == {"Ref": "AllowedOrigin"}
    assert template["Parameters"]["AllowedOrigin"]["Default"] == "*"


def test_post_measure_is_routed_to_the_function(
    api: tuple[str, dict[str, Any]], function: dict[str, Any]
) -> None:
    api_name, _ = api
    [event] = function["Events"].values()
    assert event["Type"] == "Api"
    assert event["Properties"] == {
        "RestApiId": {"Ref": api_name},
        "Path": "/measure",
        "Method": "post",
    }


def test_timeouts_fit_api_gateway(function: dict[str, Any]) -> None:
    variables = function["Environment"]["Variables"]
    api_timeout = float(variables["OBJLEN_API_TIMEOUT_S"])
    assert api_timeout <= 29  # the REST API's default integration timeout
    assert api_timeout <= function["Timeout"] <= 900
    assert float(variables["OBJLEN_TIMEOUT_S"]) <= 60  # SageMaker's own limit


def test_environment_is_what_the_handler_reads(function: dict[str, Any]) -> None:
    variables = set(function["Environment"]["Variables"])
    assert not variables & RESERVED_ENV, "Lambda refuses reserved variables such as AWS_REGION"
    assert variables <= set(config_module.ENVIRONMENT_VARIABLES)
    values = function["Environment"]["Variables"]
    config = config_module.HandlerConfig.from_environ(
        {k: v if isinstance(v, str) else "x" for k, v in values.items()} | {"AWS_REGION": "x"}
    )
    assert config.api_timeout_s == float(values["OBJLEN_API_TIMEOUT_S"])
    assert config.max_pixels == int(values["OBJLEN_MAX_PIXELS"])


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not pinned with =="
            pins[name.strip().lower()] = version.strip()
    return pins


def test_lambda_requirements_pin_the_tested_runtime_dependencies() -> None:
    lambda_pins = _pins(ROOT / "lambda" / "requirements.txt")
    project_pins = _pins(ROOT / "requirements.txt")
    assert set(lambda_pins) == {"numpy", "opencv-python-headless", "pillow", "protobuf"}
    for name, version in lambda_pins.items():
        assert project_pins.get(name) == version, f"{name}: the Lambda must ship the tested version"


def test_the_docs_build_with_the_lambda_manifest() -> None:
    docs = (ROOT / "docs" / "serverless.md").read_text(encoding="utf-8")
    assert "sam build --manifest lambda/requirements.txt" in docs
    assert "sam deploy --guided" in docs
