#!/usr/bin/env bash
# The production install path, as deploy/countersign.service and the Dockerfile
# take it: a clean copy of this checkout, `npm ci --omit=dev`, then the
# `countersign` command and `npm start` with the example configuration, until
# /healthz answers 200 and SIGTERM stops it with exit 0. Run by .ci/run.
# Usage: scripts/install-smoke.sh [PORT]   (prints "install smoke: ok" at the end)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
port="${1:-3987}"
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -KILL -- "-$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install smoke: FAILED: $*" >&2; exit 1; }

# What a fresh clone holds (tracked and new files; nothing ignored, no node_modules).
(cd "$src" && git ls-files -z --cached --others --exclude-standard \
  | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$work"
cd "$work"

echo "== npm ci --omit=dev (in $work)"
npm ci --omit=dev --no-audit --no-fund || fail "npm ci --omit=dev exited $?"
[ ! -e node_modules/typescript ] || fail "a production install has TypeScript: dev dependencies leaked in"

# The README's set-up block, with made-up Slack credentials and an unreachable Slack API.
cp countersign.example.yml countersign.yml
cp .env.example .env
{
  echo "SLACK_BOT_TOKEN=xoxb-1234-5678-installsmoke"
  echo "SLACK_SIGNING_SECRET=$(openssl rand -hex 16)"
  echo "SLACK_API_URL=http://127.0.0.1:9/api/"
  echo "PORT=$port"
  for v in SUPPORT_BOT_TOKEN DEPLOY_BOT_TOKEN; do echo "$v=$(openssl rand -hex 32)"; done
  for v in SUPPORT_BOT_WEBHOOK_SECRET DEPLOY_BOT_WEBHOOK_SECRET; do echo "$v=whsec_$(openssl rand -base64 32)"; done
} >> .env

echo "== npx countersign check-config"
npx --no-install countersign check-config >/dev/null || fail "countersign check-config exited $?"

echo "== npm start, until /healthz answers"
setsid npm start > start.log 2>&1 &
server=$!
for _ in $(seq 1 300); do
  if node -e "fetch('http://127.0.0.1:$port/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
    healthy=1
    break
  fi
  kill -0 "$server" 2>/dev/null || { cat start.log >&2; fail "npm start exited before /healthz answered"; }
  sleep 0.2
done
[ "${healthy:-0}" = 1 ] || { cat start.log >&2; fail "/healthz did not answer 200 within 60 s"; }
# SIGTERM to the service process itself (as systemd and docker stop deliver it), found in the session setsid made.
# (Read from /proc, so nothing beyond node is needed: the newest process of that session running src/main.ts.)
service="$(node -e '
  const fs = require("node:fs");
  const sid = process.argv[1];
  const found = fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      return fields[3] === sid && cmd.includes("src/main.ts") ? [Number(pid)] : [];
    } catch { return []; }
  });
  if (found.length === 0) process.exit(1);
  console.log(Math.max(...found));
' "$server")" || fail "no src/main.ts process under npm start"
kill -TERM "$service"
status=0
wait "$server" || status=$?
server=""
[ "$status" = 0 ] || { cat start.log >&2; fail "npm start exited $status after SIGTERM"; }
grep -q '"msg":"stopped"' start.log || { cat start.log >&2; fail "no clean shutdown in the log"; }
echo "install smoke: ok"
