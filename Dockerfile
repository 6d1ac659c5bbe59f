# modelswap in a container, run like llama-swap's images: mount a config at
# /app/config.yaml, or a folder of YAML files and name it with -config-dir.
#
#   docker build -t modelswap .
#   docker run --rm --name modelswap -p 127.0.0.1:8080:8080 \
#     -v "$PWD/config.yaml:/app/config.yaml:ro" modelswap
#   # reload on change: mount the folder (an editor that replaces a file
#   # gives it a new inode, which a single-file bind mount does not follow)
#   docker run --rm --name modelswap -p 127.0.0.1:8080:8080 \
#     -v "$PWD/conf.d:/app/conf.d:ro" modelswap \
#     -config-dir /app/conf.d -listen 0.0.0.0:8080 -watch-config
#
# The image holds modelswap only: the inference servers your config starts
# (llama-server, vLLM, …) must be in the image too (build FROM this one and add
# them) or mounted in, together with the model files.

# Build stage: compile TypeScript to dist/. Scripts are skipped: the "node"
# dev dependency would download a second Node that the build does not need.
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN ./node_modules/.bin/tsc -p tsconfig.build.json

# Runtime stage: production dependencies, the build, the schema, the web UI.
FROM node:24-slim
# tini as PID 1 reaps any orphaned grandchild of an upstream server and forwards
# SIGTERM to modelswap, which then stops every server it started.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY schema ./schema
COPY ui ./ui
COPY examples ./examples
COPY config.example.yaml README.md ./
# Not root. The config may be mounted read-only; the state file goes to the tmp dir.
USER node
EXPOSE 8080
ENTRYPOINT ["tini", "--", "node", "/app/dist/cli.js"]
# Inside a container the loopback address cannot be reached from outside:
# listen on every interface, and publish the port on the host's loopback
# (-p 127.0.0.1:8080:8080) or set apiKeys before you publish it wider.
CMD ["-config", "/app/config.yaml", "-listen", "0.0.0.0:8080"]
