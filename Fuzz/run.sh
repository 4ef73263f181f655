#!/usr/bin/env bash
# Runs fuzz targets built by `make fuzz-build` (see Fuzz/README.md): usage `Fuzz/run.sh SECONDS TARGET…`.
# For each target: replays Fuzz/regressions/TARGET (every input must pass), then fuzzes for SECONDS
# from the seed corpus Fuzz/corpus/TARGET plus what earlier runs found (.build/fuzz/corpus/TARGET),
# with Fuzz/dictionaries/TARGET.dict. Prints executions, coverage and crashes per target; findings
# are written to .build/fuzz/artifacts/TARGET/. Exits 1 if a regression input fails or anything crashed.
# FUZZ_ARGS adds libFuzzer flags (`-jobs=2`, `-fork=1 -ignore_crashes=1`, `-max_len=65536`, …).
set -u
seconds=${1:?usage: Fuzz/run.sh SECONDS TARGET...}
shift
cd "$(dirname "$0")/.."
build=.build/fuzz
# libFuzzer prints the crash and its stack itself; Swift's backtracer would only add minutes to each.
export SWIFT_BACKTRACE=enable=no
status=0
summary=()
for target in "$@"; do
    binary=$build/release/fuzz-$target
    corpus=$build/corpus/$target
    artifacts=$build/artifacts/$target
    logs=$build/logs
    scratch=$build/tmp/$target
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
    before=$(ls "$artifacts" | wc -l)
    echo "$target: fuzzing for $seconds s (log: $logs/$target.log)"
    # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
    TMPDIR=$scratch "$binary" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "${dictionary[@]}" ${FUZZ_ARGS:-} "$corpus" "Fuzz/corpus/$target" >"$logs/$target.log" 2>&1
    executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$logs/$target.log" | awk '{s += $2} END {print s + 0}')
    last=$(grep -E '^#[0-9]+' "$logs/$target.log" | tail -1)
    coverage=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
    corpus_size=$(echo "$last" | grep -o 'corp: [0-9]*' | awk '{print $2}')
    found=$(ls "$artifacts" | wc -l)
    crashes=$((found - before))
    line="$target: ${executions} executions, coverage ${coverage:-?} edges, corpus ${corpus_size:-?} inputs, new crashes: $crashes"
    echo "$line"
    summary+=("$line")
    if [ "$crashes" -gt 0 ]; then
        status=1
        ls -t "$artifacts" | head -n "$crashes" | sed "s|^|    $artifacts/|"
        grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer)|Fatal error' "$logs/$target.log" | sed 's/^/    /'
        echo "    replay: SWIFT_BACKTRACE=enable=no $binary FILE; once fixed, keep FILE in Fuzz/regressions/$target/"
    fi
done
echo
echo "summary ($seconds s a target):"
printf '  %s\n' "${summary[@]}"
exit $status
