// overhead: the cost of one system call under a seccomp filter.
//   overhead FILTER ITERATIONS NR,A0 [NR,A0 ...]
// FILTER is raw struct sock_filter[] bytes (libseccomp's seccomp_export_bpf
// writes the same), or "-" for none. For each call, prints the best of 5
// rounds of ITERATIONS calls, pinned to one CPU, in nanoseconds per call, one per line.
#define _GNU_SOURCE
#include <linux/filter.h>
#include <sched.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  // One CPU for the whole run: no migration in the middle of a round.
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  sched_setaffinity(0, sizeof one, &one);
  if (strcmp(argv[1], "-") != 0) {
    FILE *f = fopen(argv[1], "rb");
    if (!f) return perror(argv[1]), 1;
    static struct sock_filter insns[4096];
    size_t n = fread(insns, sizeof insns[0], 4096, f);
    fclose(f);
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = insns};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return perror("prctl"), 1;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return perror("seccomp"), 1;
  }
  long iters = atol(argv[2]);
  for (int c = 3; c < argc; c++) {
    char *end;
    long nr = strtol(argv[c], &end, 0);
    unsigned long a0 = *end == ',' ? strtoul(end + 1, NULL, 0) : 0;
    double best = 1e18;
    for (long i = 0; i < iters / 10; i++) syscall(nr, a0, 0, 0, 0, 0, 0); // warm up
    for (int round = 0; round < 5; round++) {
      double t0 = now();
      for (long i = 0; i < iters; i++) syscall(nr, a0, 0, 0, 0, 0, 0);
      double per = (now() - t0) / iters;
      if (per < best) best = per;
    }
    printf("%.1f\n", best);
  }
  return 0;
}
