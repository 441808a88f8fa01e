#!/usr/bin/env bash
# Create a virtual environment from a lock file: ops/make_venv.sh <dir> <version> <lock> [interpreter]
# Rasa 3.6 runs only on Python 3.10; everything else runs on a current Python (3.11+).
# The interpreter is found on PATH, then among pyenv's installed versions (whose shims fail when
# the version is not selected), then in the usual places; an explicit interpreter wins.
set -euo pipefail
venv=$1 version=$2 lock=$3 wanted=${4:-}

runs() { [ -n "$1" ] && "$1" -c "import sys, venv; sys.exit(sys.version_info[:2] != tuple(map(int, '$version'.split('.'))))" >/dev/null 2>&1; }

python=""
candidates=("$wanted" "python$version")
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)"/versions/"$version".*/bin; do candidates+=("$dir/python$version"); done
fi
candidates+=("$HOME/.pyenv/versions/$version"*/bin/"python$version" "/usr/local/bin/python$version" "/usr/bin/python$version")
for candidate in "${candidates[@]}"; do
  if runs "$candidate"; then python=$candidate; break; fi
done

if [ -z "$python" ]; then
  cat >&2 <<MSG

  Python $version was not found, and ${venv} needs it.
  (Rasa Open Source 3.6 only supports Python 3.10; the rest of the project uses 3.11.)
  Install it with one of:
    pyenv install $version                                   # pyenv (found automatically afterwards)
    sudo apt install python$version python$version-venv      # Debian/Ubuntu (deadsnakes PPA on older Ubuntu)
    uv python install $version                               # uv
  or name an interpreter: make run PYTHON310=/path/to/python3.10 PYTHON311=/path/to/python3.11

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
