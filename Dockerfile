# syntax=docker/dockerfile:1
# countersign as a container: one process, one SQLite file on the /data volume.
# Build: docker build -t countersign .   Run: see compose.yaml and docs/operations.md.
# Untested here: the machine this was written on has no Docker daemon; it is linted
# (test/deploy/deploy-files.test.ts) but has never been built.

# ---- build stage: production dependencies (better-sqlite3 ships its Node-API
# binding inside the npm package: no compiler, no download at install time)
FROM node:26-slim AS deps
WORKDIR /app
# The lockfile names the workspaces (the client, the OpenAPI tools' check), and `prepare` checks it (it builds the client only
# where TypeScript is installed, never here): both come along so `npm ci` sees the same tree.
COPY package.json package-lock.json ./
COPY scripts/prepare.mjs ./scripts/
COPY clients/typescript/package.json ./clients/typescript/
COPY test/openapi-clients/package.json ./test/openapi-clients/
RUN npm ci --omit=dev --no-audit --no-fund

# ---- runtime stage: Node runs the TypeScript sources itself (type stripping), as the unprivileged "node" user
FROM node:26-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATABASE_PATH=/data/countersign.db \
    COUNTERSIGN_CONFIG=/etc/countersign/countersign.yml
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY bin ./bin
COPY migrations ./migrations
# `countersign <command>` (the operator CLI) on PATH: docker compose exec countersign countersign audit verify
RUN ln -s /app/bin/countersign.mjs /usr/local/bin/countersign \
  && mkdir -p /data /etc/countersign && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# /healthz answers 200 when the database answers; node's fetch, since the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains in-flight work and exits within 10 s; give it that long.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "./bin/preload.mjs", "src/main.ts"]
