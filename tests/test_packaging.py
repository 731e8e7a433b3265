"""What `pip install .` puts in site-packages: one import name, `tansuo`, with the folders mapped
under it, and a command line that runs from the installed copy (not this checkout)."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_installs_only_tansuo_and_runs_from_where_it_is_installed(tmp_path):
    leftover = not (ROOT / "build").exists()  # setuptools builds in the checkout's build/
    try:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True, cwd=tmp_path)
    finally:
        if leftover:
            shutil.rmtree(ROOT / "build", ignore_errors=True)
    (wheel,) = (tmp_path / "dist").glob("tansuo-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"tansuo", wheel.name.split("-py3")[0] + ".dist-info"}
    top_level = next(n for n in names if n.endswith("top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["tansuo"]
    assert {"tansuo/agent/agent.py", "tansuo/server/static/index.html", "tansuo/training/tools/templates.yaml",
            "tansuo/plugins/manifests/unicode_info.yaml", "tansuo/agent/data/planner.yaml",
            "tansuo/verifiers/data/harm.yaml"} <= set(names)

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import tansuo.server.app as a; print(a.__file__)"], env=env,
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(site)  # the installed copy, not the checkout
    version = subprocess.run([sys.executable, "-m", "tansuo.cli", "--version"], env=env, cwd=tmp_path,
                             capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("tansuo ")
