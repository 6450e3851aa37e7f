#!/usr/bin/env bash
# Installs and builds the independent servers in other languages that the conformance
# suite compares against (conformance/targets/peers/*.toml), on a fresh Debian machine of
# this project's kind (root, apt; Go, cargo and node on PATH or installable).
# Idempotent; prints what it has; exits 1 if a peer it was asked for could not be built.
#   nginx (nginx-light), h2o: Debian packages, run by the suite with their own config
#   node: `npm ci` of conformance/targets/peers/node (ws from the committed package-lock.json)
#   go:   `go build` of conformance/targets/peers/go (go.mod/go.sum) -> .cache/peers/bin/
#   rust: `cargo build --release --locked` of conformance/targets/peers/rust -> .cache/peers/
#   docker-compose (Debian): only to validate docker-compose.yml (no engine needed)
# BB_PEERS="nginx h2o node go rust" (the default) chooses which.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
peers="$repo/conformance/targets/peers"
cache="$repo/.cache/peers"
wanted=" ${BB_PEERS:-nginx h2o node go rust} "
want() { case "$wanted" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
failed=()
say() { echo "install-peers: $*"; }
mkdir -p "$cache/bin"
# One install at a time (pytest -n workers may start several): npm ci replaces node_modules.
if command -v flock >/dev/null; then
  exec 9>"$cache/.install.lock"
  flock 9
fi

need_apt=()
want nginx && ! command -v nginx >/dev/null && need_apt+=(nginx-light)
want h2o && ! command -v h2o >/dev/null && need_apt+=(h2o)
want node && ! command -v node >/dev/null && need_apt+=(nodejs)
want node && ! command -v npm >/dev/null && need_apt+=(npm)
# tests/conformance/test_compose.py validates docker-compose.yml with Compose itself.
if ! command -v docker-compose >/dev/null && ! docker compose version >/dev/null 2>&1; then
  need_apt+=(docker-compose)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # The suite runs nginx and h2o itself on loopback ports it chooses: keep the packages'
    # system services (port 80) from starting during the install.
    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
    fi
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${need_apt[@]}" >/dev/null 2>&1 || say "apt-get install ${need_apt[*]} failed"
    [ "$created_policy" = 1 ] && rm -f "$policy"
  else
    say "please install ${need_apt[*]}"
  fi
fi

if want node; then
  lock="$peers/node/package-lock.json"
  stamp="$peers/node/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$lock" ]; then
    :
  elif ! command -v npm >/dev/null; then
    failed+=(node)
    say "node: npm is missing"
  elif ! npm ci --prefix "$peers/node" --no-audit --no-fund >"$cache/node-install.log" 2>&1; then
    failed+=(node)
    say "node: npm ci failed (see $cache/node-install.log)"
  fi
fi

if want go; then
  if ! command -v go >/dev/null; then
    failed+=(go)
    say "go: the go command is missing (go.mod needs Go >= 1.26; with an older Go,"
    say "    GOTOOLCHAIN=auto fetches it from the module proxy)"
  elif ! go build -C "$peers/go" -trimpath -o "$cache/bin/bb-peer-go" . \
      >"$cache/go-build.log" 2>&1; then
    failed+=(go)
    say "go: go build failed (see $cache/go-build.log)"
  fi
fi

if want rust; then
  if ! command -v cargo >/dev/null; then
    failed+=(rust)
    say "rust: cargo is missing (install a current toolchain with rustup)"
  elif ! cargo build --release --locked --manifest-path "$peers/rust/Cargo.toml" \
      --target-dir "$cache/rust-target" >"$cache/rust-build.log" 2>&1; then
    failed+=(rust)
    say "rust: cargo build failed (see $cache/rust-build.log)"
  fi
fi

version() { "$@" 2>&1 | head -n 1; }
report() {  # name, path or MISSING, version text
  printf 'install-peers: %-6s %s%s\n' "$1" "$2" "${3:+ ($3)}"
}
if want nginx; then
  p=$(command -v nginx || echo MISSING)
  report nginx "$p" "$([ "$p" != MISSING ] && version nginx -v)"
fi
if want h2o; then
  p=$(command -v h2o || echo MISSING)
  report h2o "$p" "$([ "$p" != MISSING ] && version h2o --version)"
fi
if want node; then
  ws="$peers/node/node_modules/ws/package.json"
  if [ -f "$ws" ] && command -v node >/dev/null; then
    report node "$(command -v node)" "node $(node --version), ws $(node -p "require('$ws').version")"
  else
    report node MISSING
  fi
fi
if want go; then
  p="$cache/bin/bb-peer-go"
  [ -x "$p" ] && report go "$p" "$(go version 2>/dev/null | cut -d' ' -f3)" || report go MISSING
fi
if want rust; then
  p="$cache/rust-target/release/bb-peer-rust"
  [ -x "$p" ] && report rust "$p" "$(rustc --version 2>/dev/null)" || report rust MISSING
fi
if want nginx && ! command -v nginx >/dev/null; then failed+=(nginx); fi
if want h2o && ! command -v h2o >/dev/null; then failed+=(h2o); fi
if [ ${#failed[@]} -gt 0 ]; then
  say "could not prepare: ${failed[*]}"
  exit 1
fi
exit 0
