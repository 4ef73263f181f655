// Between fork and exit or exec only async-signal-safe calls are made: the caller may be
// multi-threaded, so the children must not allocate or take locks.
#define _GNU_SOURCE
#include "CSupervisedSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/// The command's process id (its group id too), in the supervisor's memory.
static volatile pid_t command_group = 0;

static void forward_terminate(int signal_number) {
    (void)signal_number;
    if (command_group > 0) kill(-command_group, SIGTERM);
}

static void kill_group_and_exit(int signal_number) {
    (void)signal_number;
    if (command_group > 0) kill(-command_group, SIGKILL);
    _exit(137);
}

static void set_handler(int signal_number, void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    sigaction(signal_number, &action, NULL);
}

static void sleep_milliseconds(long milliseconds) {
    struct timespec pause = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {}
}

static void run_command(const char *path, char *const argv[], char *const envp[], const char *stdout_path,
                        const char *stderr_path) {
    setpgid(0, 0);
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        if (signal_number != SIGKILL && signal_number != SIGSTOP) set_handler(signal_number, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    int input = open("/dev/null", O_RDONLY);
    int output = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int errors = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (input < 0 || output < 0 || errors < 0) _exit(126);
    if (dup2(input, 0) < 0 || dup2(output, 1) < 0 || dup2(errors, 2) < 0) _exit(126);
    if (input > 2) close(input);
    if (output > 2) close(output);
    if (errors > 2) close(errors);
    execve(path, argv, envp);
    _exit(127);
}

static void supervise(pid_t caller, const char *path, char *const argv[], char *const envp[], const char *stdout_path,
                      const char *stderr_path) {
    setpgid(0, 0);  // away from the terminal's foreground group: Ctrl-C reaches the caller only
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    set_handler(SIGINT, SIG_IGN);
    set_handler(SIGTERM, forward_terminate);
    set_handler(SIGUSR1, kill_group_and_exit);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGUSR1);
    prctl(PR_SET_CHILD_SUBREAPER, 1);  // orphans of the command come back here to be reaped
#endif
    if (getppid() != caller) _exit(137);  // the caller died before the signal was set

    pid_t command = fork();
    if (command < 0) _exit(126);
    if (command == 0) run_command(path, argv, envp, stdout_path, stderr_path);
    setpgid(command, command);  // also here, so the group exists before any signal is sent to it
    command_group = command;
    if (getppid() != caller) kill_group_and_exit(0);

    int status = 0;
    while (waitpid(command, &status, 0) < 0) {
        if (errno != EINTR) _exit(126);
    }
    // Whatever the command left running in its group is stopped now.
    if (kill(-command, SIGTERM) == 0) {
        for (int waited = 0; waited < 100; waited++) {
            while (waitpid(-1, NULL, WNOHANG) > 0) {}
            if (kill(-command, 0) != 0) break;
            sleep_milliseconds(10);
        }
        kill(-command, SIGKILL);
    }
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) _exit(128 + WTERMSIG(status));
    _exit(126);
}

int calrec_spawn_supervised(const char *path, char *const argv[], char *const envp[], const char *stdout_path,
                            const char *stderr_path, pid_t *supervisor) {
    pid_t caller = getpid();
    pid_t child = fork();
    if (child < 0) return errno;
    if (child == 0) supervise(caller, path, argv, envp, stdout_path, stderr_path);
    *supervisor = child;
    return 0;
}
