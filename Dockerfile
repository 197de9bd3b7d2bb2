# syntax=docker/dockerfile:1
# The Provisio controller image. Build: docker build -t provisio:0.1.0 .
# The Helm chart (charts/provisio) runs it as `run --kubernetes ...` with user 10001 and a read-only root
# filesystem; /tmp and the state directory (/var/lib/provisio) are volumes there.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript, build the native SQLite driver, then drop the dev dependencies ----
FROM ${NODE_IMAGE} AS build
# better-sqlite3 is compiled from source (as on the project's machines): python3, make and g++. The Node
# headers come with the image (nodedir), so node-gyp downloads nothing.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local \
    npm_config_build_from_source=true \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
WORKDIR /app
COPY package.json package-lock.json ./
# npm install (not npm ci), as .ci/run: the lockfile holds only the Linux builds of the optional
# platform packages (biome, typescript), which npm ci insists on finding. Versions are pinned exactly
# in package.json and the lockfile.
RUN npm install
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev \
 && npm cache clean --force
# Of better-sqlite3 only the compiled addon is loaded (build/Release/better_sqlite3.node): drop the SQLite
# sources and object files (about 30 MB).
RUN cd node_modules/better-sqlite3 \
 && test -f build/Release/better_sqlite3.node \
 && rm -rf deps src build/deps build/Release/obj build/Release/obj.target build/Release/.deps \
           build/Release/sqlite3.a build/Release/test_extension.node

# ---- runtime: dist + production node_modules, non-root ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# python3 runs the scripts of script Connectors (never through a shell); the helper modules their scripts
# import (python/) are put on each script's PYTHONPATH by the connector. Scripts from ConfigMaps are mounted
# at /etc/provisio/scripts/<ConfigMap>/ (chart value scripts.configMaps).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 provisio \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/provisio --shell /usr/sbin/nologin provisio \
 && mkdir -p /var/lib/provisio \
 && chown 10001:10001 /var/lib/provisio \
 && ln -s /var/lib/provisio /app/.provisio \
 && ln -s /app/bin/provisio.js /usr/local/bin/provisio
# package.json is needed at run time ("type": "module" makes dist/ ES modules). The JSON Schemas are
# compiled into dist/generated, so schemas/ is not. Everything stays owned by root: read-only for 10001.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY python ./python
USER 10001:10001
EXPOSE 8080
# The default state directory (.provisio) is a link to /var/lib/provisio, writable by 10001.
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run", "--kubernetes", "--listen", ":8080"]
