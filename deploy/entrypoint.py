"""Start Core20PLUS targeting in its container: settings from environment variables, then ``python streamlit_app.py``.

The image's command (``Dockerfile``). Standard library only. It reads the settings below, writes the sign-in
settings (if given as environment variables) to ``$HOME/.streamlit/secrets.toml`` (``$HOME`` is on the ``/tmp``
tmpfs in the image, so the client secret is never written to a disk), and replaces itself with the app, which
warms up before it serves. It refuses to start, naming what is missing, rather than start without sign-in by
mistake: sign-in is required unless ``CORE20_SIGN_IN=off``.

==================================  ====================================================================
``PORT``                            port to listen on (8501)
``CORE20_ADDRESS``                  address to listen on (0.0.0.0)
``CORE20_PUBLIC_URL``               the address people open, e.g. ``https://core20.example.nhs.uk``; its
                                    path, if any, is served (``/core20``) and the sign-in redirect URI is
                                    ``<it>/oauth2callback`` unless given
``CORE20_MAX_UPLOAD_MB``            largest upload in MB, 1–50 (50: the one limit every reader keeps,
                                   ``targeting/_limits.py``, also in ``.streamlit/config.toml``)
``CORE20_SIGN_IN``                  ``off``: no sign-in (e.g. behind App Service Easy Auth); else required
``CORE20_AUTH_CLIENT_ID``           sign-in: the app registration's application (client) ID
``CORE20_AUTH_CLIENT_SECRET``       sign-in: its client secret
``CORE20_AUTH_TENANT_ID``           sign-in with Microsoft Entra ID: the directory (tenant) ID
``CORE20_AUTH_SERVER_METADATA_URL`` sign-in with another OpenID Connect provider, instead of the tenant
``CORE20_AUTH_COOKIE_SECRET``       sign-in: a random string of 32 or more characters, the same on every
                                    replica (it signs the identity cookie)
``CORE20_AUTH_REDIRECT_URI``        sign-in: ``https://<host>/oauth2callback`` (default from the public URL)
``CORE20_ALLOWED_ROLES``            roles let in, comma-separated (the ``roles`` claim; read by the app)
``CORE20_CACHE``                    the built atlas (``/app/data/cache`` in the image; read only)
``CORE20_REGISTRATIONS``            the default registration month (read by the app)
==================================  ====================================================================

Sign-in can instead come from a ``secrets.toml`` with an ``[auth]`` section mounted at
``/app/.streamlit/secrets.toml`` (a Docker or Kubernetes secret); then set no ``CORE20_AUTH_*`` variable.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

APP_DIR = Path(__file__).resolve().parents[1]
if str(APP_DIR) not in sys.path:  # the checkout's package when run from one (the image installs it)
    sys.path.append(str(APP_DIR))
from targeting._limits import MAX_UPLOAD_MB  # noqa: E402 - the one limit on a user's file, a leaf module

MARKER = "# Written by deploy/entrypoint.py from CORE20_AUTH_* at start; on the /tmp tmpfs only."
AUTH_VARS = ("CORE20_AUTH_CLIENT_ID", "CORE20_AUTH_CLIENT_SECRET", "CORE20_AUTH_TENANT_ID",
             "CORE20_AUTH_SERVER_METADATA_URL", "CORE20_AUTH_COOKIE_SECRET", "CORE20_AUTH_REDIRECT_URI")
ENTRA_METADATA = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class SettingsError(ValueError):
    """The environment asks for something that cannot be started safely; the message says what to set."""


@dataclass(frozen=True)
class Plan:
    """What the entrypoint will do: the app's command line, and the secrets file to write (if any)."""

    argv: list[str]
    secrets_path: Path  # $HOME/.streamlit/secrets.toml
    secrets_text: str | None  # None: no secrets from the environment (an earlier start's file is removed)
    sign_in: str  # "environment", "secrets file" or "off"


def _get(env: Mapping[str, str], key: str, default: str = "") -> str:
    return (env.get(key) or default).strip()


def public_url(env: Mapping[str, str]) -> tuple[str, str, int | None]:
    """(host, base path without slashes, port) of ``CORE20_PUBLIC_URL``; ("", "", None) when it is not set.

    Raises
    ------
    SettingsError
        If it is not an http(s) address.
    """
    url = _get(env, "CORE20_PUBLIC_URL")
    if not url:
        return "", "", None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"CORE20_PUBLIC_URL must be an http(s) address such as https://core20.example.nhs.uk, "
                            f"not {url!r}")
    return parts.hostname, parts.path.strip("/"), parts.port or (443 if parts.scheme == "https" else 80)


def _is_secure(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)


def auth_toml(env: Mapping[str, str]) -> str | None:
    """The ``[auth]`` section Streamlit's ``st.login`` reads, from ``CORE20_AUTH_*``; None when none is set.

    Raises
    ------
    SettingsError
        Naming every missing or unsafe setting (a short cookie secret, a redirect URI that is not https or does not
        end in ``/oauth2callback``).
    """
    if not any(_get(env, k) for k in AUTH_VARS):
        return None
    problems = []
    client_id, client_secret = _get(env, "CORE20_AUTH_CLIENT_ID"), _get(env, "CORE20_AUTH_CLIENT_SECRET")
    tenant, metadata = _get(env, "CORE20_AUTH_TENANT_ID"), _get(env, "CORE20_AUTH_SERVER_METADATA_URL")
    cookie = _get(env, "CORE20_AUTH_COOKIE_SECRET")
    redirect = _get(env, "CORE20_AUTH_REDIRECT_URI")
    if not redirect and _get(env, "CORE20_PUBLIC_URL"):
        redirect = _get(env, "CORE20_PUBLIC_URL").rstrip("/") + "/oauth2callback"
    for key, value in (("CORE20_AUTH_CLIENT_ID", client_id), ("CORE20_AUTH_CLIENT_SECRET", client_secret),
                       ("CORE20_AUTH_COOKIE_SECRET", cookie)):
        if not value:
            problems.append(f"{key} is not set")
    if tenant and metadata:
        problems.append("set CORE20_AUTH_TENANT_ID (Entra ID) or CORE20_AUTH_SERVER_METADATA_URL, not both")
    elif not (tenant or metadata):
        problems.append("CORE20_AUTH_TENANT_ID (Entra ID) or CORE20_AUTH_SERVER_METADATA_URL is not set")
    if metadata and not _is_secure(metadata):
        problems.append("CORE20_AUTH_SERVER_METADATA_URL must be an https address")
    if cookie and len(cookie) < 32:
        problems.append("CORE20_AUTH_COOKIE_SECRET must be 32 characters or more (e.g. `openssl rand -hex 32`)")
    if not redirect:
        problems.append("CORE20_AUTH_REDIRECT_URI (or CORE20_PUBLIC_URL) is not set")
    elif not redirect.endswith("/oauth2callback") or not _is_secure(redirect):
        problems.append(f"CORE20_AUTH_REDIRECT_URI must be https://<host>/oauth2callback, not {redirect!r}")
    if problems:
        raise SettingsError("Sign-in is not configured correctly: " + "; ".join(problems) + ".")
    values = {"redirect_uri": redirect, "cookie_secret": cookie, "client_id": client_id,
              "client_secret": client_secret,
              "server_metadata_url": metadata or ENTRA_METADATA.format(tenant=tenant)}
    lines = [MARKER, "[auth]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def _has_auth(path: Path) -> bool:
    try:
        return bool(tomllib.loads(path.read_text(encoding="utf-8")).get("auth"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} cannot be read as TOML: {exc}") from None


def streamlit_flags(env: Mapping[str, str]) -> list[str]:
    """The Streamlit options the environment gives (``--server.port 8501`` …), for ``python streamlit_app.py``.

    ``browser.serverAddress`` is always set (the public host, else ``localhost``), so Streamlit never asks an
    outside service for the machine's external address.
    """
    port = _get(env, "PORT", "8501")
    if not port.isdigit():
        raise SettingsError(f"PORT must be a number, not {port!r}")
    host, base, public_port = public_url(env)
    flags = ["--server.port", port, "--server.address", _get(env, "CORE20_ADDRESS", "0.0.0.0"),
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", "--server.runOnSave", "false",
             "--server.enableXsrfProtection", "true", "--server.enableAgentApi", "false",
             "--browser.serverAddress", host or "localhost"]
    if public_port:
        flags += ["--browser.serverPort", str(public_port)]
    if base:
        flags += ["--server.baseUrlPath", base]
    # the upload box says the limit the readers keep: lower it if you like, never above theirs
    upload = _get(env, "CORE20_MAX_UPLOAD_MB") or str(MAX_UPLOAD_MB)
    if not upload.isdigit() or not 1 <= int(upload) <= MAX_UPLOAD_MB:
        raise SettingsError(f"CORE20_MAX_UPLOAD_MB must be a whole number from 1 to {MAX_UPLOAD_MB} (the largest "
                            f"file the tool reads, in MB), not {upload!r}")
    flags += ["--server.maxUploadSize", str(int(upload))]
    return flags


def plan(env: Mapping[str, str], *, app_dir: Path = APP_DIR, home: Path | None = None) -> Plan:
    """Work out the command line and the secrets file from the environment, without touching anything.

    Parameters
    ----------
    env
        The environment (``os.environ``).
    app_dir
        The folder holding ``streamlit_app.py`` (``/app`` in the image).
    home
        The home folder whose ``.streamlit/secrets.toml`` Streamlit reads (``$HOME``).

    Raises
    ------
    SettingsError
        When sign-in is neither configured nor switched off, configured twice, or configured wrongly.
    """
    home = Path(home) if home is not None else Path(env.get("HOME") or Path.home())
    user_secrets = home / ".streamlit" / "secrets.toml"
    mounted = [p for p in (app_dir / ".streamlit" / "secrets.toml", user_secrets)
               if p.is_file() and not p.read_text(encoding="utf-8", errors="replace").startswith(MARKER)
               and _has_auth(p)]
    text = auth_toml(env)
    off = _get(env, "CORE20_SIGN_IN").lower() in ("off", "false", "0", "no")
    if off and (text or mounted):
        raise SettingsError("CORE20_SIGN_IN=off, but sign-in is configured "
                            f"({'CORE20_AUTH_* variables' if text else mounted[0]}): remove one or the other.")
    if text and mounted:
        raise SettingsError(f"Sign-in is configured twice, by CORE20_AUTH_* variables and by {mounted[0]}: "
                            "use one.")
    if not (off or text or mounted):
        raise SettingsError("Sign-in is not configured. Set CORE20_AUTH_CLIENT_ID, CORE20_AUTH_CLIENT_SECRET, "
                            "CORE20_AUTH_TENANT_ID, CORE20_AUTH_COOKIE_SECRET and CORE20_PUBLIC_URL (see "
                            "docs/deploy.md), or mount a secrets.toml with an [auth] section at "
                            f"{app_dir / '.streamlit' / 'secrets.toml'}, or set CORE20_SIGN_IN=off to run the "
                            "tool without sign-in.")
    if text and user_secrets.is_file() and not user_secrets.read_text(encoding="utf-8",
                                                                     errors="replace").startswith(MARKER):
        raise SettingsError(f"{user_secrets} exists and was not written by this entrypoint: not overwriting it.")
    argv = [sys.executable, str(app_dir / "streamlit_app.py"), *streamlit_flags(env)]
    return Plan(argv=argv, secrets_path=user_secrets, secrets_text=text,
                sign_in="environment" if text else ("secrets file" if mounted else "off"))


def write_secrets(path: Path, text: str) -> None:
    """Write the secrets file readable by this user only (folder 0700, file 0600), replacing it atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    tmp.replace(path)


def main() -> int:
    """Check the settings, write the secrets file, then become the app (``exec``); 2 on a settings error."""
    try:
        p = plan(os.environ)
    except SettingsError as exc:
        print(f"core20plus: {exc}", file=sys.stderr)
        return 2
    if p.secrets_text is not None:
        write_secrets(p.secrets_path, p.secrets_text)
    elif p.secrets_path.is_file() and p.secrets_path.read_text(encoding="utf-8",
                                                               errors="replace").startswith(MARKER):
        p.secrets_path.unlink()  # an earlier start's settings, no longer in the environment
    shown = " ".join(p.argv[1:])
    print(f"core20plus: sign-in: {p.sign_in}; starting {shown}", file=sys.stderr, flush=True)
    os.chdir(APP_DIR)  # .streamlit/config.toml is read from here
    os.execv(p.argv[0], p.argv)
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
