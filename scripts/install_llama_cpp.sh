#!/usr/bin/env bash
# Installs llama-cpp-python from a wheel cache of Quarry's own, building it once per version and flags.
# pip's own cache keys a source-built wheel by version only, so a native build (which segfaults in
# llama_decode on some CPUs) could be silently reused; this cache is keyed by version + CMAKE_ARGS.
set -euo pipefail
PY=${PY:-.venv/bin/python}
VERSION=${LLAMA_CPP_VERSION:-0.3.36}
FLAGS=${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}
PYVER=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
KEY=$(printf '%s|%s|%s|%s' "$VERSION" "$FLAGS" "$(uname -m)" "$PYVER" | sha256sum | cut -c1-16)
ROOT=${QUARRY_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quarry/wheels}
DIR="$ROOT/llama-cpp-python-$VERSION-$KEY"
MARK=$(dirname "$PY")/../.llama-cpp-build
if [ "$(cat "$MARK" 2>/dev/null)" = "$KEY" ]; then exit 0; fi
if ! compgen -G "$DIR/*.whl" >/dev/null; then
  echo "Building llama-cpp-python $VERSION with CMAKE_ARGS='$FLAGS' (first setup only, ~4 min)..." >&2
  rm -rf "$DIR.partial" && mkdir -p "$DIR.partial"
  printf '%s\n' "$FLAGS" > "$DIR.partial/CMAKE_ARGS"
  CMAKE_ARGS="$FLAGS" "$PY" -m pip wheel --no-cache-dir --no-deps "llama-cpp-python==$VERSION" -w "$DIR.partial"
  rm -rf "$DIR" && mv "$DIR.partial" "$DIR"
fi
"$PY" -m pip install --quiet --force-reinstall --no-deps "$DIR"/*.whl
"$PY" -m pip install --quiet "$DIR"/*.whl
echo "$KEY" > "$MARK"
