#!/usr/bin/env bash
# Create a virtual environment from a lock file: ops/make_venv.sh <dir> <python> <lock>
# Rasa 3.6 runs only on Python 3.10; everything else runs on a current Python (3.11+).
set -euo pipefail
venv=$1 python=$2 lock=$3

if ! "$python" -c 'import sys, venv' >/dev/null 2>&1; then
  cat >&2 <<MSG

  $python was not found (or does not run), and ${venv} needs it.
  Rasa Open Source 3.6 only supports Python 3.10; the rest of the project uses 3.11.
  Install it with one of:
    pyenv install 3.10.13 && pyenv global system 3.11 3.10.13     # pyenv
    sudo apt install python3.10 python3.10-venv                   # Debian/Ubuntu (deadsnakes PPA on older Ubuntu)
    uv python install 3.10                                        # uv
  or point make at an interpreter: make run PYTHON310=/path/to/python3.10 PYTHON311=/path/to/python3.11

MSG
  exit 1
fi

echo "Creating $venv with $("$python" --version) from $lock (Rasa's environment takes a few minutes)..."
rm -rf "$venv"
"$python" -m venv "$venv"
# (grep drops warnings about package mirrors a machine's pip.conf may list but not have)
quiet_pip() { "$venv/bin/python" -m pip --disable-pip-version-check "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }; }
quiet_pip install --quiet --upgrade pip==24.2
quiet_pip install --quiet -r "$lock"
touch "$venv/.installed"
