// keyctl: asks the kernel which keyring holds this session's keys, as
// `keyctl show` begins by doing. The kernel keyring is not namespaced: a
// container that can use it shares it with the host (keyrings(7)).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEYCTL_GET_KEYRING_ID 0
#define KEY_SPEC_SESSION_KEYRING -3

int main(void) {
  // Killed by SIGSYS, a process dumps core: not into the container's root.
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  printf("keyctl: asking for the session keyring\n");
  fflush(stdout);
  long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
  if (id < 0) printf("keyctl: %s\n", strerror(errno));
  else printf("keyctl: keyring %ld\n", id);
  return id < 0;
}
