# syntax=docker/dockerfile:1
#
# farmd container image: a static binary on distroless, running as nonroot.
#
#   docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 \
#     --build-arg VERSION="$(git describe --tags --always)" -t farmd:latest .
#
# The build stage runs on the build machine's own platform ($BUILDPLATFORM)
# and cross-compiles for $TARGETPLATFORM, so arm images build at native speed
# without QEMU. The build command lives in scripts/build.sh, which
# scripts/crossbuild.sh (CI) also runs for all three platforms: the image and
# CI cannot drift apart. See doc/deploy.md.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Set by buildx from --platform: linux/arm/v7 -> linux, arm, v7.
ARG TARGETOS TARGETARCH TARGETVARIANT
ARG VERSION=""
# scripts/build.sh runs, with GOARM=${TARGETVARIANT#v} on arm:
#   CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
#     go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o /out/farmd ./cmd/farmd
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    TARGETOS="$TARGETOS" TARGETARCH="$TARGETARCH" TARGETVARIANT="$TARGETVARIANT" VERSION="$VERSION" \
    bash scripts/build.sh /out/farmd
# The state directory (token.json from `farmd login`), owned by nonroot so
# that a named volume mounted there starts out writable for farmd.
RUN mkdir -p /out/state && chmod 0700 /out/state

# distroless static: no shell, no libc; CA certificates, tzdata and
# /etc/passwd with nonroot (65532) included.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=""
LABEL org.opencontainers.image.title="farmd" \
      org.opencontainers.image.description="Keeps one Twitch account in the chat of a list of streamers exactly while they are live" \
      org.opencontainers.image.source="https://github.com/farmd/farmd" \
      org.opencontainers.image.version="$VERSION"
COPY --from=build /out/farmd /farmd
COPY --from=build --chown=65532:65532 /out/state /var/lib/farmd
USER nonroot
# Mount the configuration at /etc/farmd/config.yaml (read-only) and a volume
# at /var/lib/farmd for the token `farmd login` stores and farmd renews:
#   docker compose run --rm farmd login
# FARMD_CONFIG is --config's default and STATE_DIRECTORY state_dir's, so
# `login` needs no flags. A client secret comes from FARMD_CLIENT_SECRET or
# from a file such as /run/secrets/client_secret named by client_secret_file.
ENV FARMD_CONFIG=/etc/farmd/config.yaml STATE_DIRECTORY=/var/lib/farmd
VOLUME /var/lib/farmd
ENTRYPOINT ["/farmd"]
CMD ["--config", "/etc/farmd/config.yaml"]
# Needs http.listen in the config (e.g. 127.0.0.1:9180): --healthcheck GETs
# the local /healthz and exits 0 (healthy) or 1. The image has no shell or
# curl, so the binary checks itself. start-period covers the IRC login and
# the first poll.
HEALTHCHECK --interval=30s --timeout=10s --start-period=2m --retries=3 \
    CMD ["/farmd", "--healthcheck", "--config", "/etc/farmd/config.yaml"]
# farmd parts its channels and exits 0 within 5 s of SIGTERM.
STOPSIGNAL SIGTERM
