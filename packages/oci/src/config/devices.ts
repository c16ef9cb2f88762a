// config.json `linux.devices`: device nodes made in the container's /dev
// (mknod(2) needs CAP_MKNOD in the initial user namespace: in a new user
// namespace the host's node is bound instead, as runc does).
import { array, bad, integer, known, object, optInteger, string, absolute } from './json.ts';

export interface DeviceSpec { path: string; type: 'c' | 'b' | 'u' | 'p'; major: number; minor: number; fileMode: number; uid: number; gid: number }

export function checkDevices(v: unknown): DeviceSpec[] {
  if (v === undefined || v === null) return [];
  return array('linux.devices', v).map((d, i) => {
    const f = `linux.devices[${i}]`;
    const o = object(f, d);
    known(f, o, ['path', 'type', 'major', 'minor', 'fileMode', 'uid', 'gid']);
    const path = absolute(`${f}.path`, o.path);
    if (!path.startsWith('/dev/')) bad(`${f}.path`, `must be under /dev: ${path}`);
    const type = string(`${f}.type`, o.type);
    if (!['c', 'b', 'u', 'p'].includes(type)) bad(`${f}.type`, `'c', 'b', 'u' or 'p', not ${JSON.stringify(type)}`);
    const needsNumbers = type !== 'p';
    return {
      path, type: type as DeviceSpec['type'],
      major: needsNumbers ? integer(`${f}.major`, o.major, 0) : 0,
      minor: needsNumbers ? integer(`${f}.minor`, o.minor, 0) : 0,
      fileMode: optInteger(`${f}.fileMode`, o.fileMode, 0, 0o7777) ?? 0o666,
      uid: optInteger(`${f}.uid`, o.uid, 0) ?? 0,
      gid: optInteger(`${f}.gid`, o.gid, 0) ?? 0,
    };
  });
}
