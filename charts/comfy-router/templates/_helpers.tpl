{{/* Chart name, cut to 63 characters (a DNS label). */}}
{{- define "comfy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified name: the release name, plus the chart name unless the release already holds it. */}}
{{- define "comfy.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "comfy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "comfy.labels" -}}
helm.sh/chart: {{ include "comfy.chart" . }}
app.kubernetes.io/name: {{ include "comfy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: comfyoperator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: include "comfy.selectorLabels" (dict "ctx" $ "component" "router"). */}}
{{- define "comfy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "comfy.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component. */}}
{{- define "comfy.componentLabels" -}}
{{ include "comfy.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "comfy.operator.fullname" -}}
{{- printf "%s-operator" (include "comfy.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "comfy.router.fullname" -}}
{{- include "comfy.fullname" . -}}
{{- end -}}

{{- define "comfy.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (include "comfy.operator.fullname" .) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "comfy.router.serviceAccountName" -}}
{{- if .Values.router.serviceAccount.create -}}
{{- default (include "comfy.router.fullname" .) .Values.router.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.router.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* image reference: include "comfy.image" (dict "image" .Values.router.image "ctx" $) */}}
{{- define "comfy.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{- define "comfy.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Name of the Secret holding the API key the operator sends to the router. */}}
{{- define "comfy.operator.routerKeySecretName" -}}
{{- default (printf "%s-router-key" (include "comfy.operator.fullname" .)) .Values.operator.router.existingSecret -}}
{{- end -}}

{{/*
"true" when the operator talks to the router: asked for, and a key exists: operator.router.existingSecret,
or one the chart makes (not with router.auth.existingSecret: the user manages the router's keys then).
*/}}
{{- define "comfy.operator.usesRouter" -}}
{{- if and .Values.operator.enabled .Values.operator.router.enabled (or .Values.operator.router.existingSecret (not .Values.router.auth.existingSecret)) }}true{{ end -}}
{{- end -}}

{{/* The router URL the operator asks (--router-url). */}}
{{- define "comfy.operator.routerUrl" -}}
{{- default (printf "http://%s.%s.svc:%v" (include "comfy.router.fullname" .) .Release.Namespace .Values.router.service.port) .Values.operator.router.url -}}
{{- end -}}

{{/* Name of the Secret holding the router's password and API keys. */}}
{{- define "comfy.router.secretName" -}}
{{- default (printf "%s-auth" (include "comfy.router.fullname" .)) .Values.router.auth.existingSecret -}}
{{- end -}}

{{/* Name of the Secret holding the worker cleanup secret (key `token`), shared by the router and the operator. */}}
{{- define "comfy.workerCleanup.secretName" -}}
{{- default (printf "%s-worker-cleanup" (include "comfy.fullname" .)) .Values.workerCleanup.existingSecret -}}
{{- end -}}

{{/* Name of the Secret holding the S3 credentials (empty when none is configured). */}}
{{- define "comfy.s3.secretName" -}}
{{- $s3 := .Values.router.outputs.s3 -}}
{{- if $s3.existingSecret -}}
{{- $s3.existingSecret -}}
{{- else if and $s3.accessKeyId $s3.secretAccessKey -}}
{{- printf "%s-s3" (include "comfy.router.fullname" .) -}}
{{- else if .Values.minio.enabled -}}
{{- printf "%s-minio" (include "comfy.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "comfy.cache.claimName" -}}
{{- if .Values.cache.existingClaim -}}
{{- .Values.cache.existingClaim -}}
{{- else -}}
{{- default (printf "%s-cache" (include "comfy.fullname" .)) .Values.cache.name -}}
{{- end -}}
{{- end -}}

{{- define "comfy.router.dataClaimName" -}}
{{- default (printf "%s-data" (include "comfy.router.fullname" .)) .Values.router.persistence.existingClaim -}}
{{- end -}}

{{/* Namespaces the operator watches, as a list (the release namespace in namespaced mode when none are set). */}}
{{- define "comfy.operator.namespaces" -}}
{{- if .Values.operator.watchNamespaces -}}
{{- join "," .Values.operator.watchNamespaces -}}
{{- else if not .Values.rbac.clusterWide -}}
{{- .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{- define "comfy.router.namespaces" -}}
{{- if .Values.router.watchNamespaces -}}
{{- join "," .Values.router.watchNamespaces -}}
{{- else -}}
{{- include "comfy.operator.namespaces" . -}}
{{- end -}}
{{- end -}}

{{/* S3 endpoint: the configured one, or the in-chart MinIO. */}}
{{- define "comfy.s3.endpoint" -}}
{{- if .Values.router.outputs.s3.endpoint -}}
{{- .Values.router.outputs.s3.endpoint -}}
{{- else if .Values.minio.enabled -}}
{{- printf "http://%s-minio.%s.svc:9000" (include "comfy.fullname" .) .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{- define "comfy.s3.bucket" -}}
{{- if .Values.router.outputs.s3.bucket -}}
{{- .Values.router.outputs.s3.bucket -}}
{{- else if .Values.minio.enabled -}}
{{- .Values.minio.bucket -}}
{{- end -}}
{{- end -}}

{{/* Rules the operator needs on the resources it manages (config/rbac must stay inside these). */}}
{{- define "comfy.operator.rules" -}}
- apiGroups: [""]
  resources: ["pods", "services", "configmaps", "persistentvolumeclaims"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["comfyoperator.io"]
  resources: ["comfynodes", "workflowdeployments"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["comfyoperator.io"]
  resources: ["comfynodes/status", "workflowdeployments/status", "comfynodes/scale", "workflowdeployments/scale"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["comfyoperator.io"]
  resources: ["comfynodes/finalizers", "workflowdeployments/finalizers"]
  verbs: ["update"]
{{- end -}}

{{/* Rules the router needs: it reads workers and workflows, and the ConfigMaps a workflowRef names. */}}
{{- define "comfy.router.rules" -}}
- apiGroups: ["comfyoperator.io"]
  resources: ["comfynodes", "workflowdeployments"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch"]
{{- end -}}

{{/* A value as text for an environment variable: whole numbers without an exponent. */}}
{{- define "comfy.scalar" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) -}}
{{- int64 . -}}
{{- else -}}
{{- . -}}
{{- end -}}
{{- end -}}

{{/* The Secret and key the router's PostgreSQL connection string is read from. */}}
{{- define "comfy.router.storeSecretName" -}}
{{- $store := .Values.router.store }}
{{- if $store.existingSecret }}{{ $store.existingSecret }}
{{- else if $store.connectionString }}{{ include "comfy.router.fullname" . }}-store
{{- else }}{{ include "comfy.fullname" . }}-postgresql
{{- end }}
{{- end }}

{{- define "comfy.router.storeSecretKey" -}}
{{- if .Values.router.store.existingSecret }}{{ .Values.router.store.existingSecretKey }}
{{- else }}connection-string
{{- end }}
{{- end }}
