"""Where `mai` keeps the site's address and the API token, and how the environment overrides them.

The file is `config.toml` in the user's configuration folder (`$XDG_CONFIG_HOME/mai/` or
`~/.config/mai/` on Linux, as `platformdirs` names it on macOS and Windows), written with mode 0600
because the token lets anyone act as its owner. `MAI_CONFIG` names another file; `MAI_URL` and
`MAI_TOKEN` override what the file says (a CI job or a device host needs no file at all).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from platformdirs import user_config_dir


class ConfigError(Exception):
    """The configuration is missing or unreadable; the message says what to do."""


@dataclass(frozen=True)
class Settings:
    url: str
    token: str
    source: str  # where the values came from, for messages


def config_path() -> Path:
    override = os.environ.get("MAI_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(user_config_dir("mai", appauthor=False)) / "config.toml"


def normalise_url(url: str) -> str:
    """`example.org` → `https://example.org`; no trailing slash. Refuses what is not an http(s) URL."""
    url = url.strip()
    if not url:
        raise ConfigError("The site URL is empty.")
    if "://" not in url:
        url = "https://" + url
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"The site URL must start with http:// or https://, not {scheme}://.")
    return url.rstrip("/")


def read_file(path: Path | None = None) -> dict:
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); run `mai login` again.") from exc
    return {k: v for k, v in data.items() if isinstance(v, str)}


def _toml_string(value: str) -> str:
    # A TOML basic string accepts JSON's escapes; non-ASCII stays readable.
    return json.dumps(value, ensure_ascii=False)


def write_file(*, url: str, token: str, path: Path | None = None) -> Path:
    """Writes the file readable by its owner only (0600), replacing the old one atomically."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = (
        "# Written by `mai login`. Keep it private: the token acts as you.\n"
        f"url = {_toml_string(url)}\ntoken = {_toml_string(token)}\n"
    )
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask or an older file may have left wider bits
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def remove_file(path: Path | None = None) -> bool:
    path = path or config_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def http_timeout_s() -> float:
    """Seconds to wait for each answer (`MAI_HTTP_TIMEOUT`, default 60): raise it on a slow link."""
    raw = os.environ.get("MAI_HTTP_TIMEOUT", "").strip()
    if not raw:
        return 60.0
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"MAI_HTTP_TIMEOUT must be a number of seconds, not “{raw}”.") from None
    if value <= 0:
        raise ConfigError("MAI_HTTP_TIMEOUT must be more than 0 seconds.")
    return value


def load() -> Settings:
    """The URL and token to use: the environment first, then the file. Raises ConfigError with the next
    step when either is missing."""
    data = read_file()
    url = os.environ.get("MAI_URL") or data.get("url", "")
    token = os.environ.get("MAI_TOKEN") or data.get("token", "")
    source = "environment" if os.environ.get("MAI_URL") or os.environ.get("MAI_TOKEN") else str(config_path())
    if not url:
        raise ConfigError("No site configured: run `mai login --url URL --token TOKEN` (or set MAI_URL).")
    if not token:
        raise ConfigError(
            "No API token configured: create one on the site's API tokens page, then run "
            "`mai login --url URL --token TOKEN` (or set MAI_TOKEN)."
        )
    return Settings(url=normalise_url(url), token=token.strip(), source=source)
