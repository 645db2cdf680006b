"""The app started as its container image starts it, for the deploy, sign-in and upload tests.

The image cannot be built here (no container registry), so the tests run what its runtime stage runs: the
``Dockerfile``'s ``CMD`` (``deploy/entrypoint.py``) with the runtime stage's ``ENV``, its ``/tmp`` paths moved
into a fresh folder (the image's tmpfs) and ``CORE20_CACHE`` pointed at a copy of the built cache that the app's
user cannot write (the image's read-only ``/app/data/cache``). Run as root, the app runs as ``nobody`` through
``setpriv``; the interpreter lives under ``/root`` (mode 0700) on this machine, so the process keeps only
``CAP_DAC_READ_SEARCH``, which lets it read and search what the image's user could read, and never write.
Run as another user, it runs as that user with a copied cache made read-only.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
NOBODY = 65534


@dataclass
class Stage:
    """One ``FROM`` stage of the Dockerfile: its name, base image (ARGs resolved) and instructions."""

    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        """The argument text of every instruction ``keyword`` (upper case) in this stage."""
        return [a for k, a in self.instructions if k == keyword]


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs of a Dockerfile, continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        line, buf = buf + line, ""
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def dockerfile_stages(text: str | None = None) -> list[Stage]:
    """The stages of the project's Dockerfile (or of ``text``), with ``${ARG}`` in ``FROM`` resolved."""
    text = DOCKERFILE.read_text(encoding="utf-8") if text is None else text
    defaults: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, args in dockerfile_instructions(text):
        if keyword == "ARG" and not stages:
            name, _, value = args.partition("=")
            defaults[name] = value
        elif keyword == "FROM":
            parts = args.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m.group(1), ""), parts[0])
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name, base))
        elif stages:
            stages[-1].instructions.append((keyword, args))
    return stages


def stage_env(stage: Stage) -> dict[str, str]:
    """The ``ENV`` settings of a stage (``KEY=value`` pairs; a value naming ``$PATH`` is left out)."""
    env: dict[str, str] = {}
    for args in stage.args("ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            if "$" not in value:
                env[key] = value
    return env


def exec_form(args: str) -> list[str]:
    """The JSON exec form of ``CMD``/``HEALTHCHECK … CMD``: ``["python", "x.py"]`` → ["python", "x.py"]."""
    import json

    return json.loads(args[args.index("["):])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for a started app's ``/_stcore/health`` to answer 200: True, or False if it exited or timed out."""
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            return False
        time.sleep(0.5)


@contextmanager
def streamlit_run(log: Path, *, timeout: float = 90) -> Iterator[str]:
    """``streamlit run streamlit_app.py`` on a free localhost port, its output in ``log``; yield its URL, stop it."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"), stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            if not wait_until_healthy(url, proc, timeout):
                raise RuntimeError(f"streamlit did not start: see {log}")
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _nobody_needs_caps() -> bool:
    """True when ``nobody`` cannot even start this interpreter (it lives in a folder only root can enter)."""
    # importing a package and reading the interpreter itself: a bare start can succeed on frozen modules alone
    probe = "import sys, streamlit; open(sys.executable, 'rb').close()"
    out = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable,
                          "-c", probe], capture_output=True, timeout=60, cwd="/")
    return out.returncode != 0


def user_prefix() -> list[str]:
    """The command prefix that runs a program as the non-root user (empty when the tests are not root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        raise RuntimeError("setpriv (util-linux) is needed to run the app as a non-root user")
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--no-new-privs"]
    if _nobody_needs_caps():
        caps = "-all,+dac_read_search"
        prefix += [f"--inh-caps={caps}", f"--ambient-caps={caps}", f"--bounding-set={caps}"]
    return prefix


def readonly_cache(source: Path, dest: Path) -> Path:
    """A copy of the built cache (``atlas/`` and ``answers/``) that the app's user cannot write.

    As root: hard links (no extra space; a rebuild elsewhere swaps folders and leaves these files as they are)
    in root-owned folders, which ``nobody`` can read and not write. Otherwise: a copy, made read-only.
    """
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:  # another file system
            shutil.copy2(src, dst)

    from geo.files import file_lock

    dest.mkdir(parents=True)
    # a build elsewhere (the rest of the suite) swaps folders while holding these locks: copy between its swaps,
    # leaving out the lock files and any build's staging folders (their names start with a dot)
    with file_lock(source / ".atlas.lock"), file_lock(source / "answers" / ".answers.lock"):
        for name in ("atlas", "answers"):
            shutil.copytree(source / name, dest / name, ignore=shutil.ignore_patterns(".*"),
                            copy_function=link if os.geteuid() == 0 else shutil.copy2)
    if os.geteuid() != 0:
        for p in sorted(dest.rglob("*"), reverse=True):
            p.chmod(0o555 if p.is_dir() else 0o444)
        dest.chmod(0o555)
    return dest


def cache_is_complete(cache: Path) -> bool:
    """The atlas in ``cache`` is current for this code and every month has its answers: nothing to make at run
    time (checked in this process, reading only)."""
    from geo.atlas import load
    from geo.months import months_built
    from geo.paths import MissingDataError
    from targeting.precompute import open_answers

    saved = os.environ.get("CORE20_CACHE")
    os.environ["CORE20_CACHE"] = str(cache)
    try:
        load(build_if_missing=False, progress=False, geometry=False)
        return all(open_answers(registrations=m) is not None for m in months_built()[0])
    except (MissingDataError, OSError, ValueError):
        return False
    finally:
        if saved is None:
            os.environ.pop("CORE20_CACHE", None)
        else:
            os.environ["CORE20_CACHE"] = saved


def tree_state(folder: Path) -> dict[str, tuple[int, int]]:
    """{relative path: (size, mtime_ns)} of every file under ``folder``: compared before and after a run."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@dataclass
class RuntimeApp:
    """A running app: its address, process, log, the image's /tmp (``tmp``) and read-only cache (``cache``)."""

    url: str
    proc: subprocess.Popen
    log: Path
    tmp: Path
    cache: Path
    env: dict[str, str]

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def runtime_env(base: Path, cache: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The runtime stage's ``ENV`` with its paths moved under ``base`` (``/tmp`` → ``base/tmp``, the cache →
    ``cache``), listening on 127.0.0.1:``port``, plus ``extra``. Nothing of the test process's environment leaks in.
    """
    (runtime,) = [s for s in dockerfile_stages() if s.name == "runtime"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    for key, value in stage_env(runtime).items():
        if key == "CORE20_CACHE":
            value = str(cache)
        elif value == "/tmp" or value.startswith("/tmp/"):
            value = str(base / "tmp") + value[len("/tmp"):]
        env[key] = value
    env.update({"PORT": str(port), "CORE20_ADDRESS": "127.0.0.1"})
    env.update(extra or {})
    return env


@contextmanager
def runtime_app(source_cache: Path, extra_env: dict[str, str] | None = None, *, port: int | None = None,
                keep: Path | None = None, timeout: float = 240) -> Iterator[RuntimeApp]:
    """Start the image's command as a non-root user on a read-only cache; stop it and remove its folder after.

    Parameters
    ----------
    source_cache
        The built cache (``data/cache``) to copy read-only.
    extra_env
        Settings given to the container (``CORE20_SIGN_IN``, ``CORE20_AUTH_*``…).
    port
        The port to listen on (default: a free one).
    keep
        Where to copy the app's log at the end (for people to read).
    """
    base = Path(tempfile.mkdtemp(prefix="core20-runtime-", dir="/tmp"))
    base.chmod(0o755)
    tmp = base / "tmp"  # the image's /tmp tmpfs: the one folder the app may write
    tmp.mkdir(mode=0o700)
    if os.geteuid() == 0:
        os.chown(tmp, NOBODY, NOBODY)
    for attempt in range(3):  # the rest of the suite may rebuild the cache meanwhile: make it whole, then copy
        ensure_answers()
        cache = readonly_cache(source_cache, base / f"cache{attempt or ''}")
        if cache_is_complete(cache):
            break
    else:
        raise RuntimeError(f"the cache at {source_cache} kept changing: no complete copy for the app")
    from targeting.render.assets import install_static_assets

    install_static_assets(ROOT / "static")  # the image's build puts Leaflet there (Dockerfile); the app user can't
    port = port or free_port()
    env = runtime_env(base, cache, port, extra_env)
    (runtime,) = [s for s in dockerfile_stages() if s.name == "runtime"]
    cmd = exec_form(runtime.args("CMD")[-1])
    assert cmd[:1] == ["python"] and cmd[1].startswith("/app/"), cmd
    argv = [*user_prefix(), sys.executable, str(ROOT / cmd[1][len("/app/"):]), *cmd[2:]]
    log = base / "app.log"
    url = f"http://127.0.0.1:{port}"
    with open(log, "w") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        if not wait_until_healthy(url, proc, timeout):
            raise RuntimeError(f"the app did not start (exit {proc.poll()}):\n{log.read_text()[-3000:]}")
        yield RuntimeApp(url, proc, log, tmp, cache, env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, keep)
        shutil.rmtree(base, ignore_errors=True)


def process_uid(pid: int) -> int:
    """The real user id of a running process (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise RuntimeError(f"no Uid line for process {pid}")


def ensure_answers() -> list[str]:
    """Make sure every registration month of the built atlas has its precomputed answers (as the image's build
    does), so a read-only cache needs nothing made at run time; return the months."""
    from geo.months import months_built
    from targeting.precompute import open_answers

    months = months_built()[0]
    for m in months:
        open_answers(build_if_missing=True, registrations=m)
    return months
