// Packages only some containers need, loaded on first use: @nsk/net for a
// bridge (and a networkHost), @nsk/ns for exec() and the namespace inodes
// of a state, @nsk/user for a rootless container. `nsk run --net none`
// then never loads @nsk/net's and @nsk/user's 30 modules (~25 ms of its
// start-up), nor a library's run() @nsk/ns's 11.
//
// require() of an ES module (Node ≥ 22.12) loads it synchronously, so
// prepare() stays synchronous; later import()s get the same instance. In a
// bundle (esbuild) `require` is defined and each call below names its
// package literally, so the bundler includes the package and evaluates it
// on first use too.
import { createRequire } from 'node:module';

type Net = typeof import('@nsk/net');
type Ns = typeof import('@nsk/ns');
type User = typeof import('@nsk/user');

const load = createRequire(import.meta.url);
const bundled = typeof require === 'function';
let netModule: Net | undefined;
let nsModule: Ns | undefined;
let userModule: User | undefined;

export const net = (): Net => (netModule ??= (bundled ? require('@nsk/net') : load('@nsk/net')) as Net);
export const ns = (): Ns => (nsModule ??= (bundled ? require('@nsk/ns') : load('@nsk/ns')) as Ns);
export const user = (): User => (userModule ??= (bundled ? require('@nsk/user') : load('@nsk/user')) as User);
