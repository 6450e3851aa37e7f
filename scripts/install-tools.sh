#!/usr/bin/env bash
# Installs the external tools the tests and the conformance run use, on a fresh Debian
# machine of this project's kind (root, apt, Go). Idempotent; prints what it has.
#   curl, h2load (nghttp2-client), wrk, chromium: Debian packages
#   h2spec: go install (v2.6.0 is refused by the module proxy here; falls back to @latest)
set -u
need_apt=()
command -v curl >/dev/null || need_apt+=(curl)
command -v h2load >/dev/null || need_apt+=(nghttp2-client)
command -v wrk >/dev/null || need_apt+=(wrk)
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
if ! command -v h2spec >/dev/null && [ ! -x "$gobin/h2spec" ] && command -v go >/dev/null; then
  go install github.com/summerwind/h2spec/cmd/h2spec@v2.6.0 >/dev/null 2>&1 \
    || go install github.com/summerwind/h2spec/cmd/h2spec@latest >/dev/null 2>&1 \
    || echo "install-tools: h2spec could not be installed" >&2
fi
for tool in curl h2load wrk chromium h2spec; do
  path=$(command -v "$tool" 2>/dev/null || { [ -x "$gobin/$tool" ] && echo "$gobin/$tool"; })
  echo "install-tools: $tool: ${path:-MISSING}"
done
exit 0
