// Between the forks and exit or exec only async-signal-safe calls are made: the caller may be
// multi-threaded, so the children must not allocate or take locks. The forks are raw clone system
// calls, so no pthread_atfork handler of any library runs in them.
#define _GNU_SOURCE
#include "CSupervisedSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/// The command's process id (its group id too), in the supervisor's memory.
static volatile pid_t command_group = 0;
/// Set by the parent-death signal.
static volatile sig_atomic_t caller_died = 0;

static pid_t raw_fork(void) {
#ifdef __linux__
    return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
#else
    return fork();
#endif
}

static void forward_terminate(int signal_number) {
    (void)signal_number;
    if (command_group > 0) kill(-command_group, SIGTERM);
}

static void note_caller_died(int signal_number) {
    (void)signal_number;
    caller_died = 1;
    if (command_group > 0) kill(-command_group, SIGKILL);
}

static void set_handler(int signal_number, void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    sigaction(signal_number, &action, NULL);  // no SA_RESTART: a signal interrupts waitpid
}

static void sleep_milliseconds(long milliseconds) {
    struct timespec pause = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {}
}

#ifdef __linux__
/// The parent process id in /proc/<pid>/stat (`pid (name) state ppid …`), or -1.
static pid_t parent_of(const char *pid_text) {
    char path[64] = "/proc/";
    size_t n = 6;
    for (const char *c = pid_text; *c && n < sizeof path - 6; c++) path[n++] = *c;
    memcpy(path + n, "/stat", 6);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char stat[512];
    ssize_t length = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (length <= 0) return -1;
    stat[length] = 0;
    char *close_paren = NULL;
    for (char *c = stat; *c; c++) if (*c == ')') close_paren = c;
    if (!close_paren || close_paren[1] != ' ' || !close_paren[2] || close_paren[3] != ' ') return -1;
    pid_t parent = 0;
    for (char *c = close_paren + 4; *c >= '0' && *c <= '9'; c++) parent = parent * 10 + (*c - '0');
    return parent;
}

/// Sends `signal_number` to every child of this process (reading /proc with system calls only);
/// returns how many there were.
static int signal_children(int signal_number) {
    int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0;
    pid_t self = getpid();
    int count = 0;
    char buffer[4096];
    for (;;) {
        long length = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
        if (length <= 0) break;
        for (long offset = 0; offset < length;) {
            struct { unsigned long long inode; long long next; unsigned short size; unsigned char type; char name[]; } *entry =
                (void *)(buffer + offset);
            offset += entry->size;
            pid_t pid = 0;
            const char *c = entry->name;
            for (; *c >= '0' && *c <= '9'; c++) pid = pid * 10 + (*c - '0');
            if (*c || pid <= 0 || pid == self) continue;
            if (parent_of(entry->name) == self) {
                kill(pid, signal_number);
                count++;
            }
        }
    }
    close(fd);
    return count;
}
#else
static int signal_children(int signal_number) {
    (void)signal_number;
    return 0;
}
#endif

/// Whether anything of the command is left: its process group, or a child of this process (the
/// subreaper: descendants that left the group, e.g. with setsid, come back here when orphaned).
static int anything_left(pid_t group) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    return kill(-group, 0) == 0 || signal_children(0) > 0;
}

/// Stops everything the command left: SIGTERM, a second to go, then SIGKILL.
static void stop_leftovers(pid_t group, int gentle) {
    if (!anything_left(group)) return;
    if (gentle) {
        kill(-group, SIGTERM);
        signal_children(SIGTERM);
        for (int waited = 0; waited < 100 && anything_left(group); waited++) sleep_milliseconds(10);
    }
    for (int round = 0; round < 100 && anything_left(group); round++) {
        kill(-group, SIGKILL);
        signal_children(SIGKILL);
        sleep_milliseconds(5);
    }
}

static void run_command(pid_t supervisor, const char *path, char *const argv[], char *const envp[], const char *stdout_path,
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
    if (getppid() != supervisor) _exit(137);
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
    sigset_t guarded, none;
    sigemptyset(&none);
    sigemptyset(&guarded);
    sigaddset(&guarded, SIGTERM);
    sigaddset(&guarded, SIGUSR1);
    sigprocmask(SIG_SETMASK, &guarded, NULL);  // held until the command's group is known
    set_handler(SIGINT, SIG_IGN);
    set_handler(SIGTERM, forward_terminate);
    set_handler(SIGUSR1, note_caller_died);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGUSR1);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
    if (getppid() != caller) _exit(137);  // the caller died before the signal was set

    pid_t self = getpid();
    pid_t command = raw_fork();
    if (command < 0) _exit(126);
    if (command == 0) run_command(self, path, argv, envp, stdout_path, stderr_path);
    setpgid(command, command);  // also here, so the group exists before any signal is sent to it
    command_group = command;
    sigprocmask(SIG_SETMASK, &none, NULL);  // a signal held meanwhile is handled now
    if (getppid() != caller) note_caller_died(0);

    // Wait for the command without reaping it: while it is a zombie its pid, and so its group id,
    // cannot be reused, so the group is signalled safely before the status is taken.
    siginfo_t info;
    memset(&info, 0, sizeof info);
    while (!caller_died) {
        if (waitid(P_PID, command, &info, WEXITED | WNOWAIT) == 0) break;
        if (errno != EINTR) _exit(126);
    }
    kill(-command, caller_died ? SIGKILL : SIGTERM);
    int status = 0;
    while (waitpid(command, &status, 0) < 0 && errno == EINTR) {}
    // What the command left (in its group, or re-parented here after setsid) is stopped now.
    stop_leftovers(command, !caller_died);
    if (caller_died) _exit(137);
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) _exit(128 + WTERMSIG(status));
    _exit(126);
}

int calrec_spawn_supervised(const char *path, char *const argv[], char *const envp[], const char *stdout_path,
                            const char *stderr_path, pid_t *supervisor) {
    pid_t caller = getpid();
    pid_t child = raw_fork();
    if (child < 0) return errno;
    if (child == 0) supervise(caller, path, argv, envp, stdout_path, stderr_path);
    *supervisor = child;
    return 0;
}
