// config.json → OciSpec: the whole bundle checked before anything is made.
// Every value nsk-runtime cannot honor fails by its JSON path; nothing is
// ignored silently.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Filter } from '@nsk/seccomp';
import type { IdRange } from '@nsk/user';
import { checkHostname } from '@nsk/uts';
import { ValidationError } from '@nsk/syscall';
import { absolute, bad, known, object, optObject, optString, string, strings, unsupported, type Json } from './json.ts';
import { checkProcess, type ProcessSpec } from './process.ts';
import { checkMounts, checkPropagation, checkRoot, type MountSpec, type RootSpec } from './mounts.ts';
import { checkIdMappings, checkNamespaces, type NamespaceSpec } from './namespaces.ts';
import { checkResources, type ResourcesSpec } from './resources.ts';
import { checkDevices, type DeviceSpec } from './devices.ts';
import { checkHooks, type Hooks } from './hooks.ts';
import { checkSeccomp } from './seccomp.ts';
import type { TimeOptions } from '@nsk/time';
import { checkTimeOffsets } from './time.ts';

export interface OciSpec {
  bundle: string;
  ociVersion: string;
  process: ProcessSpec;
  root: RootSpec;
  hostname: string | null;
  domainname: string | null;
  mounts: MountSpec[];
  namespaces: NamespaceSpec[];
  uidMappings: IdRange[];
  gidMappings: IdRange[];
  devices: DeviceSpec[];
  cgroupsPath: string | null;
  resources: ResourcesSpec;
  sysctl: Record<string, string>;
  seccomp: Filter | null;
  maskedPaths: string[];
  readonlyPaths: string[];
  rootfsPropagation: number;
  /** Clock offsets of a new time namespace (null: none given). */
  timeOffsets: TimeOptions | null;
  hooks: Hooks;
  annotations: Record<string, string>;
}

const TOP = ['ociVersion', 'process', 'root', 'hostname', 'domainname', 'mounts', 'hooks', 'annotations', 'linux', 'solaris', 'windows', 'vm', 'zos'];
const LINUX = ['namespaces', 'uidMappings', 'gidMappings', 'timeOffsets', 'devices', 'netDevices', 'cgroupsPath', 'rootfsPropagation', 'resources', 'intelRdt', 'sysctl', 'seccomp', 'maskedPaths', 'readonlyPaths', 'mountLabel', 'personality', 'memoryPolicy'];

function stringMap(path: string, v: unknown): Record<string, string> {
  const o = optObject(path, v) ?? {};
  for (const [k, x] of Object.entries(o)) string(`${path}.${k}`, x);
  return o as Record<string, string>;
}

/** Checks a parsed config.json of the bundle at `bundle` (absolute). */
export function checkConfig(raw: unknown, bundle: string): OciSpec {
  const c = object('', raw);
  known('', c, TOP);
  for (const k of ['solaris', 'windows', 'vm', 'zos']) unsupported(k, c[k], 'not a Linux container');
  const ociVersion = string('ociVersion', c.ociVersion ?? bad('ociVersion', 'required'));
  if (!/^1\.\d+\.\d+/.test(ociVersion)) bad('ociVersion', `nsk-runtime speaks runtime-spec 1.x, not ${JSON.stringify(ociVersion)}`);
  const l: Json = optObject('linux', c.linux) ?? {};
  known('linux', l, LINUX);
  unsupported('linux.mountLabel', l.mountLabel, 'nsk does not set SELinux labels');
  unsupported('linux.intelRdt', l.intelRdt, 'resctrl is not driven by nsk');
  unsupported('linux.personality', l.personality, 'personality(2) is not planned by nsk-runtime yet');
  unsupported('linux.memoryPolicy', l.memoryPolicy, 'set_mempolicy(2) is not planned by nsk-runtime yet');
  unsupported('linux.netDevices', l.netDevices, 'moving host network devices is not done by nsk-runtime');

  const process = checkProcess(c.process ?? bad('process', 'required to create a container'));
  const root = checkRoot(c.root, bundle);
  const namespaces = checkNamespaces(l.namespaces);
  const has = (t: string) => namespaces.some((n) => n.type === t);
  const fresh = (t: string) => namespaces.some((n) => n.type === t && n.path === null);
  const hostname = optString('hostname', c.hostname) || null;
  const domainname = optString('domainname', c.domainname) || null;
  if (hostname !== null) {
    if (!has('uts')) bad('hostname', 'setting a hostname needs a uts namespace of the container’s own (linux.namespaces)');
    try { checkHostname(hostname, 'hostname'); } catch (err) { if (err instanceof ValidationError) bad('hostname', err.message.slice(err.field.length + 2)); throw err; }
  }
  if (domainname !== null && !has('uts')) bad('domainname', 'needs a uts namespace of the container’s own');
  if (!fresh('mount')) bad('linux.namespaces', 'nsk-runtime needs a new mount namespace for the rootfs (add { "type": "mount" })');
  const uidMappings = checkIdMappings('linux.uidMappings', l.uidMappings);
  const gidMappings = checkIdMappings('linux.gidMappings', l.gidMappings);
  if (fresh('user') && (uidMappings.length === 0 || gidMappings.length === 0)) bad(uidMappings.length ? 'linux.gidMappings' : 'linux.uidMappings', 'a new user namespace needs its uid and gid mappings');
  if (!fresh('user') && (uidMappings.length || gidMappings.length)) bad('linux.uidMappings', 'mappings are for a new user namespace (linux.namespaces has none)');
  if (namespaces.some((n) => n.type === 'mount' && n.path !== null)) bad('linux.namespaces', 'joining a mount namespace by path is not supported (the rootfs needs a new one)');

  const sysctl = stringMap('linux.sysctl', l.sysctl);
  for (const k of Object.keys(sysctl)) {
    if (!/^[a-z0-9_]+([./][a-z0-9_-]+)*$/i.test(k) || k.includes('..')) bad(`linux.sysctl.${k}`, 'not a sysctl name');
    // sysctl(8) names in namespaces nsk made: net.* needs a new network
    // namespace, kernel.{shm*,msg*,sem} and fs.mqueue.* an IPC one.
    const ipc = /^(kernel\.(shm|msg|sem)|fs\.mqueue\.)/.test(k);
    const net = k.startsWith('net.');
    const uts = k === 'kernel.hostname' || k === 'kernel.domainname';
    if (!((ipc && fresh('ipc')) || (net && fresh('net')) || (uts && fresh('uts')))) bad(`linux.sysctl.${k}`, 'only sysctls of a namespace the container owns (net.*, kernel.shm*/msg*/sem, fs.mqueue.*, kernel.hostname) are allowed');
  }
  const cgroupsPath = optString('linux.cgroupsPath', l.cgroupsPath) || null;
  if (cgroupsPath !== null) {
    if (cgroupsPath.includes(':')) bad('linux.cgroupsPath', `${JSON.stringify(cgroupsPath)} is a systemd slice:prefix:name path; nsk-runtime manages cgroupfs directly (use the cgroupfs manager)`);
    if (cgroupsPath.split('/').some((p) => p === '..' || p === '.')) bad('linux.cgroupsPath', 'must not contain . or ..');
  }
  const seccomp = checkSeccomp(l.seccomp, process.capabilities.bounding);
  return {
    bundle,
    ociVersion,
    process,
    root,
    hostname,
    domainname,
    mounts: checkMounts(c.mounts, bundle),
    namespaces,
    uidMappings,
    gidMappings,
    devices: checkDevices(l.devices),
    cgroupsPath,
    resources: checkResources(l.resources),
    sysctl,
    seccomp,
    maskedPaths: l.maskedPaths === undefined ? [] : strings('linux.maskedPaths', l.maskedPaths).map((p, i) => absolute(`linux.maskedPaths[${i}]`, p)),
    readonlyPaths: l.readonlyPaths === undefined ? [] : strings('linux.readonlyPaths', l.readonlyPaths).map((p, i) => absolute(`linux.readonlyPaths[${i}]`, p)),
    rootfsPropagation: checkPropagation('linux.rootfsPropagation', l.rootfsPropagation),
    timeOffsets: checkTimeOffsets(l.timeOffsets, fresh('time')),
    hooks: checkHooks(c.hooks),
    annotations: stringMap('annotations', c.annotations),
  };
}

/** Reads and checks BUNDLE/config.json. */
export function loadConfig(bundleDir: string): OciSpec {
  const bundle = resolve(bundleDir);
  let text: string;
  try {
    text = readFileSync(`${bundle}/config.json`, 'utf8');
  } catch (err) {
    throw new ValidationError('bundle', `cannot read ${bundle}/config.json: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ValidationError('config.json', `not JSON: ${(err as Error).message}`);
  }
  return checkConfig(raw, bundle);
}
