#!/usr/bin/env bash
# failures.sh STATUS LOG: when a `go test -v` run whose output is in LOG
# ended with STATUS other than 0, print its failures again, short, as the
# last lines of the run: a CI log shown by its tail, behind the component
# logs a failing suite prints, then still says what failed. Exits STATUS.
set -uo pipefail
status=$1 log=$2
[ "$status" -eq 0 ] && exit 0
echo ">> $(basename "$log" .log) failed; its failures again (the whole output: $log):"
# The first pass learns which tests failed ("--- FAIL: name"); the second
# prints the messages those tests wrote (go test -v names the test whose
# output follows in its "=== RUN/CONT/NAME" lines), each cut to three lines
# of 240 characters, and panics and the suite's own errors.
awk '
  FNR == NR { if (match($0, /--- FAIL: [^ ]+/)) failed[substr($0, RSTART + 10, RLENGTH - 10)] = 1; next }
  /^=== (RUN|CONT|NAME|PAUSE) / { test = $3; msg = 0; next }
  /^ *--- FAIL/ { print; msg = 0; next }
  /^panic: |^e2e: / { print substr($0, 1, 240); msg = 0; next }
  /^ +[A-Za-z0-9_]+_test\.go:[0-9]+: / { msg = (test in failed); n = 0; if (msg) print substr($0, 1, 240); next }
  msg && /^        / && n < 2 { print substr($0, 1, 240); n++; next }
  { msg = 0 }
' "$log" "$log" | tail -n 40
exit "$status"
