// Run by the escape tests through testkit's runAsUser, as nobody: one
// scenario of hardening-scenarios.ts with rootless containers, over the lab
// the root test process built. Prints one line of JSON.
// Arguments: SCENARIO LAB_DIR [ARG_JSON]
import { labAt } from './hardening-lab.ts';
import { SCENARIOS } from './hardening-scenarios.ts';

const [name, dir, arg] = process.argv.slice(2);
const scenario = name === undefined ? undefined : SCENARIOS[name];
if (!scenario || !dir) throw new Error(`usage: hardening-fixture.ts SCENARIO LAB_DIR [ARG_JSON]; scenarios: ${Object.keys(SCENARIOS).join(' ')}`);
const out = await scenario(labAt(dir), true, JSON.parse(arg ?? '{}') as Record<string, unknown>);
process.stdout.write(`${JSON.stringify(out)}\n`);
