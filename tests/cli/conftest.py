"""Fixtures of the command-line tests: `mai` run as a subprocess, as a user runs it, with a config folder
of its own; API tokens made on the tokens page; the challenge and device fixtures of the other apps."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import html
from tests.challenges.conftest import denoising, live, participant  # noqa: F401 - fixtures reused here
from tests.conference.paper_fixtures import author, chair, edition  # noqa: F401 - fixtures reused here
from tests.evaluation.conftest import device_host, device_worker, registered  # noqa: F401 - fixtures reused here
from tests.finalphase.conftest import challenge, workshop  # noqa: F401 - fixtures reused here


@dataclass
class Run:
    """One `mai` run: its exit status and what it printed."""

    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def mai_command() -> list[str]:
    """The `mai` console script the client package installs next to this Python (`make install`)."""
    script = Path(sys.executable).parent / "mai"
    assert script.exists(), (
        f"{script} is missing: install the client (`make install` or `pip install -e client/`)"
    )
    return [str(script)]


@pytest.fixture
def mai(tmp_path):
    """mai(*args, env={…}, timeout=…) → Run. Each test gets a config folder and home of its own, and no
    MAI_* variable leaks in from the environment running the tests."""
    home = tmp_path / "home"
    home.mkdir()

    def run(*args: str, env: dict | None = None, timeout: float = 120) -> Run:
        base = {k: v for k, v in os.environ.items() if not k.startswith("MAI_")}
        base.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "COLUMNS": "200"})
        base.update(env or {})
        proc = subprocess.run(
            [*mai_command(), *args], capture_output=True, text=True, env=base, timeout=timeout, check=False
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    run.home = home
    run.config_file = home / ".config" / "mai" / "config.toml"
    return run


@pytest.fixture
def token_from_page(client):
    """token_from_page(user, name=…, scope="submit") → (the secret the tokens page shows once, its row id).
    The user signs in and fills in the form at /account/tokens/ as in a browser."""

    def make(user, *, name="laptop", scope="submit") -> tuple[str, str]:
        client.force_login(user)
        response = client.post("/account/tokens/", {"name": name, "scope": scope})
        assert response.status_code == 200
        secret = html.text(response, data_testid="token-secret")
        assert secret, "the tokens page showed no new token"
        from apitokens.models import ApiToken

        token = ApiToken.objects.get(user=user, name=name)
        return secret.strip(), token.pk

    return make


@pytest.fixture
def revoke_on_page(client):
    """revoke_on_page(user, token_id): the "Revoke" button of the tokens page."""

    def revoke(user, token_id):
        client.force_login(user)
        response = client.post(f"/account/tokens/{token_id}/revoke/", follow=True)
        assert response.status_code == 200
        return response

    return revoke
