#!/usr/bin/env bash
# Installs what repoctl's tests and demo need on a Debian 12 machine with Docker running:
#   - Debian packages: mmdebstrap (to make the test image), pacman and makepkg (pacman is the
#     independent client that installs from the published repository), git, zstd; jq (the
#     sharded workflow template's scripts, run by tests/integration/waves.rs); groff, zsh
#     and fish (the manual page and completion scripts `repoctl man` / `completions` print);
#     chromium (a headless browser that loads the repository page, index.html); linkchecker
#     (checks the links of the user guide, docs/, once built);
#   - mdbook, which builds the user guide (tests/guide.rs): Debian's package where the release
#     has one (trixie and later), else built once from crates.io, pinned, into ~/.cargo/bin;
#   - moto[server] from PyPI: a real S3 server on loopback;
#   - check-jsonschema and zizmor from PyPI: the workflows' schema check and security audit;
#   - mermaidx from PyPI: Mermaid's own parser (its real mermaid.js in QuickJS), which reads back
#     the charts repoctl writes into Markdown (tests/support/mermaid_read.py);
#   - feedparser from PyPI: reads the Atom feed repoctl publishes (tests/support/feed_read.py);
#   - the offline Arch-compatible builder image repoctl-testbed:latest (images/testbed), and its
#     variants repoctl-testbed:prev and :next, whose official [extra] differs as Arch's does from
#     one week to the next (images/testbed/variants).
# Idempotent: what is already there is left alone. `--demo` (scripts/demo.sh) installs only what
# the demo needs (pacman, makepkg, mmdebstrap, git, zstd and the test image): not mdbook, moto,
# the browser, the shells, the Python checkers nor the image variants, which only the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

demo=false
[ "${1:-}" = "--demo" ] && demo=true

# The demo needs only what builds and reads a local repository; the rest is for the tests.
apt_pairs=(mmdebstrap:mmdebstrap pacman:pacman-package-manager makepkg:makepkg bsdtar:libarchive-tools git:git zstd:zstd)
$demo || apt_pairs+=(jq:jq groff:groff-base zsh:zsh fish:fish chromium:chromium linkchecker:linkchecker)
need_apt=()
for pair in "${apt_pairs[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need_apt+=("${pair#*:}")
done
if ((${#need_apt[@]})); then
  echo "testbed: installing ${need_apt[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# mdbook: Debian packages it from trixie on (0.4.48; sid 0.5.4); bookworm has none, so there it
# is built from crates.io (a few minutes, once), without the serve and watch features the test
# does not use. tests/guide.rs finds it on PATH or in ~/.cargo/bin.
mdbook_version=0.5.4
if ! $demo && ! command -v mdbook >/dev/null 2>&1 && ! [ -x "$HOME/.cargo/bin/mdbook" ]; then
  if apt-cache policy mdbook 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    echo "testbed: installing mdbook (Debian)"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mdbook >/dev/null
  else
    echo "testbed: building mdbook $mdbook_version from crates.io (this release of Debian has no package)"
    cargo install --locked --quiet mdbook --version "$mdbook_version" --no-default-features --features search
  fi
fi
$demo || { command -v mdbook || ls "$HOME/.cargo/bin/mdbook"; } >/dev/null 2>&1 \
  || { echo "testbed: mdbook is not on PATH nor in ~/.cargo/bin after installing" >&2; exit 1; }

# The tests' own tools (the demo publishes to a local directory and needs none of them).
test_tools() {
  if ! command -v moto_server >/dev/null 2>&1; then
    echo "testbed: installing moto[server]"
    # A Debian system Python refuses pip (PEP 668); a pyenv or venv Python does not need the flag.
    python3 -m pip install --quiet 'moto[server]>=5.1,<6' 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages 'moto[server]>=5.1,<6'
    command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
  fi
  command -v moto_server >/dev/null || { echo "testbed: moto_server is not on PATH after installing" >&2; exit 1; }

  # Pinned: a new zizmor release can add audits, and the tests must not change under our feet.
  py_tools=("check-jsonschema==0.39.0:check-jsonschema" "zizmor==1.32.0:zizmor")
  for pair in "${py_tools[@]}"; do
    spec="${pair%%:*}" cmd="${pair#*:}"
    if ! command -v "$cmd" >/dev/null 2>&1 || ! "$cmd" --version 2>/dev/null | grep -q "${spec#*==}"; then
      echo "testbed: installing $spec"
      python3 -m pip install --quiet "$spec" 2>/dev/null || python3 -m pip install --quiet --break-system-packages "$spec"
    fi
  done
  # A library, not a command: pinned, because tests/support/mermaid_read.py uses its engine's
  # internals to read Mermaid's parsed model.
  mermaidx=0.10.1
  if ! python3 -c "import sys, mermaidx; sys.exit(mermaidx.__version__ != '$mermaidx')" 2>/dev/null; then
    echo "testbed: installing mermaidx==$mermaidx"
    python3 -m pip install --quiet "mermaidx==$mermaidx" 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages "mermaidx==$mermaidx"
  fi
  python3 -c "import mermaidx" || { echo "testbed: python3 cannot import mermaidx after installing" >&2; exit 1; }
  # Pinned: the feed test reads its version and bozo flag.
  feedparser=6.0.14
  if ! python3 -c "import sys, feedparser; sys.exit(feedparser.__version__ != '$feedparser')" 2>/dev/null; then
    echo "testbed: installing feedparser==$feedparser"
    python3 -m pip install --quiet "feedparser==$feedparser" 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages "feedparser==$feedparser"
  fi
  python3 -c "import feedparser" || { echo "testbed: python3 cannot import feedparser after installing" >&2; exit 1; }
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
  for pair in "${py_tools[@]}"; do
    command -v "${pair#*:}" >/dev/null || { echo "testbed: ${pair#*:} is not on PATH after installing" >&2; exit 1; }
  done

}
# (In an `if` body, not after `||`: there `set -e` would not stop at a failed step inside.)
if ! $demo; then test_tools; fi

docker info >/dev/null 2>&1 || { echo "testbed: no Docker daemon answers (docker info)" >&2; exit 1; }
images/testbed/build.sh
if ! $demo; then bash images/testbed/variants/build.sh; fi
