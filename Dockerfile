# syntax=docker/dockerfile:1

# Build stage: the release binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
# The browser catalog, embedded in the binary (include_bytes!).
COPY static ./static
RUN cargo build --release --locked && strip target/release/packyard

# Runtime stage: Debian slim, a non-root user, data in the /data volume.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home packyard \
    && mkdir -p /data /opt/packyard \
    && chown packyard:packyard /data
COPY --from=build /src/target/release/packyard /usr/local/bin/packyard
COPY packs /opt/packyard/packs
WORKDIR /opt/packyard
USER packyard:packyard
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["packyard"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--data-dir", "/data"]
