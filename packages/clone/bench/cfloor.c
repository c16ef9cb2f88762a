// cfloor: the physical floor for starting a container, in plain C.
//
// Does what @nsk/clone's spawn() does, with nothing in the way: glibc clone(2)
// into the 7 namespaces on a small mmap'd stack; the child blocks on a sync
// pipe, then execve("/bin/true"); the parent writes uid_map, setgroups and
// gid_map (root -> root, like `unshare -Ur`), writes the sync byte, reaps.
//
//   cfloor seq N      run N containers one after another; print ms per container
//   cfloor rate N K   run N containers keeping K in flight; print containers per second
//
// Built and run by spawn.bench.ts (gcc -O2 cfloor.c -o cfloor).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STACK_SIZE (64 * 1024)
#define FLAGS (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | SIGCHLD)

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int child_main(void *arg) {
  int *sync = arg;
  char c;
  close(sync[1]);
  if (read(sync[0], &c, 1) != 1) _exit(126);
  char *argv[] = {"/bin/true", NULL};
  char *envp[] = {NULL};
  execve(argv[0], argv, envp);
  _exit(127);
}

static void write_file(pid_t pid, const char *name, const char *text) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) die(path);
  close(fd);
}

// One slot per container in flight: its stack and its sync pipe.
struct slot {
  char *stack;
  int sync[2];
  pid_t pid;
};

static void start(struct slot *s) {
  if (pipe2(s->sync, O_CLOEXEC) < 0) die("pipe2");
  s->pid = clone(child_main, s->stack + STACK_SIZE, FLAGS, s->sync);
  if (s->pid < 0) die("clone");
  close(s->sync[0]);
  write_file(s->pid, "uid_map", "0 0 1\n");
  write_file(s->pid, "setgroups", "deny");
  write_file(s->pid, "gid_map", "0 0 1\n");
  if (write(s->sync[1], "x", 1) != 1) die("write sync");
  close(s->sync[1]);
}

static void check(int status) {
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "cfloor: child ended with status 0x%x\n", status);
    exit(1);
  }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  int seq = argc == 3 && strcmp(argv[1], "seq") == 0;
  int rate = argc == 4 && strcmp(argv[1], "rate") == 0;
  if (!seq && !rate) {
    fprintf(stderr, "usage: cfloor seq N | cfloor rate N K\n");
    return 2;
  }
  long n = atol(argv[2]);
  long k = rate ? atol(argv[3]) : 1;
  if (n < 1 || k < 1) return 2;

  struct slot *slots = calloc(k, sizeof *slots);
  for (long i = 0; i < k; i++) {
    slots[i].stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (slots[i].stack == MAP_FAILED) die("mmap");
  }

  double t0 = now();
  long started = 0, done = 0;
  // Fill every slot, then replace each child as it is reaped.
  for (; started < k && started < n; started++) start(&slots[started]);
  while (done < n) {
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) die("waitpid");
    check(status);
    done++;
    if (started < n) {
      for (long i = 0; i < k; i++)
        if (slots[i].pid == pid) {
          start(&slots[i]);
          started++;
          break;
        }
    }
  }
  double elapsed = now() - t0;

  if (seq) printf("%.3f\n", elapsed * 1000 / n);
  else printf("%.1f\n", n / elapsed);
  return 0;
}
