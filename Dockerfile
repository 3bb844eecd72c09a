# The campaign worker image. Build and run it through docker-compose.yml (`docker-compose up -d`),
# or alone:
#   docker build -t county-campaign-worker .
#   docker run --rm -e DATABASE_URL=postgres://… -e TEMPORAL_ADDRESS=host:7233 county-campaign-worker
#
# The worker runs its TypeScript through tsx, which is a runtime dependency in package.json, so
# `npm ci --omit=dev` installs everything the worker needs (the workflow bundler, @swc/core and
# the Temporal core bridge come with @temporalio/worker, prebuilt for linux-x64 and arm64).
# At start the worker applies the SQL migrations in db/migrations, bundles workflows/ and polls
# the task queue; configuration comes from the environment (worker/config.ts).
#
# For a reproducible production build, pin the base image by digest
# (node:20-bookworm-slim@sha256:…); the tag alone moves with Node 20 patch releases.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- dependencies: production node_modules from package-lock.json ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# `npm ci` runs the `prepare` script (bin/cli-build.mjs), which finds no sources yet here and
# leaves the CLI to be compiled in the runtime stage below.
COPY bin/cli-build.mjs ./bin/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE}
# tini as PID 1 forwards SIGTERM/SIGINT to node and reaps zombies, so `docker stop` reaches the
# worker's own shutdown (drain in-flight activities for WORKER_SHUTDOWN_GRACE, then exit) with
# plain `docker run` and on Kubernetes too, not only under compose.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# The sources (what is left out is listed in .dockerignore). The CLI comes along, so that
# `docker-compose run --rm worker node bin/campaign.mjs …` works against the same stack.
COPY . .
# The campaign CLI compiled once (dist/cli), so that `node bin/campaign.mjs` starts quickly.
RUN node bin/cli-build.mjs
# Run unprivileged; tsx keeps its compile cache under /tmp.
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]
# Same entry as `npm run worker`, without npm in between: node itself is the process tini
# signals. The heap limit (WORKER_HEAP_MIB in worker/config.ts) keeps the worker within the 1 GiB
# its workflow cache is sized for.
CMD ["node", "--max-old-space-size=384", "--import", "tsx", "worker/main.ts"]
