# syntax=docker/dockerfile:1
# Build on the current LTS Node.js; run as the unprivileged `node` user.
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --no-audit --no-fund
RUN npm prune --omit=dev

FROM node:26-slim
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY mappings ./mappings
COPY schemas ./schemas
USER node
ENTRYPOINT ["node", "bin/mragw.js"]
CMD ["--help"]
