#!/usr/bin/env bash
# Everything CI checks, in one command, on a fresh Debian 12 machine or a developer's:
#
#   1. installs what is missing (Debian: PostgreSQL, Chromium, gettext, CJK fonts, Kannel;
#      the virtual environment .venv with `pip install -e ".[test]"`);
#   2. ruff check and ruff format --check;
#   3. the whole pytest suite on SQLite (browser journeys included);
#   4. the whole suite again on a throwaway PostgreSQL cluster, stopped and removed at exit;
#   5. the suite without the browser journeys under each frozen instant that has broken
#      date arithmetic before (noon and midnight in China, the China/UTC date split, a month
#      end, a Spring Festival holiday, a make-up working day), two instants at a time.
#
# Steps 3 and 4 run with the clock of the whole process tree set to a China afternoon
# (faketime), so no run depends on the hour CI happens to start at.
#
# Every step runs even when an earlier one fails; the exit status is non-zero if any failed,
# and a summary is printed at the end.
#
# Options:
#   --sqlite-only   skip the PostgreSQL pass (quicker while working; CI never uses it)
#   --no-instants   skip step 5 (quicker while working; CI never uses it)
#   -- ARGS         passed to both pytest runs, e.g.  ./scripts/test.sh -- -k dosing -x
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/_common.sh
. "$ROOT/scripts/_common.sh"
# shellcheck source=scripts/pg-cluster.sh
. "$ROOT/scripts/pg-cluster.sh"

SQLITE_ONLY=0
INSTANTS=1
PYTEST_ARGS=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        --sqlite-only) SQLITE_ONLY=1 ;;
        --no-instants) INSTANTS=0 ;;
        --) shift; PYTEST_ARGS=("$@"); break ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
    shift
done

RUN_TMP="$(mktemp -d "${TMPDIR:-/tmp}/pingan-test.XXXXXX")"
cleanup() {
    pg_cluster_stop
    rm -rf "$RUN_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

STEPS=()
FAILED=0
START_ALL=$SECONDS

# step NAME COMMAND...: runs it, records pass/fail and the time it took.
# A command may leave a note for the summary line in STEP_NOTE.
step() {
    local name="$1" start=$SECONDS status
    shift
    say "$name"
    STEP_NOTE=""
    "$@"
    status=$?
    if [ "$status" -eq 0 ]; then
        STEPS+=("$(printf '%-24s %-5s %5ss  %s' "$name" PASS $((SECONDS - start)) "$STEP_NOTE")")
    else
        STEPS+=("$(printf '%-24s %-5s %5ss  %s' "$name" FAIL $((SECONDS - start)) \
            "${STEP_NOTE:-exit status $status}")")
        FAILED=1
    fi
    return "$status"
}

summary() {
    echo
    say "Summary"
    printf '  %s\n' "${STEPS[@]}"
    printf '  %-24s %-5s %5ss\n' "total" "$([ "$FAILED" -eq 0 ] && echo PASS || echo FAIL)" \
        $((SECONDS - START_ALL))
}

# --- 1. what the suite needs -----------------------------------------------------------
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v msgfmt >/dev/null || missing+=(gettext)
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 \
    || missing+=(fonts-noto-cjk)
# Kannel, the real SMS gateway, and its fake handset for the end-to-end message test.
[ -x /usr/sbin/bearerbox ] || missing+=(kannel)
[ -x /usr/lib/kannel/test/fakesmsc ] || missing+=(kannel-extras)
# faketime sets the clock of the whole process tree (the server, the SMS command, Kannel).
command -v faketime >/dev/null || missing+=(faketime)
apt_install "${missing[@]}"
ensure_venv
ensure_installed test

export PATH="$VENV/bin:$PATH"
# Playwright's own browser download is never used: the journeys launch Debian's Chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# The instants (UTC) the suite is run at. The main passes start at a China afternoon
# (14:30 Asia/Shanghai), the hour at which date arithmetic mixing UTC and local days broke.
AFTERNOON="2026-12-02 06:30:00"
INSTANT_NAMES=(
    "11:59 China"          "12:01 China"          "23:59 China"
    "16:00 UTC date split" "month end"            "Spring Festival"
    "make-up working day"
)
INSTANT_TIMES=(
    "2026-12-02 03:59:00"  "2026-12-02 04:01:00"  "2026-12-02 15:59:00"
    "2026-12-02 16:00:00"  "2026-11-30 15:00:00"  "2026-02-17 02:00:00"
    "2026-02-14 01:30:00"
)

# run_pytest DATA_DIR DATABASE_URL INSTANT [PYTEST ARGS...]: the suite with the process
# tree's clock started at INSTANT (UTC); an empty URL means SQLite, whatever the caller's
# environment says. Each pass gets its own data directory (keys, SQLite file).
run_pytest() {
    local data_dir="$1" db_url="$2" instant="$3" status
    shift 3
    mkdir -p "$data_dir"
    local clock=(faketime -f "@$instant")
    if [ -n "$db_url" ]; then
        PINGAN_DATA_DIR="$data_dir" PINGAN_DATABASE_URL="$db_url" \
            "${clock[@]}" pytest -q -p no:cacheprovider "$@" "${PYTEST_ARGS[@]}" 2>&1 \
            | tee "$data_dir.log"
    else
        env -u PINGAN_DATABASE_URL PINGAN_DATA_DIR="$data_dir" \
            "${clock[@]}" pytest -q -p no:cacheprovider "$@" "${PYTEST_ARGS[@]}" 2>&1 \
            | tee "$data_dir.log"
    fi
    status=$?
    # pytest's own last line ("250 passed, 1 skipped in 40s") goes into the summary.
    STEP_NOTE="$(grep -E '(passed|failed|error|no tests ran)' "$data_dir.log" | tail -n 1 \
        | sed -E 's/\x1b\[[0-9;]*m//g; s/^=+ //; s/ =+$//')"
    return "$status"
}

start_postgres() {
    pg_cluster_start && STEP_NOTE="$PG_URL"
}

# --- 2. lint ----------------------------------------------------------------------------
# The Python trees only: ruff would otherwise also reformat code examples inside docs/*.md,
# where alignment is chosen for the reader.
LINT_PATHS=()
for dir in src tests scripts bench; do
    [ -d "$dir" ] && LINT_PATHS+=("$dir")
done
step "ruff check" ruff check "${LINT_PATHS[@]}"
step "ruff format --check" ruff format --check "${LINT_PATHS[@]}"

# --- 3. SQLite --------------------------------------------------------------------------
step "pytest on SQLite" run_pytest "$RUN_TMP/sqlite" "" "$AFTERNOON" -m "not calendar_data"

# --- 4. PostgreSQL ----------------------------------------------------------------------
if [ "$SQLITE_ONLY" -eq 0 ]; then
    if step "start PostgreSQL" start_postgres; then
        step "pytest on PostgreSQL" run_pytest "$RUN_TMP/postgres" "$PG_URL" "$AFTERNOON" \
            -m "not calendar_data"
    fi
    pg_cluster_stop
fi

# The holiday calendar's coverage against the real date, the one check that must not run
# under a frozen clock: it turns red when the pinned chinese-calendar lacks a year in use.
holiday_calendar() {
    env -u PINGAN_DATABASE_URL PINGAN_DATA_DIR="$RUN_TMP/calendar" \
        pytest -q -p no:cacheprovider -m calendar_data tests/takehome
}
step "holiday calendar" holiday_calendar

# --- 5. frozen instants -----------------------------------------------------------------
# The time-sensitive tests, on SQLite, at each instant: everything that reads the clock or
# counts days. Left to the main passes are the parts that test wiring rather than date
# arithmetic and cost the most: the browser journeys, the Kannel round trips, the endpoint
# fuzz, the property tests that compare engines on random histories, the demo builds
# (tests/synth), the command-line and backup subprocess tests (tests/keys, tests/backup)
# and the small-scale benchmarks, plus the holiday calendar check (step 4); and the crawls
# of the demo region (they freeze their own clock at the demo's instant) and the upgrade
# tests (migrations, no dates).
INSTANT_SKIP=(
    --ignore=tests/fuzz --ignore=tests/synth --ignore=tests/keys --ignore=tests/backup
    --ignore=tests/bench --ignore=tests/takehome/test_takehome_fair_tiers.py
    --ignore=tests/dosing/test_dosing_facts_agree.py
    --ignore=tests/test_glossary.py --ignore=tests/test_no_forbidden_links.py
    --ignore=tests/region/test_centre_matrix.py --ignore=tests/region/test_region_upgrade.py
    --ignore=tests/region/test_episode_centre_upgrade.py
)
INSTANT_MARKS="not browser and not kannel and not calendar_data and not fuzz"
# One instant's pass takes one core (pytest is one process), so they run two at a time: the
# second of each pair in the background, to its own files (log, console, exit status), shown
# when the first has ended. Each pass has its own data directory and SQLite file.
instant_pass() {
    run_pytest "$RUN_TMP/instant$1" "" "${INSTANT_TIMES[$1]}" -m "$INSTANT_MARKS" -x \
        "${INSTANT_SKIP[@]}"
}
start_instant() {
    (
        instant_pass "$1" >"$RUN_TMP/instant$1.console" 2>&1
        echo $? >"$RUN_TMP/instant$1.status"
    ) &
    INSTANT_PID=$!
}
await_instant() {
    wait "$INSTANT_PID"
    cat "$RUN_TMP/instant$1.console"
    STEP_NOTE="$(grep -E '(passed|failed|error|no tests ran)' "$RUN_TMP/instant$1.log" \
        | tail -n 1 | sed -E 's/\x1b\[[0-9;]*m//g; s/^=+ //; s/ =+$//') (beside the one above)"
    return "$(cat "$RUN_TMP/instant$1.status" 2>/dev/null || echo 1)"
}
if [ "$INSTANTS" -eq 1 ]; then
    for ((i = 0; i < ${#INSTANT_NAMES[@]}; i += 2)); do
        next=$((i + 1))
        [ "$next" -lt "${#INSTANT_NAMES[@]}" ] && start_instant "$next"
        step "at ${INSTANT_NAMES[$i]}" instant_pass "$i"
        [ "$next" -lt "${#INSTANT_NAMES[@]}" ] && step "at ${INSTANT_NAMES[$next]}" await_instant "$next"
    done
fi

summary
exit "$FAILED"
