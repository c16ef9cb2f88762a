// Chapter 4: the UTS namespace — a hostname of the container's own.
import { uts, hostname, domainname } from '@nsk/uts';
import { defineChapter } from '../../src/chapter.ts';
import { nsInode, run } from '../../src/lab.ts';

export interface UtsObservation {
  host: { before: string; after: string; domain: string; ns: number };
  container: { hostname: string; domainname: string; ns: number };
}

/** A child sets `name` (and a NIS domain) in a new UTS namespace; the host reads its own before and after. */
export async function observe(name: string, domain = 'nsk.example'): Promise<UtsObservation> {
  const before = hostname();
  let ns = 0;
  const r = await run(
    { argv: ['/bin/busybox', 'sh', '-c', 'hostname; cat /proc/sys/kernel/domainname; sleep 0.2'], features: [uts({ hostname: name, domainname: domain })] },
    (child) => { ns = nsInode(child.pid, 'uts'); },
  );
  if (r.code !== 0) throw new Error(`the container exited ${r.status}: ${r.stderr}`);
  const [h = '', d = ''] = r.stdout.trim().split('\n');
  return {
    host: { before, after: hostname(), domain: domainname(), ns: nsInode('self', 'uts') },
    container: { hostname: h, domainname: d, ns },
  };
}

export default defineChapter({
  n: 4,
  slug: 'uts',
  title: 'The UTS namespace',
  titleKo: 'UTS 네임스페이스',
  async run(show) {
    show.say('A child in a new UTS namespace calls sethostname("container-4") and setdomainname("nsk.example") before it runs busybox hostname.');
    const o = await observe('container-4');
    show.sideBySide({
      host: `uts namespace ${o.host.ns}\nhostname before: ${o.host.before}\nhostname after:  ${o.host.after}\ndomainname: ${o.host.domain}`,
      container: `uts namespace ${o.container.ns}\nhostname: ${o.container.hostname}\n\ndomainname: ${o.container.domainname}`,
    });
  },
});
