"""make sam-local-env: the files `sam local` needs, read back the way SAM CLI reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.local.lambdafn.env_vars import EnvironmentVariables

from deploy.sam_local import main, secrets_server
from lockbox_local.template import TEMPLATE_PATH, load_template, resources_of_type

FUNCTION_IDS = sorted(resources_of_type(load_template(), "AWS::Serverless::Function"))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, str]], str]:
    out = tmp_path_factory.mktemp("sam-local")
    assert main(["env", "--dynamodb-port", "8123", "--out", str(out)]) == 0
    env = json.loads((out / "env.json").read_text())
    return env, (out / "parameter-overrides.txt").read_text().strip()


def overrides(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split())


def test_env_file_names_every_function(written: tuple[dict[str, dict[str, str]], str]) -> None:
    env, _ = written

    assert sorted(env) == FUNCTION_IDS


def test_overrides_are_template_parameters(written: tuple[dict[str, dict[str, str]], str]) -> None:
    _, text = written

    assert overrides(text) == {
        "LocalDynamoDBEndpoint": "http://127.0.0.1:8123",
        "LocalSecretsManagerEndpoint": "http://127.0.0.1:4583",
    }
    assert set(overrides(text)) <= set(load_template()["Parameters"])


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_sam_cli_gives_the_function_the_local_services(
    written: tuple[dict[str, dict[str, str]], str], function_id: str
) -> None:
    """As sam local resolves it: DynamoDB Local, the emulator, the local table and secret names."""
    env, text = written
    # As `sam local` reads the template: language extensions on (samconfig.toml).
    stacks, _ = SamLocalStackProvider.get_stacks(
        str(TEMPLATE_PATH), parameter_overrides=overrides(text), language_extensions_enabled=True
    )
    function = SamFunctionProvider(stacks, ignore_code_extraction_warnings=True).get(function_id)
    assert function is not None
    variables = EnvironmentVariables(
        function.name,
        function.memory,
        function.timeout,
        function.handler,
        variables=function.environment["Variables"],
        override_values=env[function_id],
    ).resolve()

    assert variables["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:8123"
    assert variables["AWS_ENDPOINT_URL_SECRETS_MANAGER"] == "http://127.0.0.1:4583"
    assert variables["USERS_TABLE"] == "UsersTable"
    assert variables["ITEMS_TABLE"] == "ItemsTable"
    assert variables["JWT_SECRET_ID"] == "JwtSigningKey"
    assert [layer.name for layer in function.layers] == ["CommonLayer"]


def test_secrets_emulator_serves_the_local_key_under_its_local_name(tmp_path: Path) -> None:
    """Given the local stack's kept key, the emulator answers GetSecretValue for it under the
    name env.json gives the functions (the logical id)."""
    (tmp_path / "secrets.json").write_text(json.dumps({"JwtSigningKey": "k" * 64}))
    server = secrets_server(tmp_path, port=0).start()
    try:
        answer = server.client().get_secret_value(SecretId="JwtSigningKey")
        assert answer["SecretString"] == "k" * 64
        assert answer["VersionStages"] == ["AWSCURRENT"]
    finally:
        server.stop()
