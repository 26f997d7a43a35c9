# syntax=docker/dockerfile:1
# The CoSync Auth server: a static binary on distroless, running as non-root.
# Build: make docker (or docker build -t cosync-auth .)

# The portal bundle: built with the committed lock and the generated API code.
FROM node:20-bookworm AS portal
WORKDIR /src
COPY sdk/ts/src/gen ./sdk/ts/src/gen
COPY portal/package.json portal/package-lock.json ./portal/
RUN cd portal && npm ci --no-audit --no-fund
COPY portal ./portal
RUN cd portal && npm run build

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
COPY sdk/go/go.mod sdk/go/go.sum ./sdk/go/
RUN go mod download
COPY proto ./proto
COPY sdk/go ./sdk/go
COPY internal ./internal
COPY server ./server
COPY portal ./portal
COPY --from=portal /src/portal/dist/app ./portal/dist/app
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/cosync-auth ./server \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cosync-auth /usr/local/bin/cosync-auth
# Only SQLite deployments need the data directory; with Postgres and
# COSYNC_MASTER_KEY the container keeps no state.
COPY --from=build --chown=65532:65532 /out/data /var/lib/cosync
ENV COSYNC_ADDR=0.0.0.0:8080 \
    COSYNC_DATA_DIR=/var/lib/cosync
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/cosync-auth"]
CMD ["serve"]
