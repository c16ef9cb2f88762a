// Plans are data, so they can be printed: `--explain` shows the exact system
// calls a container's first process makes, in order, like strace(1) would.
import { errnoName, type Arch } from '@nsk/syscall';
import type { Arg, Step } from './step.ts';

function showArg(arg: Arg): string {
  switch (arg.kind) {
    case 'num': return arg.show ?? String(arg.value);
    case 'str': return JSON.stringify(arg.value);
    case 'bytes': return arg.show;
    case 'strv': return `[${arg.value.map((s) => JSON.stringify(s)).join(', ')}]`;
    case 'ref': return `<result of step ${arg.step}>`;
  }
}

export function showStep(step: Step): string {
  const call = `${step.syscall}(${step.args.map(showArg).join(', ')})`;
  const extra = step.tolerate ? ` (${errnoName(step.tolerate)} is fine)` : '';
  return `${call}${extra}`;
}

/**
 * One line per step: index, call, and the step's sentence. Runs of the same
 * call with the same sentence (resetting 62 signals) fold into one line.
 */
export function explainSteps(steps: readonly Step[], _arch: Arch): string {
  const lines: string[] = [];
  for (let i = 0; i < steps.length; ) {
    const s = steps[i]!;
    let j = i + 1;
    while (j < steps.length && steps[j]!.syscall === s.syscall && steps[j]!.label === s.label) j++;
    const index = j - i > 1 ? `${i}-${j - 1}` : String(i);
    const call = j - i > 1 ? `${s.syscall}(…) ×${j - i}` : showStep(s);
    lines.push(`${index.padStart(5)}  ${call.padEnd(60)}  # ${s.label}`);
    i = j;
  }
  return lines.join('\n');
}
