{{/* Names and labels, as `helm create` lays them out. */}}
{{- define "ml-inference.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ml-inference.fullname" -}}
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

{{- define "ml-inference.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ml-inference.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ml-inference.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The API pods only: the drift CronJob's pods share name and instance but must never receive traffic. */}}
{{- define "ml-inference.apiSelectorLabels" -}}
{{ include "ml-inference.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "ml-inference.labels" -}}
helm.sh/chart: {{ include "ml-inference.chart" . }}
{{ include "ml-inference.selectorLabels" . }}
app.kubernetes.io/version: {{ include "ml-inference.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ml-inference.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ml-inference.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ml-inference.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "ml-inference.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "ml-inference.imageTag" .) }}
{{- end }}
{{- end }}

{{/* Pods that may run at once: what decides between ReadWriteOnce and ReadWriteMany. */}}
{{- define "ml-inference.multiReplica" -}}
{{- if or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{- define "ml-inference.dataClaimName" -}}
{{- .Values.persistence.existingClaim | default (printf "%s-data" (include "ml-inference.fullname" .)) }}
{{- end }}

{{- define "ml-inference.accessModes" -}}
{{- if .Values.persistence.accessModes }}
{{- toJson .Values.persistence.accessModes }}
{{- else if include "ml-inference.multiReplica" . }}
{{- toJson (list "ReadWriteMany") }}
{{- else }}
{{- toJson (list "ReadWriteOnce") }}
{{- end }}
{{- end }}

{{/* The chart's own Secret holds whatever the user did not point at an existing one. */}}
{{- define "ml-inference.secretName" -}}
{{- printf "%s-secrets" (include "ml-inference.fullname" .) }}
{{- end }}

{{- define "ml-inference.ownSecretNeeded" -}}
{{- if or (and .Values.auth.enabled (not .Values.auth.existingSecret)) (and .Values.alertWebhook.url (not .Values.alertWebhook.existingSecret)) }}true{{ end }}
{{- end }}

{{/*
The API keys the chart's Secret holds: auth.apiKeys, or else one random key generated at install and kept on
upgrades (read back from the Secret in the cluster), so a default install is never open.
*/}}
{{- define "ml-inference.apiKeys" -}}
{{- if .Values.auth.apiKeys }}
{{- join "," .Values.auth.apiKeys }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "ml-inference.secretName" .) }}
{{- if and $existing $existing.data (hasKey $existing.data "API_KEYS") }}
{{- index $existing.data "API_KEYS" | b64dec }}
{{- else }}
{{- randAlphaNum 40 }}
{{- end }}
{{- end }}
{{- end }}

{{/* Refuse combinations that would render fine but fail or misbehave in the cluster. */}}
{{- define "ml-inference.validate" -}}
{{- if and (include "ml-inference.multiReplica" .) .Values.persistence.enabled (not .Values.persistence.existingClaim) (not (has "ReadWriteMany" (.Values.persistence.accessModes | default (list "ReadWriteMany")))) }}
{{- fail "more than one replica (or autoscaling) shares the data volume: persistence.accessModes must include ReadWriteMany" }}
{{- end }}
{{- if and .Values.driftCronJob.enabled (not .Values.persistence.enabled) }}
{{- fail "driftCronJob.enabled needs persistence.enabled: the CronJob reads the prediction log from the shared volume" }}
{{- end }}
{{- if and .Values.driftCronJob.enabled (not .Values.driftCronJob.models) }}
{{- fail "driftCronJob.models must name at least one model" }}
{{- end }}
{{- if and .Values.probes.readiness.grpc (not .Values.grpc.enabled) }}
{{- fail "probes.readiness.grpc asks the gRPC health service, which needs grpc.enabled" }}
{{- end }}
{{- if and (eq .Values.models.source "volume") (not .Values.models.existingClaim) }}
{{- fail "models.source=volume needs models.existingClaim: a claim holding <name>/<version>/model.onnx folders" }}
{{- end }}
{{- $drainMs := add (int .Values.config.shutdownDelayMs) (int .Values.config.shutdownTimeoutMs) }}
{{- if le (mul (int .Values.shutdown.terminationGracePeriodSeconds) 1000) $drainMs }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds (%d) must exceed config.shutdownDelayMs + config.shutdownTimeoutMs (%d ms), or Kubernetes kills the pod mid-drain" (int .Values.shutdown.terminationGracePeriodSeconds) $drainMs) }}
{{- end }}
{{- end }}

{{/*
HTTP_WORKERS: config.httpWorkers, or else one HTTP process per CPU of the container's limit, rounded up ("500m" → 1,
"1500m" → 2, "2" → 2), or 1 without a CPU limit. The service's own default counts the node's cores, not the pod's
share of them, and a pod given one CPU is best served by a single process with no cluster primary.
*/}}
{{- define "ml-inference.httpWorkers" -}}
{{- $cpu := toString (dig "limits" "cpu" "" (.Values.resources | default dict)) }}
{{- if .Values.config.httpWorkers }}
{{- .Values.config.httpWorkers | int }}
{{- else if not $cpu }}
{{- 1 }}
{{- else if hasSuffix "m" $cpu }}
{{- max 1 (div (add (trimSuffix "m" $cpu | int) 999) 1000) }}
{{- else }}
{{- max 1 (ceil (float64 $cpu) | int) }}
{{- end }}
{{- end }}

{{/* Environment every container of the release gets: settings from the ConfigMap, secrets by reference. */}}
{{- define "ml-inference.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "ml-inference.fullname" . }}
{{- if or .Values.auth.enabled .Values.auth.adminExistingSecret .Values.alertWebhook.url .Values.alertWebhook.existingSecret }}
env:
  {{- if .Values.auth.enabled }}
  - name: API_KEYS
    valueFrom:
      secretKeyRef:
        name: {{ .Values.auth.existingSecret | default (include "ml-inference.secretName" .) }}
        key: {{ if .Values.auth.existingSecret }}{{ .Values.auth.existingSecretKey }}{{ else }}API_KEYS{{ end }}
  {{- end }}
  {{- with .Values.auth.adminExistingSecret }}
  - name: ADMIN_API_KEYS
    valueFrom:
      secretKeyRef:
        name: {{ . }}
        key: {{ $.Values.auth.adminExistingSecretKey }}
  {{- end }}
  {{- if or .Values.alertWebhook.url .Values.alertWebhook.existingSecret }}
  - name: ALERT_WEBHOOK_URL
    valueFrom:
      secretKeyRef:
        name: {{ .Values.alertWebhook.existingSecret | default (include "ml-inference.secretName" .) }}
        key: {{ if .Values.alertWebhook.existingSecret }}{{ .Values.alertWebhook.existingSecretKey }}{{ else }}ALERT_WEBHOOK_URL{{ end }}
  {{- end }}
{{- end }}
{{- end }}

{{- define "ml-inference.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /app/data
{{- if eq .Values.models.source "volume" }}
- name: models
  mountPath: /models
  readOnly: true
  {{- with .Values.models.subPath }}
  subPath: {{ . }}
  {{- end }}
{{- end }}
{{- end }}

{{- define "ml-inference.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
- name: data
  {{- if .Values.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "ml-inference.dataClaimName" . }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- if eq .Values.models.source "volume" }}
- name: models
  persistentVolumeClaim:
    claimName: {{ .Values.models.existingClaim }}
    readOnly: true
{{- end }}
{{- end }}
