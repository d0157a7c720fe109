import re
import subprocess
import sys
from pathlib import Path

import yaml

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
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }

    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    assert used <= documented
    assert set(compose["services"]) == {"bot", "db"}
    assert compose["services"]["bot"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert compose["services"]["db"]["image"].startswith("postgres:16")
    for key in compose["services"]["bot"].get("environment", {}):
        assert key in documented
