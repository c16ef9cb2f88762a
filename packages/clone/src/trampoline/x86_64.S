# nsk plan trampoline for x86_64 (System V ABI, Linux syscalls).
#
# glibc's clone(fn, stack, flags, arg) calls fn(arg) in the child, so the plan's
# address arrives in rdi. The child walks the plan's steps and makes each
# syscall; no libc, no stack beyond 8 bytes, nothing that needs JavaScript
# (DESIGN.md §1: no JavaScript can run in a forked child).
#
# Plan layout (little-endian; see ../plan/layout.ts):
#   header, 16 bytes:  +0 u64 error-pipe fd   +8 reserved
#   steps, 64 bytes each, from +16:
#     +0  i64 syscall number (negative: end of plan)
#     +8 .. +48  a0 .. a5
#     +56 u16 tolerated errno (0: none)
#     +58 u8  indirect mask: bit i set = ai is an address; pass the u64 stored there
#     +59 u8  flags: bit 0 = a zero result is a failure, reported as EPIPE
#     +60 u32 result offset: when nonzero, store the result at plan + offset
#
# A failing step writes {u32 step index, i32 errno} to the error pipe and the
# child exits with status 127. The error pipe is O_CLOEXEC, so a successful
# execve closes it and the parent reads EOF.
#
# Registers: r12 = plan, rbx = current step, r13 = step index, r14 = mask.
# syscall clobbers only rax, rcx and r11.

    .intel_syntax noprefix
    .text
    .globl nsk_trampoline
nsk_trampoline:
    mov r12, rdi
    lea rbx, [rdi + 16]
    xor r13d, r13d
next:
    mov rax, [rbx]
    test rax, rax
    js die
    movzx r14d, byte ptr [rbx + 58]
    mov rdi, [rbx + 8]
    test r14b, 1
    jz 1f
    mov rdi, [rdi]
1:  mov rsi, [rbx + 16]
    test r14b, 2
    jz 1f
    mov rsi, [rsi]
1:  mov rdx, [rbx + 24]
    test r14b, 4
    jz 1f
    mov rdx, [rdx]
1:  mov r10, [rbx + 32]
    test r14b, 8
    jz 1f
    mov r10, [r10]
1:  mov r8, [rbx + 40]
    test r14b, 16
    jz 1f
    mov r8, [r8]
1:  mov r9, [rbx + 48]
    test r14b, 32
    jz 1f
    mov r9, [r9]
1:  syscall
    cmp rax, -4095
    jae failed
    test rax, rax
    jnz store
    test byte ptr [rbx + 59], 1
    jz store
    mov rax, -32                # EPIPE: e.g. read() of the sync pipe saw EOF
failed:
    mov edx, eax
    neg edx                     # errno
    movzx ecx, word ptr [rbx + 56]
    cmp ecx, edx
    je store                    # tolerated (a zero field never equals an errno)
    push rdx                    # scratch slot
    mov dword ptr [rsp], r13d
    mov dword ptr [rsp + 4], edx
    mov edi, dword ptr [r12]
    mov rsi, rsp
    mov edx, 8
    mov eax, 1                  # write(errfd, {index, errno}, 8)
    syscall
    jmp die
store:
    mov ecx, dword ptr [rbx + 60]
    test ecx, ecx
    jz advance
    mov [r12 + rcx], rax
advance:
    add rbx, 64
    inc r13d
    jmp next
die:
    mov edi, 127
    mov eax, 231                # exit_group(127)
    syscall
    hlt
