#!/usr/bin/python3
# Compiles a resolved policy (JSON from seccomp.bench.ts) with libseccomp, through
# Debian's python3-seccomp, and writes the raw BPF (struct sock_filter[]):
#   /usr/bin/python3 libseccomp.py policy.json out-linear.bpf out-tree.bpf
# out-linear: libseccomp's default output (a chain of one test per call).
# out-tree:   SCMP_FLTATR_CTL_OPTIMIZE=2, its binary tree over call numbers.
import json
import sys

import seccomp

ARCHES = {"x86_64": seccomp.Arch.X86_64, "aarch64": seccomp.Arch.AARCH64}
OPS = {
    "ne": seccomp.NE, "lt": seccomp.LT, "le": seccomp.LE, "eq": seccomp.EQ,
    "ge": seccomp.GE, "gt": seccomp.GT, "masked-eq": seccomp.MASKED_EQ,
}


def action(a):
    kind, data = a["kind"], a["data"]
    return {
        "allow": lambda: seccomp.ALLOW,
        "errno": lambda: seccomp.ERRNO(data),
        "kill-process": lambda: seccomp.KILL_PROCESS,
        "kill-thread": lambda: seccomp.KILL,
        "trap": lambda: seccomp.TRAP,
        "trace": lambda: seccomp.TRACE(data),
        "log": lambda: seccomp.LOG,
        "user-notify": lambda: seccomp.NOTIFY,
    }[kind]()


def build(policy, optimize):
    default = policy["defaultAction"]
    f = seccomp.SyscallFilter(action(default))
    # A foreign ABI kills the process, as in ours.
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    native = seccomp.system_arch()
    for arch in policy["arches"]:
        if ARCHES[arch] != native and not f.exist_arch(ARCHES[arch]):
            f.add_arch(ARCHES[arch])
    if optimize == 2:
        f.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)
    for rule in policy["rules"]:
        # libseccomp refuses a rule whose action is the default one.
        if rule["action"] == default:
            continue
        args = []
        for c in rule["conditions"]:
            value, two = int(c["value"]), int(c["valueTwo"])
            args.append(seccomp.Arg(c["index"], OPS[c["op"]], value, two))
        f.add_rule(action(rule["action"]), rule["name"], *args)
    return f


def main():
    policy = json.load(open(sys.argv[1]))
    for out, optimize in ((sys.argv[2], 1), (sys.argv[3], 2)):
        with open(out, "wb") as fh:
            build(policy, optimize).export_bpf(fh)


main()
