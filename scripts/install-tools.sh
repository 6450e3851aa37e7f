#!/usr/bin/env bash
# Installs the external tools the tests and the conformance run use, on a fresh Debian
# machine of this project's kind (root, apt, Go). Idempotent; prints what it has.
#   curl, h2load (nghttp2-client), wrk, chromium, ss (iproute2): Debian packages
#   the peers in other languages: scripts/install-peers.sh (BB_PEERS=none skips them)
#   h2spec v2.6.0, in the order conformance/h2spec/binary.py uses: $H2SPEC (must exist),
#     an installed 2.6.0, the release binary, a build of the tag's source ($H2SPEC_SRC or
#     shared/tools/h2spec-2.6.0.tar.gz beside the repo) into .cache/h2spec/2.6.0, and
#     only then `go install @latest` (2.2.1, reported in amber)
set -u
need_apt=()
command -v curl >/dev/null || need_apt+=(curl)
command -v h2load >/dev/null || need_apt+=(nghttp2-client)
command -v wrk >/dev/null || need_apt+=(wrk)
command -v ss >/dev/null || need_apt+=(iproute2)
if [ "${BB_SKIP_CHROMIUM:-0}" != 1 ]; then
  command -v chromium >/dev/null || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null 2>&1 \
      || echo "install-tools: apt-get install ${need_apt[*]} failed" >&2
  else
    echo "install-tools: please install ${need_apt[*]}" >&2
  fi
fi
gobin="$(go env GOPATH 2>/dev/null)/bin"
repo="$(cd "$(dirname "$0")/.." && pwd)"
h2dir="$repo/.cache/h2spec/2.6.0"
h2spec_is_pinned() { "$1" --version 2>/dev/null | grep -q 'Version: 2\.6\.0'; }
h2spec_path=""
if [ -n "${H2SPEC:-}" ]; then
  if [ -x "$H2SPEC" ]; then h2spec_path="$H2SPEC"; else
    echo "install-tools: H2SPEC=$H2SPEC is not an executable file" >&2; exit 1; fi
fi
if [ -z "$h2spec_path" ]; then
  for c in "$h2dir/h2spec" "$(command -v h2spec 2>/dev/null)" "$gobin/h2spec"; do
    if [ -n "$c" ] && [ -x "$c" ] && h2spec_is_pinned "$c"; then h2spec_path="$c"; break; fi
  done
fi
if [ -z "$h2spec_path" ]; then
  mkdir -p "$h2dir"
  url=https://github.com/summerwind/h2spec/releases/download/v2.6.0/h2spec_linux_amd64.tar.gz
  if curl -fsSL --max-time 8 "$url" 2>/dev/null | tar -xz -C "$h2dir" h2spec 2>/dev/null \
      && h2spec_is_pinned "$h2dir/h2spec"; then
    h2spec_path="$h2dir/h2spec"
  fi
fi
if [ -z "$h2spec_path" ] && command -v go >/dev/null; then
  src="${H2SPEC_SRC:-}"
  if [ -z "$src" ]; then
    d="$repo"
    while [ "$d" != / ]; do
      d="$(dirname "$d")"
      if [ -f "$d/shared/tools/h2spec-2.6.0.tar.gz" ]; then src="$d/shared/tools/h2spec-2.6.0.tar.gz"; break; fi
    done
  fi
  if [ -n "$src" ]; then
    tmp="$(mktemp -d)"
    if [ -f "$src" ]; then tar -xzf "$src" -C "$tmp"; tree="$(dirname "$(ls -d "$tmp"/*/go.mod | head -1)")"; else tree="$src"; fi
    (cd "$tree" && go build -ldflags "-X main.VERSION=2.6.0 -X main.COMMIT=70ac229" \
        -o "$h2dir/h2spec" ./cmd/h2spec) >/dev/null 2>&1 && h2spec_path="$h2dir/h2spec"
    rm -rf "$tmp"
  fi
fi
if [ -z "$h2spec_path" ] && command -v go >/dev/null; then
  if go install github.com/summerwind/h2spec/cmd/h2spec@latest >/dev/null 2>&1; then
    h2spec_path="$gobin/h2spec"
    echo "install-tools: WARNING h2spec is @latest ($("$h2spec_path" --version)), not 2.6.0" >&2
  fi
fi
[ -n "$h2spec_path" ] || echo "install-tools: h2spec could not be installed" >&2
for tool in curl h2load wrk chromium; do
  path=$(command -v "$tool" 2>/dev/null || { [ -x "$gobin/$tool" ] && echo "$gobin/$tool"; })
  echo "install-tools: $tool: ${path:-MISSING}"
done
echo "install-tools: h2spec: ${h2spec_path:-MISSING}${h2spec_path:+ ($("$h2spec_path" --version 2>/dev/null | head -1))}"
# The independent servers in other languages (nginx, h2o, Node, Go, Rust) the suite compares
# against and the tests drive; BB_PEERS=none skips them.
if [ "${BB_PEERS:-}" != none ]; then
  bash "$repo/scripts/install-peers.sh" || echo "install-tools: some peers could not be prepared (see above)" >&2
fi
exit 0
