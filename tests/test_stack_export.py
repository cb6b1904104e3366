"""`stack export` and `stack import`, on SQLite and PostgreSQL: round trip, no secret values, ZenML's format."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.errors import ConflictError
from tests.helpers import cli, cli_json, raw_rows

FIXTURE = Path(__file__).parent / "fixtures" / "zenml_stack_import_example.yaml"
SECRET_KEY_VALUE = "wJalrXUtnFEMI-not-a-real-key-7Q"
ACCESS_KEY_ID = "AKIAEXAMPLE0000"
MLFLOW_PASSWORD = "correct-horse-battery-staple"
ZENML_REFERENCE = re.compile(r"^\{\{[a-z0-9][a-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*\}\}$")


def _run(*args: str) -> None:
    result = cli(*args)
    assert result.exit_code == 0, (args, result.stderr)


def _register_example() -> None:
    """A connector with a plain secret (owned) and a reference to a user's secret, three components, a stack."""
    _run("secret", "set", "--value-in-args", "aws-creds", f"secret_key={SECRET_KEY_VALUE}", "-l", "team=ml")
    _run("connector", "register", "aws-staging", "--type", "aws", "--auth-method", "secret-key",
         "-c", "region=eu-west-1", "--value-in-args", "-c", f"aws_access_key_id={ACCESS_KEY_ID}",
         "-c", "aws_secret_access_key={{secret:aws-creds.secret_key}}", "--env", "staging", "-l", "team=ml")
    _run("component", "register", "k8s", "-t", "orchestrator", "-f", "kubernetes",
         "-c", "kubernetes_context=staging", "-c", "namespace=pipelines", "--connector", "aws-staging")
    _run("component", "register", "bucket", "-t", "artifact_store", "-f", "s3",
         "-c", "path=s3://team-artifacts", "--connector", "aws-staging", "-l", "env=staging")
    _run("component", "register", "tracker", "-t", "experiment_tracker", "-f", "mlflow",
         "-c", "tracking_uri=https://mlflow.example.com", "-c", "tracking_username=admin",
         "--value-in-args", "-c", f"tracking_password={MLFLOW_PASSWORD}", "-l", "team=ml")
    _run("stack", "register", "staging", "-c", "k8s", "-c", "bucket", "-c", "tracker", "--env", "staging", "-l", "team=ml")


def _delete_example() -> None:
    """Delete the stack, its components and connector; their owned secrets go with them, aws-creds stays."""
    for args in (("stack", "delete", "staging"), ("component", "delete", "k8s"), ("component", "delete", "bucket"),
                 ("component", "delete", "tracker"), ("connector", "delete", "aws-staging")):
        _run(*args)


def _recreate_owned_secrets() -> None:
    """What the user does after a delete: store the values of the owned secrets again, by hand."""
    _run("secret", "set", "--value-in-args", "component-tracker", f"tracking_password={MLFLOW_PASSWORD}")
    _run("secret", "set", "--value-in-args", "connector-aws-staging", f"aws_access_key_id={ACCESS_KEY_ID}")


def _without_timestamps(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_timestamps(v) for k, v in data.items() if k not in ("created_at", "updated_at")}
    if isinstance(data, list):
        return [_without_timestamps(item) for item in data]
    return data


def _export(*args: str, name: str = "staging") -> str:
    result = cli("stack", "export", name, *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _secret_owners() -> dict[str, Any]:
    return {s["name"]: (s["owner"], s["keys"]) for s in cli_json("secret", "list")}


@pytest.mark.parametrize("file_format", ["json", "yaml"])
def test_round_trip_reproduces_the_stack_exactly(store_url: str, tmp_path: Path, file_format: str) -> None:
    _register_example()
    before = cli_json("stack", "describe", "staging")
    owners_before = _secret_owners()
    exported = tmp_path / f"staging.{file_format}"
    assert cli("stack", "export", "staging", "--format", file_format, "--file", str(exported)).exit_code == 0
    assert not {SECRET_KEY_VALUE, ACCESS_KEY_ID, MLFLOW_PASSWORD} & set(re.findall(r"[\w-]+", exported.read_text()))
    _delete_example()
    _recreate_owned_secrets()

    result = cli("stack", "import", str(exported))

    assert result.exit_code == 0, result.stderr
    after = cli_json("stack", "describe", "staging")
    assert _without_timestamps(after) == _without_timestamps(before)
    assert after["created_at"] != before["created_at"]  # really re-created
    # the references resolve to the same values, and the owned secrets are owned again
    shown = cli_json("stack", "describe", "staging", "--show-secrets")
    assert shown["components"]["experiment_tracker"]["config"]["tracking_password"] == MLFLOW_PASSWORD
    connector = shown["components"]["artifact_store"]["connector"]["configuration"]
    assert connector["aws_secret_access_key"] == SECRET_KEY_VALUE
    assert connector["aws_access_key_id"] == ACCESS_KEY_ID
    assert _secret_owners() == owners_before
    assert "owned by component 'tracker' again" in result.stderr
    # and ownership behaves as before: updating the password goes to the owned secret
    _run("component", "update", "tracker", "--value-in-args", "-c", "tracking_password=rotated")


def test_export_holds_the_whole_stack_with_references_and_secret_names_only(store_url: str) -> None:
    _register_example()

    document = json.loads(_export("--format", "json"))

    assert (document["format"], document["version"]) == ("provisioner-stack", 1)
    assert document["stack"] == {"name": "staging", "labels": {"env": "staging", "team": "ml"}}
    components = {c["name"]: c for c in document["components"]}
    assert set(components) == {"k8s", "bucket", "tracker"}
    assert components["tracker"] == {
        "name": "tracker",
        "type": "experiment_tracker",
        "flavor": "mlflow",
        "config": {
            "tracking_uri": "https://mlflow.example.com",
            "tracking_username": "admin",
            "tracking_password": "{{secret:component-tracker.tracking_password}}",
            "tracking_insecure_tls": False,
        },
        "labels": {"team": "ml"},
        "connector": None,
    }
    assert components["bucket"]["connector"] == "aws-staging"
    [connector] = document["connectors"]
    assert connector["name"] == "aws-staging" and connector["env"] == "staging"
    assert connector["auth_method"] == "secret-key" and connector["labels"] == {"team": "ml"}
    assert connector["configuration"]["aws_secret_access_key"] == "{{secret:aws-creds.secret_key}}"
    assert document["secrets"] == [
        {"name": "aws-creds", "keys": ["secret_key"], "owner": None},
        {"name": "component-tracker", "keys": ["tracking_password"], "owner": "component:tracker"},
        {"name": "connector-aws-staging", "keys": ["aws_access_key_id"], "owner": "connector:aws-staging"},
    ]


@pytest.mark.parametrize("file_format", ["json", "yaml", "zenml"])
def test_export_text_contains_no_secret_value(store_url: str, file_format: str) -> None:
    _register_example()

    result = cli("stack", "export", "staging", "--format", file_format)

    assert result.exit_code == 0, result.stderr
    for text in (result.stdout, result.stderr):
        for value in (SECRET_KEY_VALUE, ACCESS_KEY_ID, MLFLOW_PASSWORD):
            assert value not in text
    assert "tracking_password" in result.stdout  # the field is there, as a reference


def test_yaml_and_json_exports_hold_the_same_document(store_url: str) -> None:
    _register_example()

    assert yaml.safe_load(_export("--format", "yaml")) == json.loads(_export("--format", "json"))


def test_zenml_export_has_the_shape_of_zenml_stack_import_files(store_url: str) -> None:
    _register_example()
    fixture = yaml.safe_load(FIXTURE.read_text())

    exported = yaml.safe_load(_export("--format", "zenml"))

    assert set(exported) == set(fixture) == {"stack_name", "zenml_version", "components"}
    assert exported["zenml_version"] == fixture["zenml_version"]
    assert exported["stack_name"] == "staging"
    for document in (fixture, exported):
        for component_type, entries in document["components"].items():
            assert isinstance(entries, list) and entries
            for entry in entries:
                assert set(entry) == {"name", "type", "flavor", "configuration"}
                assert entry["type"] == component_type
    assert set(exported["components"]) == {"orchestrator", "artifact_store", "experiment_tracker"}
    [tracker] = exported["components"]["experiment_tracker"]
    assert tracker["flavor"] == "mlflow"
    assert tracker["configuration"]["tracking_password"] == "{{component-tracker.tracking_password}}"
    assert ZENML_REFERENCE.match(fixture["components"]["experiment_tracker"][0]["configuration"]["tracking_password"])
    references = [v for e in _entries(exported) for v in e["configuration"].values() if "{{" in str(v)]
    assert references and all(ZENML_REFERENCE.match(v) for v in references)
    assert "{{secret:" not in _export("--format", "zenml")
    [orchestrator] = exported["components"]["orchestrator"]
    assert orchestrator["configuration"] == {"kubernetes_context": "staging", "kubernetes_namespace": "pipelines"}


def test_every_builtin_flavor_maps_onto_the_fields_of_zenmls_flavor() -> None:
    """Each of our config fields becomes a field of ZenML 0.98.0's config class (as recorded from the
    installed package), or is dropped for a stated reason; ZenML's required fields all come from ours."""
    from provisioner.exports import zenml
    from provisioner.registry.flavors import FlavorRegistry

    gaps = {}
    for flavor in FlavorRegistry.load().all():
        key = (flavor.type, flavor.name)
        schema = zenml.zenml_flavor(*key)
        assert schema is not None, f"ZenML ships no {flavor.type.value} flavor {flavor.name!r}"
        renamed = zenml.ZENML_CONFIG_FIELDS.get(key, {})
        dropped = zenml.ZENML_DROPPED_FIELDS.get(key, {})
        theirs = {renamed.get(name, name).split(".")[0] for name in flavor.config_class.model_fields if name not in dropped}
        assert theirs <= set(schema["fields"]), (key, theirs - set(schema["fields"]))
        required = {name for name, field in schema["fields"].items() if field["required"]}
        if required - theirs:
            gaps[f"{flavor.type.value}/{flavor.name}"] = sorted(required - theirs)

    assert gaps == {"model_deployer/seldon": ["kubernetes_secret_name", "secret"]}


def test_zenml_export_splits_an_ecr_uri_and_names_the_sagemaker_bucket(store_url: str) -> None:
    _run("component", "register", "orch", "-t", "orchestrator", "-f", "local")
    _run("component", "register", "art", "-t", "artifact_store", "-f", "s3", "-c", "path=s3://art/prefix")
    _run("component", "register", "ecr", "-t", "container_registry", "-f", "aws",
         "-c", "uri=123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-images")
    _run("component", "register", "sm", "-t", "step_operator", "-f", "sagemaker",
         "-c", "role=arn:aws:iam::123456789012:role/sm", "-c", "bucket=s3://art/prefix")
    _run("component", "register", "models", "-t", "model_registry", "-f", "mlflow", "-c", "tracking_uri=https://mlflow.example.com")
    _run("stack", "register", "s", "-c", "orch", "-c", "art", "-c", "ecr", "-c", "sm", "-c", "models")

    exported = yaml.safe_load(_export("--format", "zenml", name="s"))["components"]

    assert exported["container_registry"][0]["configuration"] == {
        "uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "default_repository": "team-images",
    }
    assert exported["step_operator"][0]["configuration"]["bucket"] == "art"
    assert exported["model_registry"][0]["configuration"] == {}


def test_a_stack_zenml_cannot_take_is_refused_in_one_line_naming_the_field(store_url: str, tmp_path: Path) -> None:
    _run("component", "register", "orch", "-t", "orchestrator", "-f", "local")
    _run("component", "register", "art", "-t", "artifact_store", "-f", "local", "-c", f"path={tmp_path}")
    _run("component", "register", "serve", "-t", "model_deployer", "-f", "seldon",
         "-c", "base_url=https://seldon.example.com", "-c", "kubernetes_context=kind-dev")
    _run("stack", "register", "s", "-c", "orch", "-c", "art", "-c", "serve")

    result = cli("stack", "export", "s", "--format", "zenml", "--file", str(tmp_path / "s.yaml"))

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: component 'serve' (model_deployer flavor 'seldon'): ZenML 0.98.0's flavor requires "
        "'kubernetes_secret_name', 'secret'"
    ]
    assert not (tmp_path / "s.yaml").exists()


def _entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry for entries in document["components"].values() for entry in entries]


def test_secrets_script_has_one_create_per_secret_with_placeholders(store_url: str, tmp_path: Path) -> None:
    _register_example()
    _run("component", "update", "tracker", "-c", "tracking_username={{secret:aws-creds.secret_key}}")
    script = tmp_path / "secrets.sh"

    result = cli("stack", "export", "staging", "--format", "zenml", "--secrets-script", str(script))

    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(script.stat().st_mode) == 0o700
    text = script.read_text()
    creates = [line for line in text.splitlines() if line.startswith("zenml secret create")]
    assert creates == [
        'zenml secret create aws-creds --values=@"$values"',
        'zenml secret create component-tracker --values=@"$values"',
    ]
    assert [json.loads(line) for line in text.splitlines() if line.startswith("{")] == [
        {"secret_key": "<value>"}, {"tracking_password": "<value>"},
    ]
    assert any(line.startswith("#") and "placeholder" in line for line in text.splitlines())
    assert "\nexit 1" in text  # the script refuses to run until the placeholders are filled in
    for value in (SECRET_KEY_VALUE, MLFLOW_PASSWORD):
        assert value not in text + result.stdout + result.stderr


def test_secrets_script_holds_real_values_only_with_show_secrets(store_url: str, tmp_path: Path) -> None:
    _register_example()
    script = tmp_path / "secrets.sh"
    script.write_text("old")
    script.chmod(0o755)

    result = cli("stack", "export", "staging", "--format", "zenml", "--secrets-script", str(script), "--show-secrets", "--force")

    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(script.stat().st_mode) == 0o700
    text = script.read_text()
    assert f'{{"tracking_password": "{MLFLOW_PASSWORD}"}}\nZENML_SECRET_VALUES\nzenml secret create component-tracker --values=@"$values"' in text
    assert not any(MLFLOW_PASSWORD in line for line in text.splitlines() if line.startswith("zenml"))  # never an argument
    assert "<value>" not in text and "\nexit 1" not in text
    assert MLFLOW_PASSWORD not in result.stdout + result.stderr  # only in the script


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("existing", id="existing-file-without-force"),
        pytest.param("symlink", id="symlink-even-with-force"),
        pytest.param("home", id="inside-the-home"),
    ],
)
@pytest.mark.parametrize("option", ["--file", "--secrets-script"])
def test_export_refuses_unsafe_output_paths_and_writes_nothing(tmp_path: Path, target: str, option: str) -> None:
    _register_example()
    home = Path(os.environ["PROVISIONER_HOME"])
    key_before = (home / "secrets.key").read_bytes()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    extra: list[str] = []
    if target == "existing":
        path = victim
    elif target == "symlink":
        path = tmp_path / "link.yaml"
        path.symlink_to(victim)
        extra = ["--force"]
    else:
        path = home / "secrets.key"
        extra = ["--force"]

    result = cli("stack", "export", "staging", "--format", "zenml", option, str(path), *extra)

    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")
    assert victim.read_text() == "precious"
    assert (home / "secrets.key").read_bytes() == key_before


def test_secret_commands_go_to_stderr_without_a_script_file(store_url: str) -> None:
    _register_example()

    result = cli("stack", "export", "staging", "--format", "zenml")

    assert '{"tracking_password": "<value>"}\nZENML_SECRET_VALUES\nzenml secret create component-tracker --values=@"$values"' in result.stderr
    assert "zenml secret create" not in result.stdout
    yaml.safe_load(result.stdout)  # stdout stays a clean YAML file


def test_exporting_a_stack_restricted_to_others_is_refused_with_or_without_secrets(store_url: str) -> None:
    os.environ["PROVISIONER_USER"] = "alice"
    _register_example()
    _run("user", "set", "bob", "member")
    _run("stack", "grant", "staging", "alice")
    os.environ["PROVISIONER_USER"] = "bob"

    plain = cli("stack", "export", "staging", "--format", "zenml")
    shown = cli("stack", "export", "staging", "--format", "zenml", "--show-secrets")

    # A member may not even read a stack restricted to others, so not export it either.
    assert plain.exit_code == 2 and "reading stacks: stack 'staging' is restricted to alice" in plain.stderr
    assert shown.exit_code == 2 and "restricted to alice" in shown.stderr
    assert plain.stdout == shown.stdout == ""  # nothing written when refused


@pytest.mark.parametrize("flag", [("--show-secrets",), ("--secrets-script", "s.sh")])
def test_own_format_refuses_secret_options(store_url: str, flag: tuple[str, ...]) -> None:
    _register_example()

    result = cli("stack", "export", "staging", "--format", "yaml", *flag)

    assert result.exit_code == 2
    assert "go with --format zenml" in result.stderr


def _exported(tmp_path: Path) -> Path:
    path = tmp_path / "staging.yaml"
    assert cli("stack", "export", "staging", "--format", "yaml", "--file", str(path)).exit_code == 0
    return path


def _refused(store_url: str, args: tuple[str, ...], *messages: str) -> None:
    before = raw_rows(store_url)
    result = cli(*args)
    assert result.exit_code == 2, result.output
    for message in messages:
        assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert raw_rows(store_url) == before


def test_import_refuses_taken_names_and_writes_nothing(store_url: str, tmp_path: Path) -> None:
    _register_example()
    path = _exported(tmp_path)

    _refused(store_url, ("stack", "import", str(path)), "stack 'staging' already exists",
             "component 'tracker' already exists", "connector 'aws-staging' already exists")
    _refused(store_url, ("stack", "import", str(path), "--name", "staging"), "stack 'staging' already exists",
             "component 'tracker' already exists", "connector 'aws-staging' already exists")


def test_import_under_a_new_name_renames_everything_it_creates_so_the_copy_sits_beside_the_original(
    store_url: str, tmp_path: Path
) -> None:
    _register_example()
    path = _exported(tmp_path)

    copied = cli("stack", "import", str(path), "--name", "copy")

    assert copied.exit_code == 0, copied.stderr
    assert sorted(s["name"] for s in cli_json("stack", "list")) == ["copy", "staging"]
    copy = cli_json("stack", "describe", "copy")
    assert {t: c["name"] for t, c in copy["components"].items()} == {
        "orchestrator": "copy-k8s", "artifact_store": "copy-bucket", "experiment_tracker": "copy-tracker"}
    assert copy["components"]["artifact_store"]["connector"]["name"] == "copy-aws-staging"
    assert sorted(c["name"] for c in cli_json("connector", "list")) == ["aws-staging", "copy-aws-staging"]
    # the original is untouched
    assert cli_json("stack", "describe", "staging")["components"]["artifact_store"]["connector"]["name"] == "aws-staging"


def test_import_refuses_a_missing_secret_and_writes_nothing(store_url: str, tmp_path: Path) -> None:
    _register_example()
    path = _exported(tmp_path)
    _delete_example()  # the owned secrets go with their component and connector

    _refused(store_url, ("stack", "import", str(path)),
             "secret 'component-tracker' does not exist (referenced by component 'tracker')",
             "secret 'connector-aws-staging' does not exist")
    _recreate_owned_secrets()
    assert cli("stack", "import", str(path)).exit_code == 0


def test_import_refuses_a_missing_secret_key(store_url: str, tmp_path: Path) -> None:
    _register_example()
    path = _exported(tmp_path)
    _delete_example()
    _run("secret", "set", "--value-in-args", "component-tracker", "password=wrong-key")
    _run("secret", "set", "--value-in-args", "connector-aws-staging", f"aws_access_key_id={ACCESS_KEY_ID}")

    _refused(store_url, ("stack", "import", str(path)), "secret 'component-tracker' has no key 'tracking_password'")


def test_import_under_a_new_name(store_url: str, tmp_path: Path) -> None:
    _register_example()
    path = _exported(tmp_path)
    _delete_example()
    _recreate_owned_secrets()

    assert cli("stack", "import", str(path), "--name", "staging-copy").exit_code == 0

    assert [s["name"] for s in cli_json("stack", "list")] == ["staging-copy"]
    assert cli_json("stack", "describe", "staging-copy")["labels"] == {"env": "staging", "team": "ml"}
    assert sorted(c["name"] for c in cli_json("component", "list")) == ["staging-copy-bucket", "staging-copy-k8s", "staging-copy-tracker"]


def test_import_refused_at_its_last_step_writes_nothing_and_keeps_the_secrets_as_they_were(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register_example()
    path = _exported(tmp_path)
    _delete_example()
    _recreate_owned_secrets()
    before = raw_rows(store_url)
    owners = _secret_owners()

    def fail(*args: Any, **kwargs: Any) -> None:
        raise ConflictError("stack 'staging' already exists (registered meanwhile)")

    monkeypatch.setattr("provisioner.registry.catalog.CatalogService.register_stack", fail)
    result = cli("stack", "import", str(path))

    assert result.exit_code == 2, result.output
    assert "registered meanwhile" in result.stderr
    after = raw_rows(store_url)
    for table in ("stacks", "stack_members", "components", "connectors"):
        assert after[table] == before[table] == [], table
    assert _secret_owners() == owners  # the re-created secrets are back, unowned, with their values
    shown = cli_json("secret", "describe", "component-tracker", "--show-secrets")
    assert shown["values"] == {"tracking_password": MLFLOW_PASSWORD}


def test_importing_connectors_needs_admin_and_members_may_not_refer_to_admin_secrets(store_url: str, tmp_path: Path) -> None:
    os.environ["PROVISIONER_USER"] = "alice"
    _register_example()
    _run("user", "set", "bob", "member")
    path = _exported(tmp_path)
    _delete_example()
    _recreate_owned_secrets()

    os.environ["PROVISIONER_USER"] = "bob"
    _refused(store_url, ("stack", "import", str(path)), "importing connectors needs the admin role")
    os.environ["PROVISIONER_USER"] = "alice"
    denied = [e for e in cli_json("audit", "--user", "bob") if e["action"] == "stack.import"]
    assert [e["result"] for e in denied] == ["denied"]

    # without connectors a member may import ...
    document = yaml.safe_load(path.read_text())
    document["connectors"] = []
    document["components"] = [c for c in document["components"] if c["connector"] is None]
    document["components"].append({"name": "store", "type": "artifact_store", "flavor": "local", "config": {"path": "/tmp/a"}})
    document["components"].append({"name": "orch", "type": "orchestrator", "flavor": "local"})
    document["stack"]["labels"] = {}
    components_only = tmp_path / "components-only.json"
    components_only.write_text(json.dumps(document))
    # ... except that its components refer to a plain (admin-only) secret, which a member may not read
    os.environ["PROVISIONER_USER"] = "bob"
    _refused(
        store_url, ("stack", "import", str(components_only)),
        "component 'tracker': reading secret values needs the admin role; 'bob' is a member",
    )


BAD_FILES = [
    pytest.param("stack_name: s\nzenml_version: 0.98.0\ncomponents: {}\n", "is a ZenML export", id="zenml-file"),
    pytest.param("format: provisioner-stack\nversion: 2\n", "format version 2", id="newer-version"),
    pytest.param("- a\n- b\n", "not a stack export", id="not-a-mapping"),
    pytest.param("format: provisioner-stack\nversion: 1\nstack: {name: s}\ncomponents: [{name: x}]\n", "field 'components.0.type'", id="bad-component"),
    pytest.param("{unclosed", "not valid YAML or JSON", id="not-yaml"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_import_refuses_files_that_are_not_our_export(store_url: str, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)

    _refused(store_url, ("stack", "import", str(path)), message)


def test_import_checks_flavors_and_configs_before_writing(store_url: str, tmp_path: Path) -> None:
    _register_example()
    document = json.loads(_export("--format", "json"))
    _delete_example()
    _recreate_owned_secrets()
    components = {c["name"]: c for c in document["components"]}
    components["bucket"]["config"]["path"] = "/not/s3"
    components["k8s"]["flavor"] = "airflow"
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))

    _refused(store_url, ("stack", "import", str(path)), "unknown flavor 'airflow'", "component 'bucket': invalid config")


def _document(tmp_path: Path, components: list[dict[str, Any]]) -> Path:
    path = tmp_path / "fresh.json"
    path.write_text(json.dumps({"format": "provisioner-stack", "version": 1, "stack": {"name": "fresh"}, "components": components}))
    return path


def test_import_reports_every_problem_at_once_and_registers_nothing(store_url: str, tmp_path: Path) -> None:
    _run("component", "register", "orch", "-t", "orchestrator", "-f", "local")
    path = _document(tmp_path, [
        {"name": "orch", "type": "orchestrator", "flavor": "local"},  # the name is taken
        {"name": "store", "type": "artifact_store", "flavor": "s3", "config": {"path": "/not/s3"}},  # invalid for s3
        {"name": "tracker", "type": "experiment_tracker", "flavor": "mlflow",  # its secret does not exist
         "config": {"tracking_uri": "https://mlflow.example.com", "tracking_password": "{{secret:mlflow.password}}"}},
    ])
    before = raw_rows(store_url)

    result = cli("stack", "import", str(path))

    assert result.exit_code == 2
    assert result.stderr == (
        "error: cannot import stack 'fresh', nothing was written: component 'orch' already exists; "
        "component 'store': invalid config for flavor 's3' (artifact_store): field 'path': path must start with s3:// (got '/not/s3'); "
        "secret 'mlflow' does not exist (referenced by component 'tracker'): "
        "create it first (provisioner secret set mlflow password)\n"
    )
    assert raw_rows(store_url) == before


def test_import_that_fails_at_its_last_write_leaves_no_row_behind(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provisioner.registry.store import Transaction

    _register_example()
    path = _exported(tmp_path)
    _delete_example()
    _recreate_owned_secrets()  # the import gives these back to their component and connector, then rolls that back
    before = raw_rows(store_url)

    def fail(self: Transaction, spec: Any) -> Any:
        raise RuntimeError("injected: the database went away at the stack's write")

    monkeypatch.setattr(Transaction, "save_stack", fail)
    result = cli("stack", "import", str(path))

    assert result.exit_code == 1
    assert "injected: the database went away at the stack's write" in result.stderr
    assert raw_rows(store_url) == before


def test_zenml_url_without_push_zenml_is_refused_before_anything(store_url: str) -> None:
    from tests.helpers import deploy_cli

    result = deploy_cli("aws", "--env", "dev", "--simulate", "--zenml-url", "http://127.0.0.1:9")

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == "error: --zenml-url goes with --push-zenml"
    assert raw_rows(store_url).get("stacks", []) == []  # nothing registered (the registry may not even exist yet)


def test_stack_push_without_a_zenml_url_says_where_to_give_one(store_url: str) -> None:
    result = cli("stack", "push", "anything")

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["error: no ZenML server: give --zenml-url URL or set ZENML_STORE_URL"]


def test_a_renamed_copy_of_a_deployed_stack_does_not_claim_its_deployment() -> None:
    from provisioner.exports.format import ExportedStack, StackExport
    from provisioner.exports.renaming import renamed
    from provisioner.registry.models import ComponentSpec, ConnectorSpec

    deployed = {"stack": "aws-staging", "env": "staging", "managed-by": "deploy-stack", "deployment": "abc", "recipe": "aws"}
    document = StackExport(
        stack=ExportedStack(name="aws-staging", labels=deployed),
        components=[ComponentSpec.model_validate({"name": "aws-staging-artifacts", "type": "artifact_store", "flavor": "s3",
                                                  "config": {"path": "s3://b"}, "labels": deployed, "connector": "aws-staging-aws"})],
        connectors=[ConnectorSpec.model_validate({"name": "aws-staging-aws", "type": "aws", "auth_method": "implicit",
                                                  "configuration": {"region": "eu-west-1"}, "labels": deployed})],
    )

    copy = renamed(document, "aws-qa")

    expected = {"stack": "aws-qa", "env": "staging", "recipe": "aws"}
    assert (copy.stack.name, copy.stack.labels) == ("aws-qa", expected)
    assert [(c.name, c.connector, c.labels) for c in copy.components] == [("aws-qa-artifacts", "aws-qa-aws", expected)]
    assert [(c.name, c.labels) for c in copy.connectors] == [("aws-qa-aws", expected)]


def test_deleting_the_original_of_a_renamed_copy_keeps_the_secrets_the_copy_references(store_url: str, tmp_path: Path) -> None:
    _register_example()
    path = _exported(tmp_path)
    assert cli("stack", "import", str(path), "--name", "copy").exit_code == 0

    for args in (("stack", "delete", "staging"), ("component", "delete", "tracker"), ("component", "delete", "k8s"),
                 ("component", "delete", "bucket"), ("connector", "delete", "aws-staging")):
        _run(*args)

    tracker = cli_json("component", "describe", "copy-tracker", "--show-secrets")
    assert tracker["config"]["tracking_password"] == MLFLOW_PASSWORD
    connector = cli_json("connector", "describe", "copy-aws-staging", "--show-secrets")
    assert connector["configuration"]["aws_access_key_id"] == ACCESS_KEY_ID
    owners = {s["name"]: s.get("owner") for s in cli_json("secret", "list")}
    assert owners == {"aws-creds": None, "component-tracker": None, "connector-aws-staging": None}  # kept, no longer owned


def test_deleting_a_component_nobody_else_references_still_deletes_its_owned_secret(store_url: str) -> None:
    _register_example()
    _delete_example()

    assert [s["name"] for s in cli_json("secret", "list")] == ["aws-creds"]
