# syntax=docker/dockerfile:1
#
# One image for every role: the command picks it.
#   docker build -t riskometer .
#   docker run -p 9696:9696 -v riskometer-data:/data riskometer          # up: page, API and flows
#   docker run … riskometer serve                                        # the server alone
#   docker run … riskometer worker                                       # the flows alone
# Settings are environment variables (docs/configuration.md); secrets come in as files
# (`RISKOMETER_DATABASE_PASSWORD_FILE=/run/secrets/…`), never in the image.

# Node.js LTS; the project runs on Node 20 and later.
ARG NODE_VERSION=24

# --- build: install with the lock file, compile, then drop the development dependencies ---
FROM node:${NODE_VERSION}-bookworm-slim AS build
# Compilers for better-sqlite3, in case no prebuilt binary fits the platform; this stage only.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: Node, the compiled code, production dependencies, the data and the pages ---
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="Riskometer" \
  org.opencontainers.image.description="Credit-risk MLOps platform: train, track, register, serve, explain and monitor credit-risk models" \
  org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
  RISKOMETER_HOME=/data \
  RISKOMETER_HOST=0.0.0.0 \
  RISKOMETER_PORT=9696
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY data ./data
COPY web ./web
# The embedded store (SQLite and artifacts) lives in /data, owned by the unprivileged `node`
# user of the base image; mount a volume there to keep it.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 9696
# Liveness of `serve` and `up`; a `worker` has no port, so its deployments turn this off.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/cli/healthcheck.js"]
ENTRYPOINT ["node", "dist/cli/bin.js"]
CMD ["up"]
