# bpfsign service image. Node 24 (Active LTS) on Debian 12.
#
# Stage 1 compiles: TypeScript to dist/, the native signer (native/sign) and better-sqlite3
# against this Node, then drops the development dependencies. Stage 2 is the slim image with
# Node and what stage 1 produced: no compiler, clang, llvm or bpftool (the service never runs
# them; kernel BTF for replays is read from /sys/kernel/btf/vmlinux when the host provides it).

FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY native ./native
COPY src ./src
# npm ci runs the install script (node-gyp: native/sign), prepare (tsc -p tsconfig.build.json) and
# the install scripts package.json's allowScripts approves (better-sqlite3 for this Node); the
# build stops here when the SQLite binding does not load.
RUN npm ci --no-audit --no-fund \
 && test -f dist/src/cli/main.js \
 && node -e "new (require('better-sqlite3'))(':memory:').close()" \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf native/sign/build/Release/obj.target native/sign/build/Release/.deps

FROM node:24-bookworm-slim
# A system user of its own (uid/gid 10001, numeric so that runAsNonRoot can check it) owning the
# data folder: keys, the development token and the SQLite file are written there.
RUN groupadd --system --gid 10001 bpfsign \
 && useradd --system --uid 10001 --gid bpfsign --home-dir /data --no-create-home --shell /usr/sbin/nologin bpfsign \
 && mkdir -p /data \
 && chown 10001:10001 /data \
 && chmod 700 /data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/native/sign/build/Release ./native/sign/build/Release
COPY --from=build /app/src/api/console ./src/api/console
ENV NODE_ENV=production BPFSIGN_HOST=0.0.0.0 BPFSIGN_PORT=8080 BPFSIGN_DATA_DIR=/data \
    MALLOC_ARENA_MAX=2
VOLUME /data
EXPOSE 8080
USER 10001:10001
# The slim image has no curl: Node's fetch asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.BPFSIGN_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
