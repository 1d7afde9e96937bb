# The Fabric stack (API, console, demo agents) in one image; Postgres runs as
# its own service in docker-compose.yml.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/web/package.json apps/web/
COPY apps/agent/package.json apps/agent/
COPY packages/core/package.json packages/core/
COPY packages/db/package.json packages/db/
COPY prisma prisma
COPY prisma.config.ts tsconfig.base.json tsconfig.json ./
COPY scripts scripts
COPY packages packages
RUN npm ci --no-audit --no-fund
COPY . .
EXPOSE 3000 4000
CMD ["npm", "start"]
