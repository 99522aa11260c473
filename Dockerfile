# bpfsign service image: Debian 12 + Node 20, with the BPF toolchain the verifier paths use.
FROM node:20-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang llvm bpftool libbpf-dev gcc make python3 g++ openssl softhsm2 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY native ./native
RUN npm ci --no-audit --no-fund && npm prune --omit=dev
ENV BPFSIGN_HOST=0.0.0.0 BPFSIGN_PORT=8080 BPFSIGN_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
USER node
CMD ["node", "dist/src/cli/main.js", "serve"]
