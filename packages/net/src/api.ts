// Package-level calls: the same methods as Handle, on one Handle opened in
// this process's own network namespace on first use (vishvananda/netlink's
// pkgHandle).
import { Handle } from './handle.ts';

let pkg: Handle | undefined;
const h = (): Handle => (pkg ??= Handle.open());

export const linkList: Handle['linkList'] = () => h().linkList();
export const linkByName: Handle['linkByName'] = (name) => h().linkByName(name);
export const linkByIndex: Handle['linkByIndex'] = (index) => h().linkByIndex(index);
export const linkAdd: Handle['linkAdd'] = (spec) => h().linkAdd(spec);
export const linkDel: Handle['linkDel'] = (link) => h().linkDel(link);
export const linkSet: Handle['linkSet'] = (link, change) => h().linkSet(link, change);
export const linkSetUp: Handle['linkSetUp'] = (link) => h().linkSetUp(link);
export const linkSetDown: Handle['linkSetDown'] = (link) => h().linkSetDown(link);
export const linkSetMTU: Handle['linkSetMTU'] = (link, mtu) => h().linkSetMTU(link, mtu);
export const linkSetHardwareAddr: Handle['linkSetHardwareAddr'] = (link, mac) => h().linkSetHardwareAddr(link, mac);
export const linkSetName: Handle['linkSetName'] = (link, name) => h().linkSetName(link, name);
export const linkSetMaster: Handle['linkSetMaster'] = (link, master) => h().linkSetMaster(link, master);
export const linkSetNsPid: Handle['linkSetNsPid'] = (link, pid) => h().linkSetNsPid(link, pid);
export const linkSetNsFd: Handle['linkSetNsFd'] = (link, fd) => h().linkSetNsFd(link, fd);
export const addrAdd: Handle['addrAdd'] = (link, cidr, o) => h().addrAdd(link, cidr, o);
export const addrDel: Handle['addrDel'] = (link, cidr) => h().addrDel(link, cidr);
export const addrList: Handle['addrList'] = (link, family) => h().addrList(link, family);
export const routeAdd: Handle['routeAdd'] = (r) => h().routeAdd(r);
export const routeReplace: Handle['routeReplace'] = (r) => h().routeReplace(r);
export const routeDel: Handle['routeDel'] = (r) => h().routeDel(r);
export const routeList: Handle['routeList'] = (family, table) => h().routeList(family, table);
