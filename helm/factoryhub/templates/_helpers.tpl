{{/* Names, labels and the pieces several templates share. */}}

{{- define "factoryhub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "factoryhub.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains (include "factoryhub.name" .) .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "factoryhub.name" .) | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "factoryhub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "factoryhub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: hub
{{- end -}}

{{- define "factoryhub.labels" -}}
{{ include "factoryhub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Ports and paths inside the pod: the chart owns them, site.yaml is told. */}}
{{- define "factoryhub.proxyPort" -}}8000{{- end -}}
{{- define "factoryhub.hubPort" -}}8081{{- end -}}
{{- define "factoryhub.homeDir" -}}/var/lib/factoryhub{{- end -}}
{{- define "factoryhub.usernameMapDir" -}}/etc/factoryhub-username-map{{- end -}}
{{- define "factoryhub.runtimeSecretDir" -}}/run/factoryhub-secrets{{- end -}}

{{- define "factoryhub.hubImage" -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}

{{- define "factoryhub.mungeImage" -}}
{{- $repo := .Values.munge.image.repository | default .Values.image.repository -}}
{{- $tag := .Values.munge.image.tag | default .Values.image.tag -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}

{{/* A container that may do nothing but run: non-root, read-only root, no capability, no escalation. */}}
{{- define "factoryhub.restrictedContainer" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
The site description: values.site as it is, plus the keys the chart owns (listen addresses and
the paths of mounted files). values.schema.json refuses those keys in values.site.
*/}}
{{- define "factoryhub.siteYaml" -}}
{{- $site := deepCopy .Values.site -}}
{{- $auth := dict "client_secret_file" (printf "%s/oidc-client-secret" (include "factoryhub.runtimeSecretDir" .)) -}}
{{- if .Values.usernameMap.configMap -}}
{{- $_ := set $auth "username_map_file" (printf "%s/%s" (include "factoryhub.usernameMapDir" .) .Values.usernameMap.key) -}}
{{- end -}}
{{- $owned := dict
  "hub" (dict
    "bind_url" (printf "http://0.0.0.0:%s/" (include "factoryhub.proxyPort" .))
    "hub_bind_url" (printf "http://0.0.0.0:%s" (include "factoryhub.hubPort" .))
    "state_dir" (printf "%s/state" (include "factoryhub.homeDir" .)))
  "auth" $auth
  "slurm" (dict "conf" (printf "/etc/slurm/%s" .Values.slurm.confSecret.key))
  "services" (dict
    "quota" (dict "bind_url" "http://127.0.0.1:10101")
    "catalogue" (dict "bind_url" "http://127.0.0.1:10102")
    "workshops" (dict "bind_url" "http://127.0.0.1:10103")
    "dashboards" (dict "bind_url" "http://127.0.0.1:10104")
    "announcements" (dict "bind_url" "http://127.0.0.1:10105")) -}}
{{- toYaml (mergeOverwrite $site $owned) -}}
{{- end -}}

{{/* Cross-field checks the schema cannot say clearly: one message naming the key. */}}
{{- define "factoryhub.checks" -}}
{{- if .Values.networkPolicy.enabled -}}
{{- range $peer := list "database" "slurmctld" "slurmdbd" "oidcIssuer" -}}
{{- if not (index $.Values.networkPolicy.egress $peer).cidrs -}}
{{- fail (printf "networkPolicy.egress.%s.cidrs: give the address ranges the hub must reach (or networkPolicy.enabled: false)" $peer) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if gt (int .Values.computeNodes.sessionPorts.from) (int .Values.computeNodes.sessionPorts.to) -}}
{{- fail "computeNodes.sessionPorts: from must not be above to" -}}
{{- end -}}
{{- if and .Values.ingress.enabled (ne .Values.proxy.service.type "ClusterIP") -}}
{{- fail "proxy.service.type: use ClusterIP behind ingress.enabled (or turn the Ingress off)" -}}
{{- end -}}
{{- if and (eq .Values.hubApi.service.type "ClusterIP") .Values.hubApi.service.nodePort -}}
{{- fail "hubApi.service.nodePort: a ClusterIP Service has no node port" -}}
{{- end -}}
{{- end -}}
