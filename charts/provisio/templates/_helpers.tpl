{{/*
The chart name, or nameOverride.
*/}}
{{- define "provisio.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's objects: fullnameOverride, else RELEASE-NAME (RELEASE when it already
contains the name). 63 characters at most: some fields are DNS labels.
*/}}
{{- define "provisio.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of cluster-scoped objects (ClusterRole, ClusterRoleBinding): the release namespace is part of
it, so that releases of the same name in two namespaces do not collide.
*/}}
{{- define "provisio.clusterName" -}}
{{- printf "%s-%s" .Release.Namespace (include "provisio.fullname" .) | trunc 253 | trimSuffix "-" }}
{{- end }}

{{/*
chart label value: NAME-VERSION.
*/}}
{{- define "provisio.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels of every object the chart renders.
*/}}
{{- define "provisio.labels" -}}
helm.sh/chart: {{ include "provisio.chart" . }}
{{ include "provisio.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: provisio
app.kubernetes.io/component: controller
provisio.dev/environment: {{ .Values.environment }}
{{- end }}

{{/*
Selector labels: stable across upgrades (a Deployment's selector cannot change).
*/}}
{{- define "provisio.selectorLabels" -}}
app.kubernetes.io/name: {{ include "provisio.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The controller's ServiceAccount.
*/}}
{{- define "provisio.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "provisio.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: name the existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: repository@digest, else repository:tag (tag defaults to appVersion).
*/}}
{{- define "provisio.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The namespaces the controller watches, as a JSON list (empty: all namespaces). With the namespaced
RBAC scope an empty watchNamespaces means the release namespace.
*/}}
{{- define "provisio.watchNamespaces" -}}
{{- $ns := .Values.watchNamespaces | default list }}
{{- if and (eq .Values.rbac.scope "namespaced") (empty $ns) }}
{{- $ns = list .Release.Namespace }}
{{- end }}
{{- $ns | uniq | toJson }}
{{- end }}

{{/*
Name of the Secret that holds the Redis URL: the existing one, or the one the chart creates from
state.redis.url.
*/}}
{{- define "provisio.redisSecretName" -}}
{{- if .Values.state.redis.existingSecret }}
{{- .Values.state.redis.existingSecret }}
{{- else }}
{{- printf "%s-redis" (include "provisio.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
The Redis this release runs (state.redis.deploy): its name, and "true" when it is deployed.
*/}}
{{- define "provisio.redisName" -}}
{{- printf "%s-redis" (include "provisio.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- /* Its own selector labels: the controller's selectors (Deployment, Service, PDB) must never match it. */}}
{{- define "provisio.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "provisio.name" . }}-redis
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- define "provisio.redisLabels" -}}
helm.sh/chart: {{ include "provisio.chart" . }}
{{ include "provisio.redisSelectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: provisio
app.kubernetes.io/component: redis
{{- end }}
{{- define "provisio.redisDeployed" -}}
{{- if and (eq .Values.state.backend "redis") .Values.state.redis.deploy.enabled }}true{{ end }}
{{- end }}

{{/*
Key of the Redis URL in that Secret.
*/}}
{{- define "provisio.redisSecretKey" -}}
{{- if .Values.state.redis.existingSecret }}{{ .Values.state.redis.key }}{{ else }}url{{ end }}
{{- end }}

{{/*
The state volume is a PersistentVolumeClaim only with the file backend and persistence enabled.
*/}}
{{- define "provisio.statePvc" -}}
{{- if and (eq .Values.state.backend "file") .Values.persistence.enabled }}true{{ end }}
{{- end }}

{{/*
Settings that cannot work together fail the render with a message that says what to change.
The schema (values.schema.json) has already checked types and enums.
*/}}
{{- define "provisio.validate" -}}
{{- if and (eq .Values.state.backend "file") (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "replicaCount is %d, but state.backend \"file\" (embedded SQLite on one volume) supports only 1 replica: set replicaCount: 1, or state.backend: redis with state.redis.url or state.redis.existingSecret" (int .Values.replicaCount)) }}
{{- end }}
{{- if eq .Values.state.backend "redis" }}
{{- if and (not .Values.state.redis.url) (not .Values.state.redis.existingSecret) (not .Values.state.redis.deploy.enabled) }}
{{- fail "state.backend is \"redis\": set state.redis.existingSecret (a Secret holding the Redis URL under state.redis.key) or state.redis.url, or state.redis.deploy.enabled: true to run one with this release" }}
{{- end }}
{{- if and .Values.state.redis.deploy.enabled (or .Values.state.redis.url .Values.state.redis.existingSecret) }}
{{- fail "state.redis.deploy.enabled runs a Redis with this release, but state.redis.url or state.redis.existingSecret names another: keep one of them" }}
{{- end }}
{{- if and .Values.state.redis.url .Values.state.redis.existingSecret }}
{{- fail "state.redis.url and state.redis.existingSecret are both set: keep one of them" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
RBAC rules on the watched resources (ClusterRole with rbac.scope cluster, Role per watched namespace
with rbac.scope namespaced).
*/}}
{{- define "provisio.resourceRules" -}}
- apiGroups: ["provisio.dev"]
  resources: ["connectors", "tasks"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["provisio.dev"]
  resources: ["connectors/status", "tasks/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/*
The Secrets that Connectors reference: get only, never list or watch.
*/}}
{{- define "provisio.secretRules" -}}
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
{{- end }}
