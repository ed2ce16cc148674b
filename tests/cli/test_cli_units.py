"""The client without the site: what users type (tracks, shapes, authors), the server's error bodies
turned into messages, the config file, the package importing nothing of the site, and `mai` run as a
subprocess against a site that cannot be reached."""

import http.server
import os
import socket
import stat
import subprocess
import sys
import threading

import click
import httpx
import pytest
from mai_cli import config
from mai_cli.api import ApiClient, ApiError, body_messages, server_message
from mai_cli.output import fmt_number, table
from mai_cli.parsing import parse_author, parse_paper, parse_shape, parse_track
from rich.console import Console


@pytest.mark.parametrize(
    ("typed", "workshop", "challenge"),
    [
        ("mai-2021/image-denoising", "mai-2021", "image-denoising"),
        (
            "/mai-2021/challenges/image-denoising/",
            "mai-2021",
            "image-denoising",
        ),  # pasted from the address bar
        (" mai-live/quantized-sr/ ", "mai-live", "quantized-sr"),
    ],
)
def test_track_is_workshop_slash_challenge(typed, workshop, challenge):
    track = parse_track(typed)
    assert (track.workshop, track.challenge) == (workshop, challenge)
    assert track.api == f"/api/challenges/{workshop}/{challenge}/"
    assert track.final_api == f"/api/final/{workshop}/{challenge}/"
    assert str(track) == f"{workshop}/{challenge}"


@pytest.mark.parametrize("typed", ["image-denoising", "mai-2021/", "mai 2021/sr", "a/b/c", ""])
def test_a_malformed_track_says_how_to_write_one(typed):
    with pytest.raises(
        click.BadParameter, match=r"write WORKSHOP/CHALLENGE, e\.g\. mai-2021/image-denoising"
    ):
        parse_track(typed)


def test_paper_reference():
    assert parse_paper("mai-2021/12").api == "/api/conference/papers/mai-2021/12/"
    assert parse_paper("/mai-2021/papers/7/").number == 7
    with pytest.raises(click.BadParameter, match="WORKSHOP/NUMBER"):
        parse_paper("mai-2021/twelve")


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("1x480x720x3", "1x480x720x3"),
        ("1×480×720×3", "1x480x720x3"),
        ("1x64x64x3; 1x10", "1x64x64x3;1x10"),
        ("224", "224"),
    ],
)
def test_shape(typed, sent):
    assert parse_shape(typed) == sent


@pytest.mark.parametrize("typed", ["", "1x", "1,480,720,3", "1x-3", "axb"])
def test_a_malformed_shape_is_refused_before_anything_is_uploaded(typed):
    with pytest.raises(click.BadParameter, match="e.g. 1x480x720x3"):
        parse_shape(typed)


def test_author():
    assert parse_author("Ada Lovelace <ada@uni.example>, University of Examples") == {
        "name": "Ada Lovelace",
        "email": "ada@uni.example",
        "affiliation": "University of Examples",
    }
    assert parse_author("Bo <bo@lab.example>")["affiliation"] == ""
    with pytest.raises(click.BadParameter, match="Name <email>, Affiliation"):
        parse_author("Ada Lovelace, ada@uni.example")


@pytest.mark.parametrize(
    ("value", "precision", "shown"),
    [
        (24.5512, 2, "24.55"),  # PSNR to the track's precision
        (0.61224, 4, "0.6122"),
        (0.002491, 2, "0.0025"),  # a small standard deviation in ms, not "0.00"
        (3.49955e13, 4, "3.4996e+13"),  # a score of 2^(2·PSNR) / (C·runtime)
        (0.0, 2, "0.00"),
        (20, 2, "20"),
        (None, 2, "–"),
        (True, 2, "yes"),
    ],
)
def test_numbers_as_tables_show_them(value, precision, shown):
    assert fmt_number(value, precision) == shown


def test_an_empty_table_says_there_is_nothing_rather_than_printing_an_empty_grid():
    console = Console(width=100, record=True, color_system=None)
    console.print(table("mai-live/image-denoising: validation submissions", ["Submission", "Status"], []))
    lines = [line.strip() for line in console.export_text().splitlines() if line.strip()]
    assert lines[-1] == "Nothing to show yet."
    console.print(table(None, ["Submission", "Status"], [("7", "done")]))
    assert "Nothing to show yet." not in console.export_text()


def test_error_bodies_become_the_servers_lines():
    # The site's errors: a summary in `detail`, the lines in `errors`, per field in `fields`.
    assert body_messages(
        {
            "detail": "file: No file was submitted.",
            "code": "invalid",
            "errors": ["file: No file was submitted."],
            "fields": {"file": ["No file was submitted."]},
        }
    ) == ["file: No file was submitted."]
    assert body_messages(
        {"detail": "Two problems.", "errors": ["The zip holds no image.", "Limit reached."]}
    ) == ["Two problems.", "The zip holds no image.", "Limit reached."]
    assert body_messages({"detail": "This API token was revoked.", "code": "token_revoked"}) == [
        "This API token was revoked."
    ]
    assert body_messages({"name": ["Too long."], "scope": ["Pick one."]}) == [
        "name: Too long.",
        "scope: Pick one.",
    ]


def test_a_non_json_answer_is_named_by_its_status_and_heading():
    page = httpx.Response(
        502, headers={"content-type": "text/html"}, text="<html><h1>Bad Gateway</h1><p>nginx</p></html>"
    )
    assert server_message(page) == "HTTP 502 Bad Gateway: Bad Gateway"
    assert server_message(httpx.Response(500, text="")) == "HTTP 500 Internal Server Error"


class _RedirectToHttps(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(301)
        self.send_header("Location", "https://site.example" + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_redirect_is_refused_with_the_url_to_use():
    """A site behind a proxy that sends http:// to https://: the POST is not silently turned into a GET."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _RedirectToHttps)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with (
            ApiClient(f"http://127.0.0.1:{server.server_port}", "t") as api,
            pytest.raises(ApiError) as caught,
        ):
            api.get("/api/me/")
    finally:
        server.shutdown()
        server.server_close()
    assert caught.value.status == 301
    assert "redirect to https://site.example/api/me/: check the site URL" in caught.value.message


def test_config_file_is_private_and_the_environment_wins(tmp_path, monkeypatch):
    for name in ("MAI_URL", "MAI_TOKEN", "MAI_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    old = os.umask(0o000)  # even with a permissive umask
    try:
        path = config.write_file(url="https://site.example", token='mai_1_"quoted"\\')
    finally:
        os.umask(old)
    assert path == tmp_path / "mai" / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = config.load()
    assert (settings.url, settings.token) == ("https://site.example", 'mai_1_"quoted"\\')

    monkeypatch.setenv("MAI_TOKEN", "from-env")
    assert config.load().token == "from-env"
    monkeypatch.setenv("MAI_URL", "other.example/")
    assert config.load().url == "https://other.example"

    path.write_text("url = [unclosed")
    monkeypatch.delenv("MAI_URL")
    with pytest.raises(config.ConfigError, match="not valid TOML"):
        config.load()


def test_url_must_be_http():
    assert config.normalise_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    with pytest.raises(config.ConfigError, match="must start with http:// or https://"):
        config.normalise_url("ftp://site.example")


def test_the_client_imports_nothing_of_the_site():
    """It runs on a laptop or a device host without Django, TensorFlow or a database driver."""
    code = (
        "import sys, mai_cli.cli; "
        "bad = [m for m in ('django', 'tensorflow', 'psycopg', 'celery', 'numpy') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_site_that_cannot_be_reached_gets_a_clear_message(mai):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    refused = mai("whoami", env={"MAI_URL": f"http://127.0.0.1:{port}", "MAI_TOKEN": "x"})
    assert refused.returncode == 3
    assert refused.stderr.splitlines()[0] == (
        f"Error: Cannot connect to http://127.0.0.1:{port}: connection refused (is the site running at this address?)."
    )

    # A server that accepts the connection and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        slow = mai("devices", "--json", env={"MAI_URL": url, "MAI_TOKEN": "x", "MAI_HTTP_TIMEOUT": "1"})
    assert slow.returncode == 3
    assert slow.json()["error"].startswith(f"{url} did not answer in time")

    nothing = mai("whoami")
    assert nothing.returncode == 1
    assert "run `mai login --url URL --token TOKEN`" in nothing.stderr
