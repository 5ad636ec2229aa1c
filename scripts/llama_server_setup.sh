#!/usr/bin/env bash
# Builds a real llama-server and a tiny model for tests/llama_server_test.ts, with nothing but
# the npm registry (and Debian's python3-numpy): the node-llama-cpp package ships llama.cpp's
# sources, and its linux-x64 package the prebuilt libllama and libggml that the server links.
#
# Everything goes to ${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/llama-server/<version>/ (or
# $SWITCHYARD_LLAMA_SERVER_DIR): bin/llama-server with its libraries, and model.gguf. A folder
# that is already complete is reused, so a second run takes a second. Prints the folder last.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(tr -d '[:space:]' < "$here/llama_server/node-llama-cpp.version")"
cache="${SWITCHYARD_LLAMA_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/llama-server/$version}"
python=/usr/bin/python3
jobs="$(nproc 2>/dev/null || echo 2)"

say() { echo "llama-server setup: $*" >&2; }
fail() { say "$*"; exit 1; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  *) fail "only linux-x64 is supported, this is $(uname -s)-$(uname -m)" ;;
esac
for tool in npm git cmake make c++ tar; do
  command -v "$tool" >/dev/null || fail "\"$tool\" is needed and not installed"
done

model_recipe="$(sha256sum "$here/llama_server/tiny_model.py" | cut -c1-16)"
if [ -x "$cache/bin/llama-server" ] && [ -f "$cache/model.gguf" ] &&
  [ "$(cat "$cache/model.recipe" 2>/dev/null)" = "$model_recipe" ]; then
  say "using $cache"
  echo "$cache"
  exit 0
fi

if ! "$python" -c "import numpy" 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing python3-numpy"
    apt-get install -y -qq python3-numpy >/dev/null ||
      { apt-get update -qq >/dev/null && apt-get install -y -qq python3-numpy >/dev/null; } ||
      fail "cannot install python3-numpy"
  else
    fail "$python cannot import numpy: install Debian's python3-numpy"
  fi
fi

mkdir -p "$(dirname "$cache")"
work="$(mktemp -d "$(dirname "$cache")/.build-$version-XXXXXX")"
trap 'rm -rf "$work"' EXIT
started=$SECONDS

say "fetching node-llama-cpp@$version and @node-llama-cpp/$platform@$version"
(cd "$work" && npm pack --silent "node-llama-cpp@$version" "@node-llama-cpp/$platform@$version" \
  >/dev/null) || fail "npm pack failed"
mkdir "$work/package" "$work/prebuilt" "$work/out"
tar xzf "$work/node-llama-cpp-$version.tgz" -C "$work/package" --strip-components=1
tar xzf "$work/node-llama-cpp-$platform-$version.tgz" -C "$work/prebuilt" --strip-components=1
git clone --quiet "$work/package/llama/gitRelease.bundle" "$work/llama.cpp" 2>/dev/null ||
  fail "cannot unpack llama.cpp's sources from the package's git bundle"

if [ -x "$cache/bin/llama-server" ]; then
  cp -a "$cache/." "$work/out/"
else
  libs="$work/prebuilt/bins/$platform"
  [ -f "$libs/libllama-common.so" ] || fail "no prebuilt libllama-common.so in $libs"
  say "building llama-server with $jobs jobs"
  shim="$work/shim"
  mkdir "$shim"
  cp "$here/llama_server/CMakeLists.txt" "$shim/"
  # The server's and the UI's build files read these from the project's root.
  for folder in ggml scripts common tools vendor include; do
    ln -s "$work/llama.cpp/$folder" "$shim/$folder"
  done
  # Unoptimised: the model's arithmetic runs in the prebuilt libraries, and the server's own code
  # at -O0 compiles in about half the CPU time of a Release build.
  cmake -S "$shim" -B "$work/build" -DCMAKE_BUILD_TYPE= \
    -DCMAKE_C_FLAGS="-O0 -g0" -DCMAKE_CXX_FLAGS="-O0 -g0" \
    -DLLAMA_SRC="$work/llama.cpp" -DLLAMA_LIBS="$libs" \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF >"$work/configure.log" 2>&1 ||
    { tail -30 "$work/configure.log" >&2; fail "cmake could not configure the build"; }
  cmake --build "$work/build" --target llama-server -j "$jobs" >"$work/build.log" 2>&1 ||
    { grep -B2 -A8 -m3 'error' "$work/build.log" >&2; fail "the build failed"; }
  mkdir "$work/out/bin"
  cp "$libs"/*.so "$work/build/server/llama-server" "$work/out/bin/"
  "$work/out/bin/llama-server" --version >/dev/null 2>&1 || fail "the built llama-server does not run"
  cp "$work/llama.cpp/LICENSE" "$work/out/LICENSE-llama.cpp"
  say "built llama-server in $((SECONDS - started)) s"
fi

say "writing the model"
"$python" "$here/llama_server/tiny_model.py" "$work/llama.cpp/gguf-py" \
  "$work/llama.cpp/models/ggml-vocab-llama-spm.gguf" "$work/out/model.gguf" >/dev/null ||
  fail "cannot write the model"
echo "$model_recipe" >"$work/out/model.recipe"

rm -rf "$cache"
mv "$work/out" "$cache"
say "ready in $((SECONDS - started)) s: $cache"
echo "$cache"
