#!/usr/bin/env bash
# The whole test suite (README: `npm test`). Provisions what the tests need when it is missing:
# redis-server and Debian's Python packages (the generated FastAPI runtime is tested with /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(redis-server openssl python3-redis python3-fastapi python3-uvicorn python3-httpx python3-pytest python3-celery)
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
for mod in redis:python3-redis fastapi:python3-fastapi uvicorn:python3-uvicorn httpx:python3-httpx pytest:python3-pytest celery:python3-celery; do
  /usr/bin/python3 -c "import ${mod%%:*}" >/dev/null 2>&1 || missing+=("${mod##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test: installing missing Debian packages: ${missing[*]}"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${APT_PACKAGES[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${APT_PACKAGES[@]}" >/dev/null
  else
    echo "test: cannot install them without root. Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${APT_PACKAGES[*]}" >&2
    exit 2
  fi
fi

[ -d node_modules ] || npm ci
npm run build --silent
# the Python stacks of the matrix beyond Debian's (pinned in test/stacks/, cached in .cache/venvs; a no-op when built)
bash scripts/python-envs.sh redis5 latest tools >/dev/null
# formatting is part of the suite (prettier; `npm run format` fixes it)
npm run --silent format:check >/dev/null || { echo 'test: files are not formatted; run: npm run format' >&2; npx prettier --list-different "src/**/*.ts" "test/**/*.ts" "bench/**/*.mjs" "scripts/**/*.mjs" >&2 || true; exit 1; }
mkdir -p .tmp
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-report.json "$@"
code=$?
set -e
# A plain closing line CI can read: "N passed, N failed, N skipped"
node -e '
  const r = JSON.parse(require("fs").readFileSync(".tmp/vitest-report.json", "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' || code=1
exit $code
