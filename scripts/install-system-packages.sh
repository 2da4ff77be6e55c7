#!/usr/bin/env bash
# Install the Debian packages the service needs, only those that are missing:
#   python3-venv              the virtual environment `make` creates
#   Pango + HarfBuzz          WeasyPrint's layout engine for the PDF statements
#   fonts-noto-cjk            Chinese text in the statements and the pages
#   chromium                  Debian's browser, driven headless by the web-page tests (Playwright)
#   npm                       installs axe-core, the accessibility check those tests run (skipped
#                             when an npm is already on the PATH)
# Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk chromium npm)

missing=()
for package in "${packages[@]}"; do
  # A Python that is not Debian's (pyenv, a source build) brings its own venv module.
  if [ "$package" = python3-venv ] && python3 -c 'import venv, ensurepip' 2>/dev/null; then
    continue
  fi
  if [ "$package" = npm ] && command -v npm >/dev/null; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "Please install these packages with your system's package manager: ${missing[*]}" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Run as root or install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "Installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
