// libFuzzer's entry point for programs with their own main (libclang_rt.fuzzer_no_main, linked by
// `make fuzz`): it parses libFuzzer's command line and calls `callback` with every input.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
