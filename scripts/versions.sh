#!/usr/bin/env bash
# Prints the versions of Python, of every external tool the tests and the conformance run
# drive, and the installed Python packages (pip freeze): the first thing to read when a
# run on one machine differs from a run on another.
set -u
say() { printf 'versions: %-10s %s\n' "$1" "$2"; }
first() { "$@" 2>&1 | head -n 1; }
say python "$(python --version 2>&1) ($(command -v python))"
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
# The h2spec the harness will run (conformance/h2spec/binary.py's order), not the first on PATH.
python - <<'PY' 2>/dev/null || say h2spec "not located (the conformance run builds it: conformance/h2spec/binary.py)"
from conformance.h2spec.binary import locate
h = locate(allow_install=False)
print(f"versions: h2spec     {h.version} ({h.path}; {h.case_count} cases, pinned: {h.pinned})")
PY
python - <<'PY' 2>/dev/null || true
from conformance.autobahn.runners import AUTOBAHN_DIR, SUITE_VERSION
present = sorted(p.name for p in AUTOBAHN_DIR.iterdir()) if AUTOBAHN_DIR.exists() else []
print(f"versions: autobahn   autobahntestsuite {SUITE_VERSION} ({AUTOBAHN_DIR}: {', '.join(present) or 'not installed yet'})")
PY
echo "versions: pip freeze:"
python -m pip freeze --all 2>/dev/null | sed 's/^/  /'
