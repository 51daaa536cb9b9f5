#!/bin/sh
# Inside the app container: docker compose exec app create-admin <username>
exec node /app/dist/ops/create-admin.js "$@"
