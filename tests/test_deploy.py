"""The container image as far as it can be tested without building it (no container registry here; issue 21).

The Dockerfile and compose.yaml are read and checked; the entrypoint's settings, the health check and the Caddy
configuration are run; and the runtime stage's command is started as a non-root user on a read-only copy of the
built cache, with the image's environment, and must serve ``/?icb=E54000050`` (see tests/runtime_app.py).
"""

from __future__ import annotations

import http.server
import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import tomllib

import pytest
import yaml
from runtime_app import (
    ROOT,
    dockerfile_instructions,
    dockerfile_stages,
    exec_form,
    free_port,
    process_uid,
    runtime_app,
    stage_env,
    tree_state,
    user_prefix,
)

SHOTS = ROOT / "tests" / "browser" / "screenshots"
SECRET = "0123456789abcdef0123456789abcdef-cookie"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"c20_deploy_{name}", ROOT / "deploy" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


entrypoint = _module("entrypoint")
healthcheck = _module("healthcheck")


@pytest.fixture(scope="module")
def stages():
    return {s.name: s for s in dockerfile_stages()}


# ---------------------------------------------------------------------------------------------------------------
# the Dockerfile, compose.yaml, .dockerignore and the Caddyfile, read
# ---------------------------------------------------------------------------------------------------------------
def test_dockerfile_builder_fetches_and_builds_and_runtime_is_python_slim(stages):
    assert list(stages) == ["builder", "runtime"]
    assert stages["runtime"].base == "python:3.12-slim"
    assert stages["builder"].base == "python:3.12-slim"  # the same interpreter: the venv is copied across
    build = " ".join(stages["builder"].args("RUN"))
    assert "python -m targeting fetch" in build and "fetch --latest" in build
    assert "python -m targeting build" in build
    assert "open_answers(build_if_missing=True" in build  # every month's answers: nothing is made at run time
    assert "install_static_assets('/app/static')" in build  # Leaflet copied at build, not at start
    copies = stages["runtime"].args("COPY")
    assert sorted(copies) == ["--from=builder /app /app", "--from=builder /opt/venv /opt/venv"]


def test_runtime_stage_has_no_compilers_chromium_or_npm(stages):
    runtime = " ".join(a for _, a in stages["runtime"].instructions).lower()
    for word in ("apt-get", "apk ", "gcc", "build-essential", "chromium", "npm", "node", "playwright", "pip install"):
        assert word not in runtime, f"the runtime stage mentions {word!r}"


def test_runtime_runs_as_a_non_root_user(stages):
    users = stages["runtime"].args("USER")
    assert users, "the runtime stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid not in ("root", "0") and uid.isdigit() and int(uid) >= 1000
    keywords = [k for k, _ in stages["runtime"].instructions]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k in ("RUN", "COPY"))


def test_healthcheck_asks_the_health_endpoint_with_urllib(stages):
    (hc,) = stages["runtime"].args("HEALTHCHECK")
    assert re.search(r"--start-period=\d+s", hc) and re.search(r"--interval=\d+s", hc)
    assert exec_form(hc) == ["python", "/app/deploy/healthcheck.py"]
    source = (ROOT / "deploy" / "healthcheck.py").read_text()
    assert "urllib.request" in source and "/_stcore/health" in source
    assert "requests" not in source.replace("urllib.request", "")  # the standard library only


def test_runtime_settings_come_from_the_environment(stages):
    env = stage_env(stages["runtime"])
    assert env["CORE20_CACHE"] == "/app/data/cache"  # built into the image, read only
    assert env["HOME"].startswith("/tmp/") and env["TMPDIR"] == "/tmp"  # everything written goes to /tmp
    assert env["MPLCONFIGDIR"].startswith("/tmp/") and env["XDG_CACHE_HOME"].startswith("/tmp/")
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PORT"] == "8501"
    assert exec_form(stages["runtime"].args("CMD")[-1]) == ["python", "/app/deploy/entrypoint.py"]
    assert "8501" in stages["runtime"].args("EXPOSE")
    doc = entrypoint.__doc__
    for var in ("PORT", "CORE20_PUBLIC_URL", "CORE20_SIGN_IN", *entrypoint.AUTH_VARS, "CORE20_ALLOWED_ROLES",
                "CORE20_MAX_UPLOAD_MB", "CORE20_CACHE"):
        assert f"``{var}``" in doc, f"{var} is not documented in deploy/entrypoint.py"
        assert var in (ROOT / "docs" / "deploy.md").read_text(), f"{var} is not in docs/deploy.md"


def test_the_build_context_leaves_out_secrets_local_data_and_tests():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".streamlit/secrets.toml", "*.env", "data/", "tests/", "**/.git"):
        assert entry in ignored
    assert "secrets.toml" in (ROOT / ".streamlit" / ".gitignore").read_text().split()
    copied = {a.split()[0] for s in dockerfile_stages() for a in s.args("COPY") if not a.startswith("--from")}
    assert not any(c.startswith(("data", "tests", ".streamlit/secrets")) for c in copied), copied


def test_compose_runs_the_app_read_only_behind_a_proxy_with_sticky_sessions():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    app, proxy = compose["services"]["app"], compose["services"]["proxy"]
    assert app["read_only"] is True
    assert any(t.startswith("/tmp:") for t in app["tmpfs"])
    assert app["cap_drop"] == ["ALL"] and "no-new-privileges:true" in app["security_opt"]
    assert app["env_file"] == ["core20plus.env"] and "ports" not in app  # reached only through the proxy
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "lb_policy cookie" in caddy and "dynamic a" in caddy and "flush_interval -1" in caddy
    example = (ROOT / "deploy" / "core20plus.env.example").read_text()
    assert "CORE20_AUTH_CLIENT_SECRET=\n" in example and "CORE20_AUTH_COOKIE_SECRET=\n" in example  # no secret


def test_caddyfile_is_valid():
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (apt-get install caddy) to validate deploy/Caddyfile")
    out = subprocess.run([caddy, "validate", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter",
                          "caddyfile"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]


def test_dockerfile_parser_joins_continuations_and_resolves_the_base_image():
    text = "ARG IMG=python:3.12-slim\nFROM ${IMG} AS a\n# c\nRUN a \\\n    b\nFROM a AS b\nUSER 1:1\n"
    assert dockerfile_instructions(text)[2] == ("RUN", "a  b")
    s = dockerfile_stages(text)
    assert [(x.name, x.base) for x in s] == [("a", "python:3.12-slim"), ("b", "a")]
    assert s[1].args("USER") == ["1:1"]


# ---------------------------------------------------------------------------------------------------------------
# deploy/entrypoint.py: settings from the environment, sign-in required unless switched off
# ---------------------------------------------------------------------------------------------------------------
ENTRA = {"CORE20_PUBLIC_URL": "https://core20.example.nhs.uk", "CORE20_AUTH_CLIENT_ID": "cid",
         "CORE20_AUTH_CLIENT_SECRET": "csecret \"quoted\" \\ back", "CORE20_AUTH_TENANT_ID": "tenant-1",
         "CORE20_AUTH_COOKIE_SECRET": SECRET}


def test_sign_in_settings_from_the_environment_become_the_auth_section(tmp_path):
    text = entrypoint.auth_toml(ENTRA)
    auth = tomllib.loads(text)["auth"]
    assert auth == {"redirect_uri": "https://core20.example.nhs.uk/oauth2callback", "cookie_secret": SECRET,
                    "client_id": "cid", "client_secret": "csecret \"quoted\" \\ back",
                    "server_metadata_url": "https://login.microsoftonline.com/tenant-1/v2.0/"
                                           ".well-known/openid-configuration"}
    plan = entrypoint.plan(ENTRA, app_dir=tmp_path / "app", home=tmp_path / "home")
    assert plan.sign_in == "environment" and plan.secrets_text == text
    assert plan.secrets_path == tmp_path / "home" / ".streamlit" / "secrets.toml"
    entrypoint.write_secrets(plan.secrets_path, plan.secrets_text)
    assert stat.S_IMODE(plan.secrets_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(plan.secrets_path.parent.stat().st_mode) == 0o700
    assert tomllib.loads(plan.secrets_path.read_text())["auth"]["client_id"] == "cid"
    assert SECRET not in " ".join(plan.argv) and "csecret" not in " ".join(plan.argv)  # never on a command line


def test_any_other_provider_by_its_metadata_url():
    env = {**{k: v for k, v in ENTRA.items() if k != "CORE20_AUTH_TENANT_ID"},
           "CORE20_AUTH_SERVER_METADATA_URL": "https://idp.example/.well-known/openid-configuration",
           "CORE20_AUTH_REDIRECT_URI": "https://other.example/oauth2callback"}
    auth = tomllib.loads(entrypoint.auth_toml(env))["auth"]
    assert auth["server_metadata_url"] == "https://idp.example/.well-known/openid-configuration"
    assert auth["redirect_uri"] == "https://other.example/oauth2callback"


@pytest.mark.parametrize(("change", "says"), [
    ({"CORE20_AUTH_CLIENT_SECRET": ""}, "CORE20_AUTH_CLIENT_SECRET is not set"),
    ({"CORE20_AUTH_COOKIE_SECRET": "short"}, "32 characters"),
    ({"CORE20_AUTH_TENANT_ID": ""}, "CORE20_AUTH_TENANT_ID (Entra ID) or CORE20_AUTH_SERVER_METADATA_URL"),
    ({"CORE20_AUTH_SERVER_METADATA_URL": "https://x/.well-known/openid-configuration"}, "not both"),
    ({"CORE20_PUBLIC_URL": "http://core20.example.nhs.uk"}, "must be https://<host>/oauth2callback"),
    ({"CORE20_AUTH_REDIRECT_URI": "https://core20.example.nhs.uk/"}, "must be https://<host>/oauth2callback"),
    ({"CORE20_PUBLIC_URL": ""}, "CORE20_AUTH_REDIRECT_URI (or CORE20_PUBLIC_URL) is not set"),
])
def test_sign_in_settings_that_are_incomplete_or_unsafe_are_refused(change, says):
    with pytest.raises(entrypoint.SettingsError, match=re.escape(says)):
        entrypoint.auth_toml({**ENTRA, **change})


def test_sign_in_is_required_unless_switched_off(tmp_path):
    app, home = tmp_path / "app", tmp_path / "home"
    with pytest.raises(entrypoint.SettingsError, match="Sign-in is not configured"):
        entrypoint.plan({}, app_dir=app, home=home)
    assert entrypoint.plan({"CORE20_SIGN_IN": "off"}, app_dir=app, home=home).sign_in == "off"
    with pytest.raises(entrypoint.SettingsError, match="CORE20_SIGN_IN=off, but sign-in is configured"):
        entrypoint.plan({**ENTRA, "CORE20_SIGN_IN": "off"}, app_dir=app, home=home)
    # a secrets.toml with an [auth] section mounted into the app's .streamlit folder also switches it on
    (app / ".streamlit").mkdir(parents=True)
    (app / ".streamlit" / "secrets.toml").write_text('[auth]\nredirect_uri = "https://x/oauth2callback"\n')
    assert entrypoint.plan({}, app_dir=app, home=home).sign_in == "secrets file"
    with pytest.raises(entrypoint.SettingsError, match="configured twice"):
        entrypoint.plan(ENTRA, app_dir=app, home=home)


def test_a_secrets_file_not_written_by_the_entrypoint_is_never_overwritten(tmp_path):
    mine = tmp_path / "home" / ".streamlit" / "secrets.toml"
    mine.parent.mkdir(parents=True)
    mine.write_text('api_key = "kept"\n')
    with pytest.raises(entrypoint.SettingsError, match="not overwriting"):
        entrypoint.plan(ENTRA, app_dir=tmp_path / "app", home=tmp_path / "home")


def test_streamlit_options_from_the_environment():
    flags = entrypoint.streamlit_flags({"PORT": "8600", "CORE20_PUBLIC_URL": "https://icb.example.nhs.uk/core20",
                                        "CORE20_MAX_UPLOAD_MB": "50"})
    pairs = dict(zip(flags[::2], flags[1::2], strict=True))
    assert pairs["--server.port"] == "8600" and pairs["--server.address"] == "0.0.0.0"
    assert pairs["--server.baseUrlPath"] == "core20" and pairs["--server.maxUploadSize"] == "50"
    # a set server address: Streamlit then never asks an outside service for the machine's external address
    assert pairs["--browser.serverAddress"] == "icb.example.nhs.uk" and pairs["--browser.serverPort"] == "443"
    assert pairs["--browser.gatherUsageStats"] == "false" and pairs["--server.fileWatcherType"] == "none"
    assert pairs["--server.enableAgentApi"] == "false"  # no way to drive the app over HTTP around the sign-in
    assert dict(zip(*[iter(entrypoint.streamlit_flags({}))] * 2, strict=True))["--browser.serverAddress"] == "localhost"
    for bad in ({"PORT": "http"}, {"CORE20_MAX_UPLOAD_MB": "0"}, {"CORE20_PUBLIC_URL": "core20.example"}):
        with pytest.raises(entrypoint.SettingsError):
            entrypoint.streamlit_flags(bad)


def test_the_entrypoint_refuses_to_start_without_sign_in_and_says_how(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, str(ROOT / "deploy" / "entrypoint.py")], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2
    assert "Sign-in is not configured" in out.stderr and "CORE20_SIGN_IN=off" in out.stderr


# ---------------------------------------------------------------------------------------------------------------
# deploy/healthcheck.py
# ---------------------------------------------------------------------------------------------------------------
class _Health(http.server.BaseHTTPRequestHandler):
    answer = b"ok"

    def do_GET(self):
        status = 200 if self.path.endswith("/_stcore/health") else 404
        self.send_response(status)
        self.end_headers()
        self.wfile.write(self.answer if status == 200 else b"no")

    def log_message(self, *args):
        pass


def _run_healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "deploy" / "healthcheck.py")], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], **env}, timeout=60)


def test_healthcheck_exits_0_on_ok_and_1_otherwise():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = str(server.server_port)
        assert _run_healthcheck({"PORT": port}).returncode == 0
        assert healthcheck.health_url({"PORT": port, "CORE20_PUBLIC_URL": "https://x.nhs.uk/core20"}) == \
            f"http://127.0.0.1:{port}/core20/_stcore/health"
        assert _run_healthcheck({"PORT": port, "CORE20_PUBLIC_URL": "https://x.nhs.uk/core20"}).returncode == 0
        _Health.answer = b"starting"
        assert _run_healthcheck({"PORT": port}).returncode == 1
    finally:
        _Health.answer = b"ok"
        server.shutdown()
        server.server_close()
    down = _run_healthcheck({"PORT": str(free_port())})
    assert down.returncode == 1 and "unhealthy" in down.stderr


# ---------------------------------------------------------------------------------------------------------------
# the runtime stage's command, as a non-root user, on a read-only cache: serves /?icb=E54000050
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def runtime(atlas):
    from geo.paths import cache_dir

    with runtime_app(cache_dir(), {"CORE20_SIGN_IN": "off"}, keep=SHOTS / "runtime.log") as app:
        before = tree_state(app.cache)
        yield app
        assert tree_state(app.cache) == before, "the app changed its read-only cache"


@pytest.mark.slow
def test_runtime_command_runs_as_non_root_on_a_read_only_cache(runtime):
    if os.geteuid() == 0:
        assert process_uid(runtime.proc.pid) == 65534
    assert process_uid(runtime.proc.pid) != 0
    probe = subprocess.run(
        [*user_prefix(), sys.executable, "-c",
         f"open({str(runtime.cache / 'atlas' / 'build.json')!r}, 'a')"], capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0 and "PermissionError" in probe.stderr  # the cache is read-only to the app's user
    log = runtime.log_text()
    assert "sign-in: off" in log
    for bad in ("Traceback", "PermissionError", "Read-only file system", "External URL"):
        assert bad not in log, f"{bad!r} in the app's log:\n{log[-3000:]}"


@pytest.mark.slow
def test_healthcheck_command_of_the_image_passes_against_the_runtime(runtime, stages):
    cmd = exec_form(stages["runtime"].args("HEALTHCHECK")[0])
    out = subprocess.run([sys.executable, str(ROOT / cmd[1][len("/app/"):])], env=runtime.env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def _open_icb(browser_page, url: str) -> str:
    from tests.browser.conftest import map_frame, settle

    browser_page.goto(f"{url}/?icb=E54000050")
    browser_page.get_by_text("NHS North East and North Cumbria").first.wait_for()
    map_frame(browser_page, 200)
    settle(browser_page)
    return browser_page.evaluate("() => document.body.innerText")


@pytest.fixture(scope="module")
def chromium(browser):
    return browser  # the session's one Chromium (tests/conftest.py): a second sync Playwright in a thread fails


@pytest.fixture
def local_page(chromium):
    from tests.browser.conftest import LOCAL

    ctx = chromium.new_context(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL)
              else (blocked.append(r.request.url), r.abort()))
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    pg.blocked = blocked
    yield pg
    ctx.close()


@pytest.mark.slow
@pytest.mark.browser
def test_runtime_serves_an_icb_link(runtime, local_page):
    text = _open_icb(local_page, runtime.url)
    assert "ICB: NHS North East and North Cumbria" in text or "NHS North East and North Cumbria" in text
    local_page.screenshot(path=str(SHOTS / "21_runtime_icb.png"))
    assert local_page.blocked == []
    local_page.goto(f"{runtime.url}/?icb=E54000050&registrations=2022-07")  # the other month: precomputed too
    local_page.get_by_text("NHS North East and North Cumbria").first.wait_for()
    local_page.get_by_text("July 2022").first.wait_for()
    map_text = runtime.log_text()
    assert "Traceback" not in map_text and "PermissionError" not in map_text
    assert not [p for p in runtime.tmp.rglob("*") if p.is_file()], "the app wrote files to /tmp for a map"


@pytest.mark.slow
@pytest.mark.browser
def test_runtime_behind_the_caddy_proxy_keeps_websockets_and_a_sticky_cookie(runtime, local_page, tmp_path):
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (apt-get install caddy) to run deploy/Caddyfile")
    port = free_port()
    home = tmp_path / "caddy"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home),
           "CORE20_SITE": f"http://127.0.0.1:{port}", "CORE20_UPSTREAM": "localhost",
           "CORE20_UPSTREAM_PORT": runtime.url.rsplit(":", 1)[1]}
    log = open(tmp_path / "caddy.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([caddy, "run", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter",
                             "caddyfile"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        import time
        import urllib.request

        for _ in range(60):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    cookies = r.headers.get_all("Set-Cookie") or []
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"caddy did not start: {(tmp_path / 'caddy.log').read_text()[-2000:]}")
        assert any(c.startswith("core20_affinity=") for c in cookies), cookies
        _open_icb(local_page, url)  # the page's WebSocket runs through the proxy
        assert any(c["name"] == "core20_affinity" for c in local_page.context.cookies())
        assert local_page.blocked == []
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_docs_say_what_was_and_was_not_built():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Deployment"):]
    section = section[:section.index("\n## ", 4)] if "\n## " in section[4:] else section
    commands = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert commands and len([c for c in commands[0].splitlines() if c.strip()]) == 2, commands
    assert "was not built" in section or "not been built" in section
    assert readme.index("## Deployment") > readme.index("## Using the app")
    deploy = (ROOT / "docs" / "deploy.md").read_text().lower()
    for words in ("Web sockets", "session affinity", "Easy Auth", "Container Apps", "App Service", "retention",
                  "third parties", "tile.openstreetmap.org", "/app/static", "open data only", "not been built"):
        assert words.lower() in deploy, f"docs/deploy.md does not mention {words!r}"
