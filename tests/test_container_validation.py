"""Container and network rules: the health-check command is safe Python, limits match botocore."""

from __future__ import annotations

import ast

import botocore.session
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.ecs import container, network
from rules.naming import StackNames
from settings.services import validate_service_name

ECS = botocore.session.get_session().get_service_model("ecs")
PCHAR = "ABCXYZabcxyz0189-._~!$&()*+,;=:@/%"


def url_in(command: list[str]) -> str:
    """The one string literal passed to `urlopen` in the generated `python -c` program."""
    assert command[:3] == ["CMD", "python", "-c"]
    tree = ast.parse(command[3])
    (call,) = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "urlopen"
    ]
    first = call.args[0]
    assert isinstance(first, ast.Constant) and isinstance(first.value, str)
    return first.value


@settings(max_examples=300, deadline=None)
@given(path=st.text(max_size=300), port=st.integers(1, 65535))
def test_every_accepted_path_gives_a_command_that_requests_exactly_it(path: str, port: int) -> None:
    try:
        container.validate_health_check_path(path)
    except ValueError:
        return
    spec = container.ContainerSpec(name="api", port=port, health_check_path=path)
    assert url_in(spec.health_command() or []) == f"http://127.0.0.1:{port}{path}"


@settings(max_examples=300, deadline=None)
@given(path=st.text(alphabet=PCHAR, max_size=60).map(lambda p: "/" + p), port=st.integers(1, 65535))
def test_rfc3986_paths_are_accepted_and_parse(path: str, port: int) -> None:
    """Generated from the allowed alphabet, so the property above is not vacuous."""
    try:
        container.validate_health_check_path(path)
    except ValueError:
        assert "%" in path  # only a `%` not followed by two hex digits is refused
        return
    spec = container.ContainerSpec(name="api", port=port, health_check_path=path)
    assert url_in(spec.health_command() or []) == f"http://127.0.0.1:{port}{path}"


@pytest.mark.parametrize(
    "path", ["/x'", '/x"', "/a b", "/a\\b", "/a\nb", "/é", "/x?y=1", "/x#f", "x", "", "/%zz", "/" * 258]
)  # fmt: skip
def test_unsafe_health_check_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="RFC 3986 path characters"):
        container.validate_health_check_path(path)


@pytest.mark.parametrize(
    "user", ["10001", "10001:10001", "app", "app:staff", "_svc:_grp", "2147483647"]
)
def test_non_root_users_in_documented_shapes_are_accepted(user: str) -> None:
    assert container.validate_user(user) == user


def test_the_awsvpc_limits_are_the_ones_the_ecs_model_states() -> None:
    members = ECS.shape_for("AwsVpcConfiguration").members
    assert f"limit of {network.MAX_SUBNETS} subnets" in members["subnets"].documentation
    assert (
        f"limit of {network.MAX_SECURITY_GROUPS} security groups"
        in members["securityGroups"].documentation
    )


def test_the_name_rules_are_the_ones_the_ecs_model_states() -> None:
    rule = "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens"
    assert rule in ECS.shape_for("ContainerDefinition").members["name"].documentation
    assert rule in ECS.shape_for("Volume").members["name"].documentation
    port_name = ECS.shape_for("PortMapping").members["name"].documentation
    assert "up to 64 characters" in port_name and "can't start with a hyphen" in port_name
    assert container.ECS_NAME.fullmatch("a" * 255) and not container.ECS_NAME.fullmatch("a" * 256)
    assert not container.PORT_MAPPING_NAME.fullmatch(
        "-a"
    ) and not container.PORT_MAPPING_NAME.fullmatch("a_b")


@pytest.mark.parametrize("stack", ["dev", "a" * 44])
def test_every_name_derived_from_an_accepted_service_name_is_valid(stack: str) -> None:
    names = StackNames(stack)
    longest = "-".join(["ab"] * 20)[:58].rstrip("-")
    for name in ("a", "api", "0-worker", longest):
        validate_service_name(name, names)
        assert container.ECS_NAME.fullmatch(names.family(name))
        assert container.PORT_MAPPING_NAME.fullmatch(container.port_mapping_name(name, 65535))
    for bad in ("", "Api", "a_b", "a--b", "-a", "a-", "a.b", "a/b", "ä", "a" * 59):
        with pytest.raises(ValueError, match="lowercase letters and digits"):
            validate_service_name(bad, names)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2001:db8::/32", "IPv4 blocks only"),
        ("10.0.0.1/16", "host bits set"),
        ("10.0.0.0/255.255.0.0", "write it as '10.0.0.0/16'"),
        ("010.0.0.0/8", "expected an IPv4 CIDR block"),
    ],
)
def test_ingress_cidrs_are_canonical_ipv4(value: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(".", r"\.")):
        network.validate_cidr(value)
