// Numbers from the uapi headers linux/netlink.h, linux/rtnetlink.h,
// linux/if_link.h, linux/if_addr.h, linux/if.h, linux/veth.h. The same on
// every architecture.

export const NETLINK_ROUTE = 0;
export const SOL_NETLINK = 270;
/** setsockopt: the kernel adds a text message to errors (netlink(7)). */
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

/** nlmsghdr.nlmsg_type for control messages. */
export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

/** nlmsghdr.nlmsg_flags. */
export const NLM_F = {
  REQUEST: 0x1, MULTI: 0x2, ACK: 0x4, ECHO: 0x8, DUMP_INTR: 0x10,
  ROOT: 0x100, MATCH: 0x200, DUMP: 0x300,
  REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, APPEND: 0x800,
  // in NLMSG_ERROR replies
  CAPPED: 0x100, ACK_TLVS: 0x200,
} as const;

/** Attributes after an NLMSG_ERROR with NLM_F_ACK_TLVS. */
export const NLMSGERR_ATTR = { MSG: 1, OFFS: 2 } as const;

export const RTM = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18, SETLINK: 19,
  NEWADDR: 20, DELADDR: 21, GETADDR: 22,
  NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26,
} as const;

export const RTM_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(RTM).map(([k, v]) => [v, `RTM_${k}`]));

export const IFLA = {
  ADDRESS: 1, BROADCAST: 2, IFNAME: 3, MTU: 4, LINK: 5, QDISC: 6, STATS: 7,
  MASTER: 10, TXQLEN: 13, OPERSTATE: 16, LINKMODE: 17, LINKINFO: 18, NET_NS_PID: 19,
  IFALIAS: 20, GROUP: 27, NET_NS_FD: 28, EXT_MASK: 29, PROMISCUITY: 30,
  NUM_TX_QUEUES: 31, NUM_RX_QUEUES: 32, CARRIER: 33, LINK_NETNSID: 37,
} as const;

export const IFLA_INFO = { KIND: 1, DATA: 2, XSTATS: 3, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;
export const VETH_INFO_PEER = 1;

export const IFA = {
  ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, ANYCAST: 5, CACHEINFO: 6, MULTICAST: 7, FLAGS: 8,
} as const;
/** if_addr.h: IFA_F_NODAD skips duplicate address detection (IPv6). */
export const IFA_F = { SECONDARY: 0x1, NODAD: 0x2, OPTIMISTIC: 0x4, DADFAILED: 0x8, HOMEADDRESS: 0x10, DEPRECATED: 0x20, TENTATIVE: 0x40, PERMANENT: 0x80 } as const;

export const RTA = {
  DST: 1, SRC: 2, IIF: 3, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, METRICS: 8,
  MULTIPATH: 9, TABLE: 15, PREF: 20,
} as const;

export const RT_TABLE = { UNSPEC: 0, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;
export const RTPROT = { UNSPEC: 0, REDIRECT: 1, KERNEL: 2, BOOT: 3, STATIC: 4, RA: 9, DHCP: 16 } as const;
export const RT_SCOPE = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 } as const;
export const RTN = { UNSPEC: 0, UNICAST: 1, LOCAL: 2, BROADCAST: 3, ANYCAST: 4, MULTICAST: 5, BLACKHOLE: 6, UNREACHABLE: 7, PROHIBIT: 8 } as const;

/** if.h: net_device_flags. */
export const IFF = { UP: 0x1, BROADCAST: 0x2, LOOPBACK: 0x8, POINTOPOINT: 0x10, RUNNING: 0x40, NOARP: 0x80, PROMISC: 0x100, MULTICAST: 0x1000, LOWER_UP: 0x10000 } as const;

/** RFC 2863 operational states, as IFLA_OPERSTATE carries them. */
export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type OperState = (typeof OPERSTATES)[number];

/** if_arp.h: hardware types a link dump reports. */
export const ARPHRD: Readonly<Record<number, string>> = { 1: 'ether', 772: 'loopback', 776: 'sit', 65534: 'none' };

/** if.h: IFNAMSIZ counts the NUL, so a name has at most 15 bytes. */
export const IFNAMSIZ = 16;

/** Header sizes. */
export const NLMSG_HDRLEN = 16;
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTMSG_LEN = 12;
export const NLA_HDRLEN = 4;
/** nla_type bits that are flags, not part of the type (netlink.h). */
export const NLA_TYPE_MASK = 0x3fff;
