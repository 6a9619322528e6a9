#!/usr/bin/env bash
# The one test command (`make test`): installs what the tests need, builds, runs every test
# project, and prints a last line `tests: N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }

results=$(mktemp -d)
dotnet build ComfyOperator.sln -c Release -nologo -clp:ErrorsOnly 2>&1 | tail -50
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  echo "build failed"
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

# Test projects run in parallel (two at a time); tests inside each run in parallel by collection.
status=0
projects=$(ls tests/*.Tests/*.csproj)
printf '%s\n' $projects | xargs -P 2 -I{} sh -c '
  name=$(basename "{}" .csproj)
  dotnet test "{}" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "'"$results"'" \
    --blame-hang --blame-hang-timeout 12m '"$*"' > "'"$results"'/$name.log" 2>&1
  rc=$?
  # Summary lines, and for each failure its message and the top of its stack (so a CI log alone says why).
  awk "/^(Passed|Failed)!|\\[FAIL\\]/ { print; next } /Error Message:/ { n = 12 } n > 0 { print; n-- }" "'"$results"'/$name.log" | head -120
  exit $rc' || status=1

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  x=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0}))
  skipped=$((skipped + ${t:-0} - ${x:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
exit $status
