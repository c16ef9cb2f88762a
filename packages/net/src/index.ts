export { Handle, type LinkRef, type RouteSpec, type HandleOptions } from './handle.ts';
export {
  linkList, linkByName, linkByIndex, linkAdd, linkDel, linkSet, linkSetUp, linkSetDown, linkSetMTU,
  linkSetHardwareAddr, linkSetName, linkSetMaster, linkSetNsPid, linkSetNsFd,
  addrAdd, addrDel, addrList, routeAdd, routeReplace, routeDel, routeList,
} from './api.ts';
export type { Link, LinkSpec, LinkChange, NetnsTarget, VethPeer } from './nl/link.ts';
export type { Addr, AddrOptions } from './nl/addr.ts';
export type { Route } from './nl/route.ts';
export { NetlinkSocket } from './socket.ts';
export { inNetns, netnsNew, netnsOpen, ownNetnsFd, type Netns } from './netns.ts';
export { parseCidr, cidrContains, ipBytes, ipString, type Cidr } from './ip.ts';
export { checkLinkName } from './names.ts';
export { IFA_F, IFF, RT_SCOPE, RT_TABLE, RTPROT, RTN } from './nl/consts.ts';
export { network, DEFAULT_BRIDGE, DEFAULT_SUBNET, DEFAULT_STATE_DIR, type NetworkOptions, type NetworkFeature, type NetworkMode, type Attachment } from './network.ts';
export { LeaseStore, type Lease, type LeaseFile } from './ipam.ts';
export { PortProxy, parsePublish, probePort, connectFrom, type PortMapping } from './ports.ts';
export { hostsContent, resolvConfContent } from './etc-files.ts';
export { releaseNetwork, type ReleaseOptions, type Released } from './release.ts';
