import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"

    result = subprocess.run(
        [str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^USER (?!root|0\b)\S+", text, re.M)
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    assert 'ENTRYPOINT ["sellbot"]' in text
    assert 'CMD ["run"]' in text


def test_compose_parses_and_uses_only_documented_variables() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    documented = set(_documented_with_compose_only())

    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    assert used <= documented
    default = {name for name, service in compose["services"].items() if not service.get("profiles")}
    assert default == {"bot", "db"}  # the rest (monitoring) only with --profile
    assert compose["services"]["bot"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert compose["services"]["db"]["image"].startswith("postgres:16")
    for key in compose["services"]["bot"].get("environment", {}):
        assert key in documented


def _documented_with_compose_only() -> dict[str, str]:
    """`.env.example` values, plus the commented compose-only ones (`# NAME=value`)."""
    found: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.fullmatch(r"(?:# )?([A-Z][A-Z0-9_]*)=(.*)", line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${NAME:-default}` (default when unset or empty) and `${NAME}`."""

    def one(m: re.Match[str]) -> str:
        return env.get(m.group(1)) or (m.group(2) or "")

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}", one, value)


def _bot_environment(dotenv: dict[str, str]) -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"]["bot"]["environment"]
    return {key: _interpolate(str(value), dotenv) for key, value in env.items()}


def test_a_copy_of_env_example_logs_json_in_the_container_unless_asked() -> None:
    example = _documented_with_compose_only()
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^\s+SELLBOT_LOG_FORMAT=json\b", dockerfile, re.M)  # the image's default
    # compose's `environment:` wins over `env_file: .env`
    assert _bot_environment(example)["SELLBOT_LOG_FORMAT"] == "json"
    asked = {**example, "SELLBOT_LOG_FORMAT": "console"}
    assert _bot_environment(asked)["SELLBOT_LOG_FORMAT"] == "console"


def test_compose_postgres_password_comes_from_env_with_a_default() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    db_env = compose["services"]["db"]["environment"]

    assert "POSTGRES_PASSWORD" in _documented_with_compose_only()
    assert _interpolate(db_env["POSTGRES_PASSWORD"], {}) == "sellbot"
    chosen = {"POSTGRES_PASSWORD": "Chosen42"}
    assert _interpolate(db_env["POSTGRES_PASSWORD"], chosen) == "Chosen42"
    assert ":Chosen42@db:5432/" in _bot_environment(chosen)["DATABASE_URL"]


def test_compose_rotates_the_logs_of_every_service() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    for name in ("bot", "db"):
        logging = compose["services"][name]["logging"]
        assert logging["driver"] == "json-file"
        assert logging["options"]["max-size"]
        assert int(logging["options"]["max-file"]) >= 2


def test_dockerignore_keeps_secrets_state_and_caches_out() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert {".git", ".venv", ".env", "data", "tests", "build", "dist", "*.egg-info"} <= ignored


def test_runtime_image_drops_pip_and_setuptools() -> None:
    _, build, runtime = (ROOT / "Dockerfile").read_text().split("\nFROM ")

    assert "python -m pip uninstall --yes pip setuptools" in runtime  # the base interpreter's
    assert "COPY --from=build /opt/venv" in runtime
    assert "/opt/venv/bin/python -m pip uninstall --yes pip setuptools" in build


def _healthcheck_argv() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    m = re.search(r"^HEALTHCHECK .*?\n\s+CMD (\[.*?\])$", text, re.M | re.S)
    assert m, "HEALTHCHECK CMD [...] not found"
    argv: list[str] = json.loads(m.group(1))
    assert argv[0] == "python"
    return [sys.executable, *argv[1:]]


async def _healthcheck(port: str) -> int:
    env = {**os.environ, "SELLBOT_HTTP_PORT": port}
    proc = await asyncio.create_subprocess_exec(
        *_healthcheck_argv(),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(proc.wait(), timeout=30)


async def test_healthcheck_asks_healthz_and_passes_with_the_ops_port_disabled() -> None:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        assert await _healthcheck(str(port)) == 0
    finally:
        await runner.cleanup()

    assert await _healthcheck(str(port)) != 0  # nothing answers there now
    assert await _healthcheck("0") == 0  # SELLBOT_HTTP_PORT=0: no ops port, nothing to ask
