#!/usr/bin/env bash
# End to end on kind: create a one-node cluster, build and load the images, helm install the chart
# with values-kind.yaml, add a CPU ComfyUI worker, submit a model-free run (EmptyImage -> SaveImage)
# through the router's REST API, wait for it to succeed, download its output, tear down.
#
# Needs: docker, kind, kubectl, helm, curl, jq. Run from anywhere:  hack/kind-e2e.sh
# Environment:
#   CLUSTER_NAME   kind cluster name (default comfy)
#   NAMESPACE      release namespace (default comfy)
#   KEEP_CLUSTER=1 leave the cluster running at the end (and on failure) to look around
#   SKIP_BUILD=1   reuse images already built and tagged :dev / :dev-cpu
#   SAMPLES        worker manifests to apply (default hack/kind/comfynode-cpu.yaml)
#   OUT_DIR        where the output image is saved (default ./kind-e2e-output)
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER_NAME=${CLUSTER_NAME:-comfy}
NAMESPACE=${NAMESPACE:-comfy}
SAMPLES=${SAMPLES:-hack/kind/comfynode-cpu.yaml}
OUT_DIR=${OUT_DIR:-kind-e2e-output}
ROUTER=http://127.0.0.1:8080
API_KEY=kind-e2e-api-key-0001 # router.auth.apiKeys in values-kind.yaml
ROUTER_IMAGE=comfyoperator/comfy-router:dev
OPERATOR_IMAGE=comfyoperator/comfy-operator:dev
COMFYUI_IMAGE=comfyoperator/comfyui:dev-cpu

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'kind-e2e: %s\n' "$*" >&2; exit 1; }

for tool in docker kind kubectl helm curl jq; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done

diagnostics() {
  log "diagnostics"
  kubectl get pods,comfynodes,pvc -A -o wide || true
  kubectl -n "$NAMESPACE" describe comfynodes || true
  kubectl -n "$NAMESPACE" logs deploy/comfy-operator --tail=200 || true
  kubectl -n "$NAMESPACE" logs deploy/comfy --tail=200 || true
  kubectl -n "$NAMESPACE" logs -l app.kubernetes.io/managed-by=comfy-operator --all-containers --tail=100 || true
}

teardown() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then diagnostics; fi
  if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
    log "keeping cluster $CLUSTER_NAME (kind delete cluster --name $CLUSTER_NAME)"
  else
    log "tearing down"
    kind delete cluster --name "$CLUSTER_NAME" || true
  fi
  exit "$rc"
}
trap teardown EXIT

log "creating kind cluster $CLUSTER_NAME"
if ! kind get clusters | grep -qx "$CLUSTER_NAME"; then
  kind create cluster --name "$CLUSTER_NAME" --config hack/kind/cluster.yaml --wait 180s
fi
kubectl config use-context "kind-$CLUSTER_NAME" >/dev/null

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building images"
  revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  docker build -f src/Router/Dockerfile --build-arg REVISION="$revision" -t "$ROUTER_IMAGE" .
  docker build -f src/Operator/Dockerfile --build-arg REVISION="$revision" -t "$OPERATOR_IMAGE" .
  docker build -f deploy/comfyui/Dockerfile.cpu -t "$COMFYUI_IMAGE" deploy/comfyui
fi

log "loading images into kind"
kind load docker-image --name "$CLUSTER_NAME" "$ROUTER_IMAGE" "$OPERATOR_IMAGE" "$COMFYUI_IMAGE"

log "helm install (values-kind.yaml)"
helm upgrade --install comfy charts/comfy-router \
  --namespace "$NAMESPACE" --create-namespace \
  -f charts/comfy-router/values-kind.yaml \
  --wait --timeout 10m
kubectl wait --for=condition=Established crd/comfynodes.comfyoperator.io crd/workflowdeployments.comfyoperator.io --timeout=60s

log "adding a CPU ComfyUI worker ($SAMPLES)"
kubectl apply -n "$NAMESPACE" -f "$SAMPLES"
kubectl wait -n "$NAMESPACE" comfynode --all --for=jsonpath='{.status.phase}'=Idle --timeout=20m

log "waiting for the router at $ROUTER"
deadline=$((SECONDS + 300))
until curl -fsS "$ROUTER/readyz" >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || die "router not ready at $ROUTER/readyz"
  sleep 2
done

log "submitting a model-free run (EmptyImage -> SaveImage)"
auth=(-H "Authorization: Bearer $API_KEY")
run=$(curl -fsS "${auth[@]}" -H 'Content-Type: application/json' --data @hack/kind/first-run.json "$ROUTER/v1/runs")
id=$(jq -r '.id' <<<"$run")
[ -n "$id" ] && [ "$id" != null ] || die "no run id in: $run"
echo "run $id"

log "waiting for run $id to succeed"
deadline=$((SECONDS + 600))
while :; do
  run=$(curl -fsS "${auth[@]}" "$ROUTER/v1/runs/$id")
  status=$(jq -r '.status' <<<"$run")
  case "$status" in
    succeeded) break ;;
    failed|cancelled) die "run $id ended $status: $(jq -c '.error' <<<"$run")" ;;
  esac
  [ "$SECONDS" -lt "$deadline" ] || die "run $id still $status after 10 minutes"
  sleep 3
done
jq . <<<"$run"

log "fetching the output"
mkdir -p "$OUT_DIR"
url=$(jq -r '.outputs[0].url' <<<"$run")
[ -n "$url" ] && [ "$url" != null ] || die "run $id has no outputs"
curl -fsS "${auth[@]}" -L -o "$OUT_DIR/$id.png" "$ROUTER$url"
magic=$(head -c 8 "$OUT_DIR/$id.png" | od -An -tx1 | tr -d ' \n')
[ "$magic" = 89504e470d0a1a0a ] || die "output is not a PNG ($OUT_DIR/$id.png)"
echo "saved $OUT_DIR/$id.png ($(wc -c <"$OUT_DIR/$id.png") bytes)"

log "kind e2e passed"
