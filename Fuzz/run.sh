#!/usr/bin/env bash
# Runs fuzz targets built by `make fuzz-build` (see Fuzz/README.md): usage `Fuzz/run.sh SECONDS TARGET…`.
# For each target: replays Fuzz/regressions/TARGET (every input must pass), then fuzzes for SECONDS
# from the seed corpus Fuzz/corpus/TARGET plus what earlier runs found (.build/fuzz-runs/corpus/TARGET),
# with Fuzz/dictionaries/TARGET.dict. Prints executions, coverage and crashes per target; findings
# are written to .build/fuzz-runs/crashes/TARGET/. Exits 1 if a regression input fails or anything crashed.
# (Outside SwiftPM's .build/fuzz, which removes folders of its own names such as `artifacts`.)
# FUZZ_ARGS adds libFuzzer flags (`-fork=2`, `-fork=1 -ignore_crashes=1`, `-max_len=65536`, …).
set -u
seconds=${1:?usage: Fuzz/run.sh SECONDS TARGET...}
shift
cd "$(dirname "$0")/.."
build=.build/fuzz
runs=.build/fuzz-runs
# libFuzzer prints the crash and its stack itself; Swift's backtracer would only add minutes to each.
export SWIFT_BACKTRACE=enable=no
status=0
summary=()
# What libFuzzer wrote to the target's findings folder, newest first.
findings() { ls -t "$artifacts" | grep -E '^(crash|leak|timeout|oom)-'; }
for target in "$@"; do
    binary=$build/release/fuzz-$target
    corpus=$runs/corpus/$target
    artifacts=$runs/crashes/$target
    logs=$runs/logs
    scratch=$runs/tmp/$target
    mkdir -p "$corpus" "$artifacts" "$logs"
    rm -rf "$scratch" && mkdir -p "$scratch"
    if [ ! -x "$binary" ]; then
        echo "$binary is missing: run 'make fuzz-build' first" >&2
        exit 1
    fi

    regressions=(Fuzz/regressions/"$target"/*)
    if [ -e "${regressions[0]}" ]; then
        if TMPDIR=$scratch "$binary" "${regressions[@]}" >"$logs/$target-regressions.log" 2>&1; then
            echo "$target: ${#regressions[@]} regression inputs pass"
        else
            echo "$target: a regression input fails; see $logs/$target-regressions.log"
            status=1
        fi
    fi

    dictionary=()
    [ -f "Fuzz/dictionaries/$target.dict" ] && dictionary=("-dict=Fuzz/dictionaries/$target.dict")
    before=$(findings | wc -l)
    echo "$target: fuzzing for $seconds s (log: $logs/$target.log)"
    # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
    TMPDIR=$scratch "$binary" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "${dictionary[@]}" ${FUZZ_ARGS:-} "$corpus" "Fuzz/corpus/$target" >"$logs/$target.log" 2>&1
    executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$logs/$target.log" | awk '{s += $2} END {print s + 0}')
    last=$(grep -E '^#[0-9]+' "$logs/$target.log" | tail -1)
    # -fork prints no final stats: its last status line counts the executions.
    [ "$executions" -gt 0 ] || executions=$(echo "$last" | grep -oE '^#[0-9]+' | tr -d '#')
    coverage=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
    corpus_size=$(echo "$last" | grep -o 'corp: [0-9]*' | awk '{print $2}')
    found=$(findings | wc -l)
    crashes=$((found - before))
    line="$target: ${executions} executions, coverage ${coverage:-?} edges, corpus ${corpus_size:-?} inputs, new crashes: $crashes"
    echo "$line"
    summary+=("$line")
    if [ "$crashes" -gt 0 ]; then
        status=1
        findings | head -n "$crashes" | sed "s|^|    $artifacts/|"
        grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|Fatal error' "$logs/$target.log" | sed 's/^/    /'
        echo "    replay: SWIFT_BACKTRACE=enable=no $binary FILE; once fixed, keep FILE in Fuzz/regressions/$target/"
    fi
done
echo
echo "summary ($seconds s a target):"
printf '  %s\n' "${summary[@]}"
exit $status
