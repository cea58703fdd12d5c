#!/usr/bin/env bash
# Runs the clock-sensitive suites (tap unit tests, sandbox, integration, docs) and the demo under
# libfaketime at several clock readings: just after midnight UTC, late evening, DST change days,
# 29 February, New Year's Eve, and machine time zones far from UTC. A test that passes at one
# hour and fails at another depends on the clock; this finds it before a CI run at that hour does.
#
#   scripts/clock-matrix.sh                          # every default reading (make test-clocks)
#   scripts/clock-matrix.sh 2026-12-05T00:03:00Z     # one reading, UTC
#   scripts/clock-matrix.sh 2026-11-01T07:05:00Z@America/Los_Angeles   # ...with TZ set
#   CLOCK_TESTS="tests/integration/tap.test.ts" CLOCK_DEMO=0 scripts/clock-matrix.sh
#
# Each test file (and the demo) is its own run whose clock starts at the reading: a whole reading
# takes 20 to 40 minutes on 2 busy cores, so one clock for everything would leave 23:55 long
# before the last file. The clock is moved by a fixed offset (FAKETIME="+Ns"), not started with "@date":
# with "@" every process starts its own clock at the reading, so a binary spawned by a test would
# be behind the sandbox that test started earlier. Timers keep real monotonic time.
#
# Results: one line per reading and file that failed, and a list at the end; logs, jest's JSON
# and summary.tsv in $CLOCK_OUT (default: a new directory under $TMPDIR). Exit 1 when anything
# failed, 2 when it could not run. Needs `make build` (make test-clocks does it). Not part of
# `make test`: CI machines may not have faketime.
set -uo pipefail

cd "$(dirname "$0")/.."

if ! command -v faketime >/dev/null 2>&1; then
  echo "clock-matrix: skipped: faketime is not installed (Debian/Ubuntu: apt-get install faketime)"
  exit 0
fi
if [ ! -f dist/.build-stamp ] && [ ! -f dist/demo/main.js ]; then
  echo "clock-matrix: dist/ is missing: run make build (or make test-clocks)" >&2
  exit 2
fi

DEFAULT_READINGS=(
  "2026-12-05T00:03:00Z"                       # just after midnight UTC
  "2026-12-04T20:08:00Z"                       # late evening UTC (issue 17's failure)
  "2026-12-04T23:55:00Z"                       # just before midnight UTC
  "2026-03-29T01:30:00Z@Europe/Berlin"         # Europe's clocks went forward at 01:00 UTC
  "2026-11-01T07:05:00Z@America/Los_Angeles"   # just after midnight in Los Angeles, on a 25-hour day (US DST ends)
  "2026-09-26T14:05:00Z@Pacific/Chatham"       # Chatham went to UTC+13:45 at 14:00 UTC: already the 27th there
  "2028-02-29T12:00:00Z"                       # a leap day
  "2026-12-31T23:30:00Z"                       # New Year's Eve
)
if [ "$#" -gt 0 ]; then READINGS=("$@"); else READINGS=("${DEFAULT_READINGS[@]}"); fi

TESTS="${CLOCK_TESTS:-tests/unit/taps tests/sandbox tests/integration tests/docs}"
mapfile -t FILES < <(for t in $TESTS; do if [ -d "$t" ]; then find "$t" -name '*.test.ts'; else echo "$t"; fi; done | sort)
OUT="${CLOCK_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/clock-matrix-XXXXXX")}"
mkdir -p "$OUT"
SUMMARY="$OUT/summary.tsv"
printf 'reading\ttz\tfile\tresult\tfailed tests\n' >"$SUMMARY"

# Seconds to add to the real clock so that it reads $1 (an ISO instant) now.
offset_to() {
  node -e '
    const ms = Date.parse(process.argv[1]);
    if (Number.isNaN(ms)) process.exit(1);
    console.log(Math.ceil((ms - Date.now()) / 1000));' "$1"
}

# Runs "$@" with the clock at $READING and the machine zone $ZONE.
at_reading() {
  local offset
  offset=$(offset_to "$READING") || { echo "clock-matrix: cannot read the instant $READING" >&2; return 2; }
  case "$offset" in -*) ;; *) offset="+$offset" ;; esac
  env TZ="$ZONE" FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1 faketime -f "${offset}s" "$@"
}

# The names of the failed tests in jest's JSON output, one per line.
failed_tests() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const file of r.testResults) {
      if (file.assertionResults.length === 0 && file.message) console.log("(suite failed to run) " + file.message.split("\n").find((l) => l.trim()));
      for (const t of file.assertionResults) if (t.status === "failed") console.log(t.fullName);
    }' "$1" 2>/dev/null
}

# Every reading is an ISO instant, with an optional @zone that Node knows: checked before anything runs.
for entry in "${READINGS[@]}"; do
  if ! node -e '
    const [instant, zone] = process.argv[1].split("@");
    if (Number.isNaN(Date.parse(instant))) process.exit(1);
    if (zone !== undefined) new Intl.DateTimeFormat("en", { timeZone: zone });' "$entry" 2>/dev/null; then
    echo "clock-matrix: not a reading: \"$entry\" (expected e.g. 2026-12-05T00:03:00Z or 2026-11-01T07:05:00Z@America/Los_Angeles)" >&2
    exit 2
  fi
done

failures=0
for entry in "${READINGS[@]}"; do
  READING="${entry%%@*}"
  ZONE=UTC
  [ "$entry" != "$READING" ] && ZONE="${entry#*@}"
  label=$(echo "$READING-$ZONE" | tr -c 'A-Za-z0-9-' '_')
  # Does the fake clock really take effect (and the zone)?
  seen=$(at_reading node -e 'process.stdout.write(new Date().toISOString().slice(0, 16) + " " + Intl.DateTimeFormat().resolvedOptions().timeZone)')
  if [ "${seen%% *}" != "${READING:0:16}" ]; then
    echo "clock-matrix: faketime did not take effect: node saw $seen for $READING" >&2
    exit 2
  fi
  echo "== $READING, TZ=$ZONE (node sees $seen local $(at_reading date +%H:%M%z))"
  reading_failures=0
  for file in "${FILES[@]}"; do
    base="$OUT/$label--$(echo "$file" | tr '/' '_')"
    at_reading npm test --silent -- --json --outputFile="$base.json" "$file" >"$base.log" 2>&1
    code=$?
    names=$(failed_tests "$base.json" | paste -sd ';' -)
    if [ "$code" -eq 0 ]; then
      printf '%s\t%s\t%s\tpass\t\n' "$READING" "$ZONE" "$file" >>"$SUMMARY"
    else
      reading_failures=$((reading_failures + 1))
      printf '%s\t%s\t%s\tFAIL\t%s\n' "$READING" "$ZONE" "$file" "${names:-exit $code, see $base.log}" >>"$SUMMARY"
      echo "   FAIL $file: ${names:-exit $code, see $base.log}"
    fi
  done
  if [ "${CLOCK_DEMO:-1}" = 1 ]; then
    at_reading node dist/demo/main.js >"$OUT/$label--demo.log" 2>&1
    code=$?
    if [ "$code" -eq 0 ]; then
      printf '%s\t%s\tdemo\tpass\t\n' "$READING" "$ZONE" >>"$SUMMARY"
    else
      reading_failures=$((reading_failures + 1))
      printf '%s\t%s\tdemo\tFAIL\texit %s, see %s\n' "$READING" "$ZONE" "$code" "$OUT/$label--demo.log" >>"$SUMMARY"
      echo "   FAIL demo: exit $code, see $OUT/$label--demo.log"
    fi
  fi
  echo "   $reading_failures failed of ${#FILES[@]} test files$([ "${CLOCK_DEMO:-1}" = 1 ] && echo ' and the demo')"
  failures=$((failures + reading_failures))
done

echo
echo "Failures (all results in $SUMMARY):"
awk -F'\t' 'NR > 1 && $4 == "FAIL" { print "  " $1 " TZ=" $2 "  " $3 ": " $5; n++ } END { if (n == 0) print "  none" }' "$SUMMARY"
[ "$failures" -eq 0 ]
