#!/bin/sh
# Prints the CPU the build may tune for on this machine, or nothing. The Makefile passes it to
# Package.swift as CALREC_TUNE; a plain `swift build` leaves it unset and builds portable code.
# Tuning is `haswell`, the baseline of AVX2 + FMA x86-64 CPUs (Intel since 2013, AMD since Zen):
# chosen only on x86-64 Linux hosts whose CPU reports every feature that code generation for it
# may use.
[ "$(uname -m)" = x86_64 ] || exit 0
[ -r /proc/cpuinfo ] || exit 0
flags=$(grep -m1 '^flags' /proc/cpuinfo)
for feature in avx avx2 fma bmi1 bmi2 abm movbe pclmulqdq f16c popcnt sse4_2; do
  case " $flags " in *" $feature "*) ;; *) exit 0 ;; esac
done
echo haswell
