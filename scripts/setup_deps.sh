#!/usr/bin/env bash
# Installs the Debian packages sketchgrad needs to build and test, or prints the exact command when it cannot.
# Usage: scripts/setup_deps.sh [--with-torch]   (python3-torch is only for bench/compare_pytorch.py)
set -euo pipefail
# python3: make demo's results table (scripts/demo.sh) and the bench/ scripts.
pkgs=(cmake g++ make libopenblas-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
      libomp-dev python3)
[[ "${1:-}" == "--with-torch" ]] && pkgs+=(python3-torch)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "sketchgrad: installing missing Debian packages: ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null || {
    apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null || {
    sudo apt-get update >/dev/null && sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
else
  echo "sketchgrad: cannot install packages without root. Run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
