# syntax=docker/dockerfile:1
# Build on the current LTS Node.js; run as the unprivileged `node` user, under tini.
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:26-slim
# tini as PID 1: it passes SIGTERM/SIGINT on to the gateway (which then stops in order,
# RUNNING.md) and reaps the children it leaves (the embedded PostgreSQL and redis-server of `start`).
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0 DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY mappings ./mappings
COPY schemas ./schemas
COPY config/partners ./config/partners
# The status page and the staff console, served from web/ beside dist/ (receive/web-pages.ts).
COPY web ./web
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 9464
# Ready while the store of record answers (RUNNING.md). The slim image has no curl: Node's fetch asks.
# A workers-only container (`work`) has no HTTP API: give it its own check (compose.yaml asks /metrics).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + (process.env.PUBLIC_BASE_PATH || '') + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/mragw.js"]
CMD ["start"]
