#ifndef CSUPERVISED_SPAWN_H
#define CSUPERVISED_SPAWN_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Starts `path` with `argv` and `envp` under a supervising process, so that nothing it starts
/// outlives the caller:
///
/// - The supervisor is the caller's child. It forks the command into a new process group, waits
///   for it, then stops whatever the command left running in that group (SIGTERM, then SIGKILL
///   after a second) and exits with the command's status (128 + signal number if it was killed).
/// - If the caller dies, even by SIGKILL, the kernel tells the supervisor (on Linux, a parent-death
///   signal) and it kills the command's whole process group at once.
/// - SIGTERM sent to the supervisor is passed on to the command's group; SIGUSR1 kills the group
///   with SIGKILL and ends the supervisor (status 137).
///
/// The command gets /dev/null as standard input, `stdout_path` and `stderr_path` (created or
/// truncated) as its output, the caller's working directory, and default signal dispositions with
/// nothing blocked. The calling thread must outlive the command: the parent-death signal follows
/// the thread that started the supervisor, so call this from a thread that waits for the result.
///
/// Returns 0 and the supervisor's process id in `supervisor`, or an errno value.
int calrec_spawn_supervised(const char *path, char *const argv[], char *const envp[], const char *stdout_path,
                            const char *stderr_path, pid_t *supervisor);

#ifdef __cplusplus
}
#endif

#endif
