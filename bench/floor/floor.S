/* The floor kernel: the smallest PVH image that writes one byte to the console and
 * exits through the same devices a unik image uses (debugcon status line, then
 * isa-debug-exit). Boot time of a real image is measured against this one. */

    .section .note.Xen, "a", @note
    .p2align 2
    .long 4                 /* name size: "Xen\0" */
    .long 4                 /* descriptor size */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .p2align 2
    .long floor_start       /* 32-bit physical entry address */

    .section .text, "ax", @progbits
    .code32
    .globl floor_start
floor_start:
    mov $0x3f8, %dx         /* COM1 */
    mov $'!', %al
    out %al, %dx
    mov $0xe9, %dx          /* debugcon: the exit status line unik run reads */
    lea status_line, %esi
    mov $status_line_end - status_line, %ecx
1:  lodsb
    out %al, %dx
    loop 1b
    mov $0xf4, %dx          /* isa-debug-exit */
    xor %eax, %eax
    out %eax, %dx
2:  hlt
    jmp 2b

    .section .rodata, "a", @progbits
status_line:
    .ascii "exit 0\n"
status_line_end:
