# zoomconnect container image: a static binary on distroless (CA certificates
# and time zones included, no shell), running as a non-root user. The root
# filesystem can be read-only: the only writable path is the data dir, a
# volume (the embedded store and dev keys live there; with Redis it stays
# empty).
#
#   docker build -t zoomconnect .
#   docker run --read-only -v zc-data:/data -p 8080:8080 -p 9090:9090 -p 9091:9091 zoomconnect

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: a static binary that needs no libc; -trimpath: no build
# paths in it; the check fails the build if anything links dynamically.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/zoomconnect ./server/cmd/zoomconnect \
 && go version -m /out/zoomconnect | grep -q 'CGO_ENABLED=0' \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/zoomconnect /zoomconnect
COPY --from=build --chown=65532:65532 /out/data /data
# Listen on every interface inside the container; the admin listener
# (metrics, pprof, probes) is a port of its own, never the public one.
ENV ZOOMCONNECT_GRPC_ADDR=0.0.0.0:9090 \
    ZOOMCONNECT_HTTP_ADDR=0.0.0.0:8080 \
    ZOOMCONNECT_ADMIN_ADDR=0.0.0.0:9091 \
    ZOOMCONNECT_DATA_DIR=/data
VOLUME ["/data"]
# gRPC, HTTP (REST, OAuth pages, webhooks), admin
EXPOSE 9090 8080 9091
USER 65532:65532
ENTRYPOINT ["/zoomconnect"]
