"""The tool as a user installs it: a wheel, in a fresh virtual environment, with no link to this source tree."""

import importlib.util
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest
import setuptools

from geo.paths import cache_dir

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow  # builds a wheel and runs the CLI on the national atlas


def _builds_without_isolation() -> bool:
    # setuptools ≥ 70.1 has bdist_wheel itself; before that it needs the `wheel` package
    version = tuple(int(p) for p in setuptools.__version__.split(".")[:2] if p.isdigit())
    return version >= (68, 0) and (version >= (70, 1) or importlib.util.find_spec("wheel") is not None)


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert out.returncode == 0, f"{' '.join(cmd)} exited {out.returncode}:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("packaging")
    wheels = tmp / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)]
    if _builds_without_isolation():
        build.insert(4, "--no-build-isolation")
    _run(build, cwd=tmp)  # otherwise pip fetches the build requirements (setuptools>=68) into an isolated env
    (wheel,) = wheels.glob("core20plus_targeting-*.whl")
    # The running interpreter's packages give the heavy dependencies; the tool itself comes only from the wheel.
    # `venv --system-site-packages` alone would see only the *base* Python's packages: run from a virtual
    # environment (issue 23), pyarrow and the rest were missing. A .pth file lists the running interpreter's site
    # folders; their own .pth files (the editable install of this checkout) are not processed, so the source tree
    # stays out of reach.
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(tmp / "venv")])
    python = tmp / "venv" / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    running = [p for p in (*site.getsitepackages(), site.getusersitepackages()) if Path(p).is_dir()]
    (Path(purelib) / "_running_interpreter.pth").write_text("\n".join(running) + "\n")
    _run([str(python), "-c", "import pyarrow, geopandas, streamlit"], cwd=tmp)  # the dependencies are reachable
    # --ignore-installed: the system's editable install of the same version must not count as "already there"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
          "--ignore-installed", "-q", str(wheel)], cwd=tmp)
    return python


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return {**env, **extra}


def test_the_installed_package_is_the_wheel(venv_python, tmp_path):
    out = _run([str(venv_python), "-c", "import geo, targeting, targeting.commands.data as d; "
                "print(targeting.__file__); print(geo.__file__); print(d.__file__)"], cwd=tmp_path, env=_env())
    venv = venv_python.parent.parent.resolve()
    for line in out.stdout.split():
        assert Path(line).resolve().is_relative_to(venv), f"{line} is not from the installed wheel"
        assert not Path(line).resolve().is_relative_to(ROOT)


def test_help_lists_every_command(venv_python, tmp_path):
    out = _run([str(venv_python), "-m", "targeting", "--help"], cwd=tmp_path, env=_env())
    for command in ("build", "fetch", "sources", "lsoas", "pcns", "practices", "compare", "targets", "map"):
        assert command in out.stdout


def test_lsoas_from_the_wheel_match_the_source_tree(venv_python, tmp_path, atlas, data_dir, capsys):
    from targeting.cli import main

    env = _env(CORE20_CACHE=str(cache_dir()), CORE20_DATA=str(data_dir))  # the built national atlas: no rebuild
    out = _run([str(venv_python), "-m", "targeting", "lsoas", "--icb", "E54000055"], cwd=tmp_path, env=env)
    lines = out.stdout.splitlines()
    assert lines[0].startswith("lsoa_code,lsoa_name,lad_name,icb_code,imd_score")
    assert len(lines) == 1 + 793  # every LSOA 2021 of Birmingham and Solihull
    assert main(["lsoas", "--icb", "E54000055"]) == 0
    assert out.stdout == capsys.readouterr().out


def test_a_wheel_keeps_its_data_in_the_users_folder_and_runs_as_core20(venv_python, tmp_path, atlas, data_dir,
                                                                        capsys):
    """Issue 20 item 6: installed like a library, the tool builds and answers outside the checkout, from its
    `core20` console script, with its cache in the user's data folder (platformdirs), never under site-packages."""
    from targeting.cli import main

    home = tmp_path / "xdg"
    env = {k: v for k, v in _env(CORE20_DATA=str(data_dir), XDG_DATA_HOME=str(home)).items()
           if k not in ("CORE20_CACHE", "CORE20_RAW")}
    core20 = venv_python.parent / "core20"
    assert core20.is_file(), "the wheel installs no core20 script"
    _run([str(core20), "build"], cwd=tmp_path, env=env)
    where = home / "core20plus-targeting"
    assert (where / "cache" / "atlas" / "build.json").is_file()
    site = Path(_run([str(venv_python), "-c", "import geo, pathlib; print(pathlib.Path(geo.__file__).parent.parent)"],
                     cwd=tmp_path, env=env).stdout.strip())
    assert not (site / "data").exists(), "the wheel wrote under site-packages"
    out = _run([str(core20), "pcns", "--icb", "E54000055"], cwd=tmp_path, env=env)
    assert main(["pcns", "--icb", "E54000055"]) == 0
    assert out.stdout == capsys.readouterr().out
    assert len(out.stdout.splitlines()) > 20  # Birmingham and Solihull's PCNs


def test_a_bare_pytest_collects_every_module(tmp_path):
    """Issue 20 item 7: `pytest` (the script, so the working folder is not on sys.path) collected 8 modules with
    import errors; `python -m pytest` did not show it."""
    import shutil

    exe = shutil.which("pytest", path=str(Path(sys.executable).parent)) or shutil.which("pytest")
    out = subprocess.run([exe, "--collect-only", "-q", "-p", "no:xdist", "-p", "no:cacheprovider"], cwd=ROOT,
                         capture_output=True, text=True, env=_env())
    assert out.returncode == 0, out.stdout[-3000:]
    assert "error" not in out.stdout.splitlines()[-1]
