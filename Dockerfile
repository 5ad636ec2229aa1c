# Switchyard in a container: build one executable with Deno, run it on a minimal base.
#
#   docker build -t switchyard .
#   docker run -d --network host \
#     -v "$PWD/my-config.yaml:/etc/switchyard/config.yaml:ro" \
#     -v switchyard-data:/var/lib/switchyard --stop-timeout 20 switchyard

ARG DENO_VERSION=2.9.6

FROM denoland/deno:${DENO_VERSION} AS build
WORKDIR /src
# Dependencies first, so this layer is reused while only the code changes. --frozen fails the
# build when deno.lock does not match deno.json.
COPY deno.json deno.lock ./
COPY main.ts ./
COPY config/ config/
COPY src/ src/
COPY scripts/compile.ts scripts/
RUN deno install --frozen --entrypoint main.ts
RUN deno task compile \
 && mkdir -p /out/data \
 && cp dist/switchyard config/default.yaml /out/

# distroless/cc has the C runtime the Deno executable links against, and nothing else: no shell,
# no package manager. The :nonroot tag runs as uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/switchyard /usr/local/bin/switchyard
# The default config, so the image starts without one; mount yours over it.
COPY --from=build /out/default.yaml /etc/switchyard/config.yaml
# The KV store's directory, owned by the runtime user; a named volume copies the ownership.
COPY --from=build --chown=65532:65532 /out/data /var/lib/switchyard
# DENO_USR2_MEMORY_TRIM: memory is given back once the gateway is idle (see the README).
ENV SWITCHYARD_CONFIG=/etc/switchyard/config.yaml \
    SWITCHYARD_KV=/var/lib/switchyard/switchyard.kv \
    DENO_USR2_MEMORY_TRIM=1
VOLUME ["/var/lib/switchyard"]
USER 65532:65532
EXPOSE 8080
# SIGTERM starts a graceful drain of up to server.shutdown-grace; give `docker stop` longer.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/switchyard"]
