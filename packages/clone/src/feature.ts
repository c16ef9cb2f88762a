// The Feature contract (DESIGN.md §3): how an isolation package takes part
// in starting a container. Each hook is optional.
import type { Plan } from './plan/plan.ts';

export interface ChildInfo {
  /** The child's pid, as this process sees it. */
  readonly pid: number;
}

export interface Feature {
  /** Shown in errors and in --explain: `'uts'`, `'cgroup'`. */
  readonly name: string;
  /** CLONE_NEW* bits the child is born with (clone(2)). */
  readonly cloneFlags?: number;
  /**
   * Adds the child's steps (mounts, hostname, seccomp …). Runs before clone;
   * must not touch the system. Steps run in the order features are given.
   */
  plan?(plan: Plan): void;
  /**
   * Runs synchronously just before clone(2) and returns what undoes it, run
   * right after. For namespaces that only affect children (pid, time):
   * setns(2) on the parent's main thread around the clone — never across an
   * await (DESIGN.md §1).
   */
  aroundClone?(): () => void;
  /**
   * Runs in the parent after clone(2), while the child waits at its first
   * step: write uid_map, attach to a cgroup, move a veth into its netns.
   */
  parent?(child: ChildInfo): void | Promise<void>;
  /**
   * Removes what `parent` made outside the container. Runs once, in reverse
   * feature order, when the child has ended — or when starting it failed
   * after clone(2), so it must remove what exists and ignore what was never
   * made. (Before clone there is nothing to clean: `plan` touches nothing,
   * and `aroundClone`'s undo releases what it took.)
   */
  cleanup?(child: ChildInfo): void | Promise<void>;
}
