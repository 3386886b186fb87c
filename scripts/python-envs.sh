#!/usr/bin/env bash
# Builds the Python virtual environments of the test matrix from the pinned files in test/stacks/ and prints
# one `name=<path to its python>` line each. Usage: scripts/python-envs.sh [redis5 latest tools bench ...]
# (default: redis5 latest tools). Each venv lives in .cache/venvs/<name>-<hash>, the hash covering the pinned
# file and the interpreter's version, so a second run reuses it and an edited pin file builds a new one (older
# ones of the same name are removed). pip's download cache is .cache/pip. The interpreter is `python3` on PATH
# (pyenv 3.11 on CI) unless GEN_PYTHON names another. The floor stack is Debian's /usr/bin/python3 with apt
# packages (scripts/test.sh installs those); it needs no venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${GEN_PYTHON:-python3}
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(redis5 latest tools)
pyver=$("$PY" -c 'import sys; print(sys.version)')
mkdir -p .cache/venvs .cache/pip
exec 9>.cache/venvs/.lock
flock 9 # one builder at a time (test files running in parallel ask for their stacks too)
for name in "${names[@]}"; do
  pins="test/stacks/python-$name.txt"
  [ -f "$pins" ] || { echo "python-envs: no $pins" >&2; exit 2; }
  hash=$( { cat "$pins"; echo "$pyver"; } | sha256sum | cut -c1-12)
  dir=".cache/venvs/$name-$hash"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    for old in .cache/venvs/"$name"-*; do [ -e "$old" ] && rm -rf "$old"; done
    echo "python-envs: building $dir from $pins" >&2
    "$PY" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --cache-dir .cache/pip --no-input -r "$pins" >&2
    touch "$dir/.complete"
  fi
  echo "$name=$PWD/$dir/bin/python"
done
