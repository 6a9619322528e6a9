#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine; does nothing for what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v kubectl >/dev/null 2>&1 || need_apt+=(kubernetes-client)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
# tools/chart-render (Helm chart tests): Go with sprig and sigs.k8s.io/yaml, built offline in GOPATH mode.
command -v go >/dev/null 2>&1 || need_apt+=(golang-go)
[ -d /usr/share/gocode/src/github.com/Masterminds/sprig ] || need_apt+=(golang-github-masterminds-sprig-dev)
[ -d /usr/share/gocode/src/sigs.k8s.io/yaml ] || need_apt+=(golang-k8s-sigs-yaml-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "missing packages: ${need_apt[*]} (run as root, or install them)" >&2
    exit 1
  fi
fi

# s3rver (the S3 server the output-store tests start) from tests/Testing/S3/package-lock.json.
if [ ! -d tests/Testing/S3/node_modules ]; then
  command -v npm >/dev/null 2>&1 || { echo "missing: node/npm (needed for s3rver in the S3 tests)" >&2; exit 1; }
  (cd tests/Testing/S3 && npm ci --no-audit --no-fund)
fi
