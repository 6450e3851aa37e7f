#!/usr/bin/env bash
# Prints the versions of Python, of every external tool the tests and the conformance run
# drive, and the installed Python packages (pip freeze): the first thing to read when a
# run on one machine differs from a run on another.
set -u
say() { printf 'versions: %-10s %s\n' "$1" "$2"; }
first() { "$@" 2>&1 | head -n 1; }
say python "$(python --version 2>&1) ($(command -v python))"
gobin="$(go env GOPATH 2>/dev/null)/bin"
h2spec_bin="${H2SPEC:-$(command -v h2spec || { [ -x "$gobin/h2spec" ] && echo "$gobin/h2spec"; })}"
for tool in curl h2load wrk chromium node npm go cargo java nginx h2o; do
  path=$(command -v "$tool" 2>/dev/null) || { say "$tool" MISSING; continue; }
  case $tool in
    go) v=$(first go version) ;;
    java) v=$(first java -version) ;;
    nginx) v=$(first nginx -v) ;;
    h2o) v=$(first h2o --version) ;;
    chromium) v=$(chromium --version 2>/dev/null | tail -n 1) ;;
    wrk) v=$(wrk -v 2>&1 | head -n 1) ;;
    *) v=$(first "$tool" --version) ;;
  esac
  say "$tool" "$v ($path)"
done
if [ -n "$h2spec_bin" ] && [ -x "$h2spec_bin" ]; then
  say h2spec "$(first "$h2spec_bin" --version) ($h2spec_bin; $("$h2spec_bin" --dryrun --strict 2>/dev/null | grep -cE '^\s+[0-9]+: ') cases strict)"
else
  say h2spec "not installed yet (the conformance run builds it: conformance/h2spec/binary.py)"
fi
python - <<'PY' 2>/dev/null || true
from conformance.autobahn.runners import AUTOBAHN_DIR, SUITE_VERSION
present = sorted(p.name for p in AUTOBAHN_DIR.iterdir()) if AUTOBAHN_DIR.exists() else []
print(f"versions: autobahn   autobahntestsuite {SUITE_VERSION} ({AUTOBAHN_DIR}: {', '.join(present) or 'not installed yet'})")
PY
echo "versions: pip freeze:"
python -m pip freeze --all 2>/dev/null | sed 's/^/  /'
