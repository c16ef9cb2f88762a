// Chapter 7: the user namespace. An unprivileged user becomes root — inside
// a namespace it owns, where "root" means nothing on the host.
import { runFixture } from '@nsk/testkit';
import { defineChapter } from '../../src/chapter.ts';

export interface UserObservation {
  /** The uid the experiment ran as (nobody: 65534). */
  self: number;
  /** spawn with a UTS namespace and no user namespace: the error. */
  withoutUser: string;
  /** `id -u` inside the user namespace. */
  idInside: number;
  hostname: string;
  /** /proc/self/uid_map inside: "inside outside count". */
  uidMap: string;
  /** The same process's uid as the host sees it. */
  hostUid: number;
  code: number | null;
}

/** Runs as-nobody.ts as uid 65534 (with no capabilities) and returns what it saw. */
export function observe(): Promise<UserObservation> {
  return runFixture<UserObservation>({ script: new URL('./as-nobody.ts', import.meta.url).pathname });
}

export default defineChapter({
  n: 7,
  slug: 'user',
  title: 'The user namespace',
  titleKo: '사용자 네임스페이스',
  async run(show) {
    show.say('Everything below runs as nobody (uid 65534), with no capabilities.');
    const o = await observe();
    show.step('A UTS namespace, without a user namespace');
    show.sideBySide({ host: `uid ${o.self} asks clone(CLONE_NEWUTS)`, container: `refused: ${o.withoutUser}` });
    show.step('The same, inside a new user namespace that maps uid 0 to nobody');
    show.sideBySide({
      host: `/proc/PID/status says Uid ${o.hostUid}`,
      container: `id -u: ${o.idInside}\nhostname: ${o.hostname}\nuid_map: ${o.uidMap}`,
    });
  },
});
