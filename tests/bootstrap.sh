#!/usr/bin/env bash
# System packages the whole test suite needs (Debian). The Slurm tier's own script
# (tests/cluster/slurm_cluster.py) installs its packages too; this covers the rest:
# the browser, Node for configurable-http-proxy, and the tools the tests call.
set -euo pipefail

packages=(
  slurm-wlm slurmdbd munge mariadb-server sudo procps python3-venv  # the test cluster
  chromium                                                           # browser tier
  postgresql                                                         # postgres tier (quota ledger)
  nodejs npm                                                         # configurable-http-proxy
  iproute2 git make                                                  # ss, clone, make
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere (e.g. NodeSource): accept working commands.
command -v node >/dev/null && command -v npm >/dev/null && \
  missing=("${missing[@]/nodejs}") && missing=("${missing[@]/npm}")
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "bootstrap: missing Debian packages: ${missing[*]} — run 'make test' as root to install them" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
