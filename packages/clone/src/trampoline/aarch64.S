// nsk plan trampoline for aarch64 (AAPCS64, Linux syscalls).
//
// glibc's clone(fn, stack, flags, arg) calls fn(arg) in the child, so the plan's
// address arrives in x0. The child walks the plan's steps and makes each
// syscall; no libc, no stack beyond a 16-byte scratch slot, nothing that needs
// JavaScript (DESIGN.md §1: no JavaScript can run in a forked child).
//
// Plan layout and semantics: exactly those of x86_64.S (see ../plan/layout.ts):
//   header, 16 bytes:  +0 u64 error-pipe fd   +8 reserved
//   steps, 64 bytes each, from +16:
//     +0  i64 syscall number (negative: end of plan)
//     +8 .. +48  a0 .. a5
//     +56 u16 tolerated errno (0: none)
//     +58 u8  indirect mask: bit i set = ai is an address; pass the u64 stored there
//     +59 u8  flags: bit 0 = a zero result is a failure, reported as EPIPE
//     +60 u32 result offset: when nonzero, store the result at plan + offset
//
// A failing step writes {u32 step index, i32 errno} to the error pipe and the
// child exits with status 127. The error pipe is O_CLOEXEC, so a successful
// execve closes it and the parent reads EOF.
//
// Registers: x19 = plan, x20 = current step, w21 = step index, w22 = mask;
// w9, w10 scratch. svc #0 takes the number in x8, arguments in x0..x5, and
// clobbers only x0 (the result).

    .text
    .globl nsk_trampoline
    .type nsk_trampoline, %function
nsk_trampoline:
    mov x19, x0
    add x20, x0, #16
    mov w21, #0
next:
    ldr x8, [x20]
    tbnz x8, #63, die
    ldrb w22, [x20, #58]
    ldp x0, x1, [x20, #8]
    ldp x2, x3, [x20, #24]
    ldp x4, x5, [x20, #40]
    tbz w22, #0, 1f
    ldr x0, [x0]
1:  tbz w22, #1, 1f
    ldr x1, [x1]
1:  tbz w22, #2, 1f
    ldr x2, [x2]
1:  tbz w22, #3, 1f
    ldr x3, [x3]
1:  tbz w22, #4, 1f
    ldr x4, [x4]
1:  tbz w22, #5, 1f
    ldr x5, [x5]
1:  svc #0
    cmn x0, #4095               // carry set: x0 >= -4095 unsigned, an -errno
    b.hs failed
    cbnz x0, store
    ldrb w9, [x20, #59]
    tbz w9, #0, store
    mov x0, #-32                // EPIPE: e.g. read() of the sync pipe saw EOF
failed:
    neg w9, w0                  // errno
    ldrh w10, [x20, #56]
    cmp w10, w9
    b.eq store                  // tolerated (a zero field never equals an errno)
    sub sp, sp, #16             // scratch slot; sp stays 16-byte aligned
    stp w21, w9, [sp]
    ldr w0, [x19]
    mov x1, sp
    mov x2, #8
    mov x8, #64                 // write(errfd, {index, errno}, 8)
    svc #0
    b die
store:
    ldr w9, [x20, #60]
    cbz w9, advance
    str x0, [x19, x9]
advance:
    add x20, x20, #64
    add w21, w21, #1
    b next
die:
    mov x0, #127
    mov x8, #94                 // exit_group(127)
    svc #0
    brk #0
