# syntax=docker/dockerfile:1
# Tic-Tac-Toe Online. Stages: build (TypeScript and the browser script), app (the runtime image),
# nginx (the front, with the built static files baked in). docker-compose.yml builds both targets.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY public ./public
RUN npm run build

FROM ${NODE_IMAGE} AS app
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/public ./public
COPY views ./views
COPY migrations ./migrations
COPY docker/create-admin.sh /usr/local/bin/create-admin
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1's child-free process: SIGTERM reaches the server, which shuts down cleanly.
CMD ["node", "dist/server.js"]

FROM nginx:1.27-alpine AS nginx
COPY nginx.conf /etc/nginx/nginx.conf
COPY --from=build /app/public /srv/public
EXPOSE 8080
