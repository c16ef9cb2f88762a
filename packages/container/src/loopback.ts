// network 'none': a network namespace of its own with only `lo`, up.
//
// A new network namespace has a loopback device, down (network_namespaces(7)).
// The child brings it up itself, in two plan steps — a socket and the
// SIOCSIFFLAGS ioctl (netdevice(7)) — with the CAP_NET_ADMIN it has over its
// own namespace: no netlink socket in the parent, and nothing the parent
// must enter (setns(2) into a network namespace needs CAP_SYS_ADMIN in the
// caller's own user namespace too, which a rootless caller lacks).
import { CLONE, O } from '@nsk/syscall';
import { bytes, num, type Feature, type Plan } from '@nsk/clone';

const AF_INET = 2;
const SOCK_DGRAM = 2;
/** linux/sockios.h */
const SIOCSIFFLAGS = 0x8914;
/** linux/if.h: IFF_UP | IFF_LOOPBACK | IFF_RUNNING */
const LO_FLAGS = 0x1 | 0x8 | 0x40;

/** struct ifreq { char ifr_name[IFNAMSIZ]; short ifr_flags; … } (40 bytes on 64-bit). */
function ifreq(name: string, flags: number): Uint8Array {
  const b = new Uint8Array(40);
  b.set(new TextEncoder().encode(name));
  new DataView(b.buffer).setInt16(16, flags, true);
  return b;
}

/** `unshare -n; ip link set lo up`, as steps of the child. */
export function loopbackOnly(): Feature {
  return {
    name: 'network:none',
    cloneFlags: CLONE.NEWNET,
    plan(plan: Plan) {
      const fd = plan.add('socket', [num(AF_INET, 'AF_INET'), num(SOCK_DGRAM | O.CLOEXEC, 'SOCK_DGRAM|SOCK_CLOEXEC'), num(0)], 'open a socket to configure lo');
      plan.add('ioctl', [fd, num(SIOCSIFFLAGS, 'SIOCSIFFLAGS'), bytes(ifreq('lo', LO_FLAGS), '{"lo", IFF_UP|IFF_LOOPBACK|IFF_RUNNING}')], 'bring lo up');
      plan.close(fd, { label: 'close the socket' });
    },
  };
}
