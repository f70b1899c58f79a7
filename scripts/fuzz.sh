#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of every parser that takes outside input; the
# targets and the properties each asserts are in fuzz/src/lib.rs.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   each target for SECONDS (default 60)
#   scripts/fuzz.sh [SECONDS] [TARGET...] -- LIBFUZZER_FLAG...
#                                           the flags go to each run (e.g. -max_len=1024)
#   scripts/fuzz.sh --runs N [SECONDS] [TARGET...]
#                                           each target for N executions, or SECONDS if given and
#                                           reached first (the README's figures: every target
#                                           but redirect_uri 10 million in one run, redirect_uri
#                                           9,085,152 at most; no crash, hang or OOM, peak RSS 98 MB;
#                                           the commands are in the README, with the table)
# Options, before the rest:
#   --quick   build with fuzz/Cargo.toml's dev profile (most crates unoptimised: a shorter build, a slower run):
#             the brief run at the end of scripts/test.sh
#   --merge   afterwards, fold the inputs that reached new code into the committed corpus
#             fuzz/corpus/TARGET and minimise it (cargo fuzz cmin, one input per covered edge)
#
# Each run starts from the committed corpus and fuzz/regressions/TARGET and writes new inputs to
# a scratch folder, so the committed files stay as they are unless --merge is given. A panic (a
# failed property), a hang over 10 s or more than 2 GB of memory fails the run, and the input is
# saved in fuzz/artifacts/TARGET/: fix the bug, then commit the input under
# fuzz/regressions/TARGET/, where tests/it/fuzz_corpus.rs replays it in every test run.
#
# FUZZ_SANITIZER=none|address (default none; README "Fuzzing" says why).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
# cargo-fuzz passes nightly-only -Z flags; this lets the stable toolchain accept them.
export RUSTC_BOOTSTRAP=1

seconds=
runs=
merge=0
profile=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --merge) merge=1; shift ;;
    --quick) profile=(--dev); shift ;;
    [0-9]*) seconds="$1"; shift ;;
    *) break ;;
  esac
done
# Debug assertions and overflow checks on in either profile: an overflow is a finding too.
flags=("${profile[@]}" --sanitizer "${FUZZ_SANITIZER:-none}" --debug-assertions)

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
targets=()
extra=()
while [ $# -gt 0 ]; do
  if [ "$1" = -- ]; then shift; extra=("$@"); break; fi
  targets+=("$1"); shift
done
start=$(date +%s)
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
  cargo fuzz build "${flags[@]}"
else
  for t in "${targets[@]}"; do cargo fuzz build "${flags[@]}" "$t"; done
fi
echo "build: $(($(date +%s) - start)) s"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
limit=()
[ -n "$runs" ] && limit+=(-runs="$runs")
[ -n "$seconds" ] && limit+=(-max_total_time="$seconds")
[ ${#limit[@]} -eq 0 ] && limit=(-max_total_time=60)
failed=()
rows=()
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t" "corpus/$t" "artifacts/$t"
  seeds=("corpus/$t")
  [ -d "regressions/$t" ] && seeds+=("regressions/$t")
  log="artifacts/$t.log"
  t0=$(date +%s.%N)
  result=0
  if ! cargo fuzz run "${flags[@]}" "$t" "$scratch/$t" "${seeds[@]}" -- \
    "${limit[@]}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="artifacts/$t/" "${extra[@]}" >"$log" 2>&1; then
    failed+=("$t")
    # What libFuzzer stopped on: crash (a panic), timeout (a hang) or oom (memory).
    result=$(sed -n 's|.*Test unit written to .*/\([a-z]*\)-[0-9a-f]*$|\1|p' "$log" | tail -1)
    result=${result:-failed}
    grep -E -A3 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -30 >&2 || true
  fi
  t1=$(date +%s.%N)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  new=$(find "$scratch/$t" -type f | wc -l)
  if [ "$merge" = 1 ] && [ "$new" -gt 0 ]; then
    cp "$scratch/$t"/* "corpus/$t/"
    # One input per covered edge, not per hit-count bucket: the same coverage in a third of the files.
    cargo fuzz cmin "${flags[@]}" "$t" "corpus/$t" -- -use_counters=0 >"$scratch/$t.cmin.log" 2>&1
  fi
  files=$(find "corpus/$t" -type f | wc -l)
  bytes=$(find "corpus/$t" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  rows+=("$(awk -v t="$t" -v e="${execs:-0}" -v a="$t0" -v b="$t1" -v f="$files" -v by="$bytes" -v r="${rss:-?}" -v n="$new" -v x="$result" \
    'BEGIN { s = b - a; printf "| %s | %d | %.0f | %.0f | %s | %s | %d files, %.1f KB | %d |", t, e, s, (s > 0 ? e / s : 0), r, x, f, by / 1024, n }')")
  echo "${rows[-1]}"
done

echo
echo "| target | executions | wall s | exec/s | peak RSS (MB) | crashes | corpus | new inputs |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
echo "fuzzing took $(($(date +%s) - start)) s in all"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]} (the inputs are in fuzz/artifacts/)" >&2
  exit 1
fi
