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
# On the port the app listens on (PORT), every 3 s, so that a new container is healthy about 3 s
# after it starts: compose starts nginx only once the apps are healthy. One check costs a Node
# start (about 40 ms of CPU): node:http rather than fetch, which loads undici first.
HEALTHCHECK --interval=3s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('node:http').get({ host: '127.0.0.1', port: process.env.PORT || 3000, path: '/healthz', timeout: 2500 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).on('timeout', () => process.exit(1))"]
# node itself is PID 1's child-free process: SIGTERM reaches the server, which shuts down cleanly.
CMD ["node", "dist/server.js"]

FROM nginx:1.27-alpine AS nginx
COPY nginx.conf /etc/nginx/nginx.conf
# Finds the app replicas through Docker's DNS, again every few seconds (included by nginx.conf).
COPY docker/nginx-app-dns.conf /etc/nginx/app-dns.conf
COPY --from=build /app/public /srv/public
EXPOSE 8080
