{{/* The chart's name, at most 63 characters. */}}
{{- define "cosync-auth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: release-chart unless the release already names the chart. */}}
{{- define "cosync-auth.fullname" -}}
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

{{- define "cosync-auth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cosync-auth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cosync-auth.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cosync-auth.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "cosync-auth.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cosync-auth.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cosync-auth.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The Secret the pods read: the operator's, or the chart's. */}}
{{- define "cosync-auth.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "cosync-auth.fullname" .) }}
{{- end }}

{{/* The secret settings the chart's own Secret carries, by variable name (empty ones left out). */}}
{{- define "cosync-auth.secretData" -}}
{{- $s := .Values.secrets }}
{{- range $env, $v := dict "COSYNC_DATABASE_URL" $s.databaseURL "COSYNC_MASTER_KEY" $s.masterKey "COSYNC_SMTP_URL" $s.smtpURL "VAULT_TOKEN" $s.vaultToken "VAULT_ROLE_ID" $s.vaultRoleID "VAULT_SECRET_ID" $s.vaultSecretID "COSYNC_METRICS_TOKEN" $s.metricsToken }}
{{- if $v }}
{{ $env }}: {{ $v | b64enc | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* The non-secret settings, by variable name: the ConfigMap's data and the migration Job's env. */}}
{{- define "cosync-auth.configData" -}}
{{- $c := .Values.config }}
{{- $url := required "config.publicURL is required: the https URL clients reach (COSYNC_PUBLIC_URL)" $c.publicURL }}
COSYNC_ADDR: "0.0.0.0:8080"
COSYNC_PUBLIC_URL: {{ $url | quote }}
COSYNC_SIGNER: {{ $c.signer | quote }}
{{- if eq $c.signer "vault" }}
VAULT_ADDR: {{ required "config.vaultAddr is required with config.signer=vault (VAULT_ADDR)" $c.vaultAddr | quote }}
COSYNC_VAULT_TRANSIT_MOUNT: {{ $c.vaultTransitMount | quote }}
{{- end }}
COSYNC_TRUST_PROXY: {{ $c.trustProxy | quote }}
COSYNC_CORS_ORIGINS: {{ $c.corsOrigins | quote }}
COSYNC_MAIL_FROM: {{ $c.mailFrom | quote }}
COSYNC_LOG_LEVEL: {{ $c.logLevel | quote }}
COSYNC_LOG_FORMAT: {{ $c.logFormat | quote }}
COSYNC_SHUTDOWN_TIMEOUT: {{ $c.shutdownTimeout | quote }}
{{- if .Values.metrics.enabled }}
COSYNC_METRICS_ADDR: {{ printf "0.0.0.0:%d" (int .Values.metrics.port) | quote }}
{{- end }}
{{- with $c.otlpEndpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- range $k, $v := $c.extra }}
{{ $k }}: {{ $v | toString | quote }}
{{- end }}
{{- end }}

{{/* Refuse settings that cannot work with several replicas. */}}
{{- define "cosync-auth.validate" -}}
{{- if and (not .Values.secrets.existingSecret) (not .Values.secrets.databaseURL) (not .Values.database.urlFromSecret.name) }}
{{- fail "secrets.databaseURL (or database.urlFromSecret, or secrets.existingSecret with COSYNC_DATABASE_URL) is required: replicas share one Postgres; SQLite cannot be shared" }}
{{- end }}
{{- if and (not .Values.secrets.existingSecret) .Values.secrets.databaseURL (not (hasPrefix "postgres" .Values.secrets.databaseURL)) }}
{{- fail "secrets.databaseURL must be postgres://…: replicas share one Postgres; SQLite cannot be shared" }}
{{- end }}
{{- if and (eq .Values.config.signer "local") (not .Values.secrets.existingSecret) (not .Values.secrets.masterKey) }}
{{- fail "secrets.masterKey is required with config.signer=local: every replica needs the same COSYNC_MASTER_KEY" }}
{{- end }}
{{- if and (eq .Values.config.signer "vault") (not .Values.secrets.existingSecret) (not .Values.secrets.vaultToken) (not .Values.secrets.vaultRoleID) }}
{{- fail "secrets.vaultRoleID and secrets.vaultSecretID (AppRole) or secrets.vaultToken are required with config.signer=vault" }}
{{- end }}
{{- end }}

{{/* Settings read from other Secrets' keys (Postgres by reference). */}}
{{- define "cosync-auth.envRefs" -}}
{{- with .Values.database.urlFromSecret }}
{{- if .name }}
- name: COSYNC_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- end }}

{{/* The pod's environment: the ConfigMap and the Secret. */}}
{{- define "cosync-auth.envFrom" -}}
- configMapRef:
    name: {{ include "cosync-auth.fullname" . }}
- secretRef:
    name: {{ include "cosync-auth.secretName" . }}
{{- end }}
