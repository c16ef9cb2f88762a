// koffi bindings to glibc. Loaded once, on first use, so that importing a
// package costs nothing until it touches the kernel.
//
// koffi 3 gives pointers as BigInt; pointer results are declared `void *`
// (DESIGN.md §1). Memory the child of clone(2) must read lives in mmap'd
// pages (arena.ts), never in a Buffer: V8's heap is MADV_DONTFORK.
import koffi from 'koffi';

function bind() {
  const lib = koffi.load('libc.so.6');
  const f = (decl: string) => lib.func(decl);
  return {
    // `syscall` is variadic in C, but on x86_64 and aarch64 Linux integer
    // arguments travel in the same registers either way, and glibc's
    // implementation reads exactly six: a fixed prototype is exact and fast.
    syscall: f('long syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)'),
    mmap: f('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)'),
    munmap: f('int munmap(void *addr, size_t len)'),
    mprotect: f('int mprotect(void *addr, size_t len, int prot)'),
    pipe2: f('int pipe2(_Out_ int *fds, int flags)'),
    close: f('int close(int fd)'),
    read: f('long read(int fd, _Out_ uint8_t *buf, size_t n)'),
    write: f('long write(int fd, const uint8_t *buf, size_t n)'),
    fcntl: f('int fcntl(int fd, int cmd, long arg)'),
    kill: f('int kill(int pid, int sig)'),
    waitid: f('int waitid(int idtype, uint32_t id, _Out_ uint8_t *info, int options)'),
    pthreadSigmask: f('int pthread_sigmask(int how, const uint8_t *set, _Out_ uint8_t *old)'),
    clone: f('int clone(void *fn, void *stack, int flags, void *arg)'),
    setns: f('int setns(int fd, int nstype)'),
    unshare: f('int unshare(int flags)'),
    mount: f('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: f('int umount2(const char *target, int flags)'),
    sethostname: f('int sethostname(const char *name, size_t len)'),
    gethostname: f('int gethostname(_Out_ uint8_t *name, size_t len)'),
    getpid: f('int getpid()'),
  };
}

let bound: ReturnType<typeof bind> | undefined;

/** The raw glibc functions. Prefer the checked wrappers in calls.ts. */
export function libc(): ReturnType<typeof bind> {
  return (bound ??= bind());
}

/** errno of the last failed call on this thread. */
export function lastErrno(): number {
  return koffi.errno();
}

/** An ArrayBuffer over `len` bytes of native memory at `address`. */
export function viewAt(address: bigint, len: number): ArrayBuffer {
  return koffi.view(address, len);
}
